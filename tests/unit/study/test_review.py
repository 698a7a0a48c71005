"""The 'review what you missed' schedule (study/review.py), on an injected clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from study import review

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)
MIN, DAY = timedelta(minutes=1), timedelta(days=1)


def _answer(card, correct, at):
    return review.step(card, "lora", "init", correct, at)


def test_a_right_answer_never_missed_schedules_nothing():
    assert _answer(None, True, T0) is None


def test_wrong_comes_back_after_a_delay_until_right_twice_in_a_row():
    card = _answer(None, False, T0)
    assert (card.box, card.streak, card.due_at) == (1, 0, T0 + 10 * MIN)
    assert not card.is_due(T0 + 9 * MIN) and card.is_due(T0 + 10 * MIN)
    # Right again at once, after reading the explanation: too early, nothing changes.
    assert _answer(card, True, T0 + MIN) == card
    # Right when it comes back: box 2, once in a row, back in a day.
    t1 = T0 + 15 * MIN
    card = _answer(card, True, t1)
    assert (card.box, card.streak, card.due_at) == (2, 1, t1 + DAY)
    assert not card.is_due(t1 + DAY - MIN)
    # Right the second time it comes back: learned, out of review.
    assert _answer(card, True, t1 + DAY) is None


def test_a_wrong_answer_starts_over_at_box_1():
    card = _answer(_answer(None, False, T0), True, T0 + 10 * MIN)
    assert card.streak == 1
    again = _answer(card, False, T0 + 2 * DAY)
    assert (again.box, again.streak, again.due_at) == (1, 0, T0 + 2 * DAY + 10 * MIN)
    card = _answer(again, True, again.due_at)
    assert (card.box, card.streak) == (2, 1)
    assert _answer(card, True, card.due_at) is None


def test_a_wrong_answer_before_it_is_due_also_resets_the_delay():
    card = _answer(_answer(None, False, T0), True, T0 + 10 * MIN)      # box 2, due tomorrow
    card = _answer(card, False, T0 + 20 * MIN)
    assert (card.box, card.streak, card.due_at) == (1, 0, T0 + 30 * MIN)


def test_delays_grow_with_the_box_and_stop_growing_at_the_last():
    assert [review.delay(b) for b in (1, 2, 3, 9)] == [10 * MIN, DAY, 3 * DAY, 3 * DAY]


def test_sqlite_naive_datetimes_are_read_as_utc():
    card = review.Card("l", "q", 1, 0, datetime(2026, 12, 5, 9, 10))   # naive, as SQLite returns it
    assert card.is_due(T0 + 10 * MIN) and not card.is_due(T0 + 9 * MIN)
