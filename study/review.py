"""Review what you missed: a Leitner schedule for the questions a learner got wrong.

A wrong answer puts the question in box 1 (due again after ``DELAYS[0]``). A right answer
given while the question is due moves it up one box (a longer delay); two right answers in a
row, each given when due, take it out of review. A wrong answer at any time sends it back
to box 1 and restarts the count. A right answer before the question is due changes nothing:
re-answering right after reading the explanation is not remembering it.

``step`` is the schedule itself (pure, the clock is an argument); ``record`` / ``cards`` /
``due`` keep the cards in the progress database (table ``reviews`` in study/db.py), so a
learner's review list is wherever their progress is.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from study import db

# Box k waits DELAYS[k - 1] before the question comes back.
DELAYS = (timedelta(minutes=10), timedelta(days=1), timedelta(days=3))
RIGHT_IN_A_ROW = 2


@dataclass(frozen=True)
class Card:
    lesson: str
    question: str
    box: int
    streak: int
    due_at: datetime

    def is_due(self, now: datetime) -> bool:
        return _aware(self.due_at) <= _aware(now)


def _aware(t: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; everything here is UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def now() -> datetime:
    return datetime.now(timezone.utc)


def delay(box: int) -> timedelta:
    return DELAYS[min(max(box, 1), len(DELAYS)) - 1]


def step(card: Card | None, lesson: str, question: str, correct: bool, at: datetime) -> Card | None:
    """The schedule after one answer given at time `at`; None = not (or no longer) in review."""
    if not correct:
        return Card(lesson, question, 1, 0, at + delay(1))
    if card is None or not card.is_due(at):
        return card                      # never missed, or answered again before it came back
    streak = card.streak + 1
    if streak >= RIGHT_IN_A_ROW:
        return None                      # right twice in a row: learned
    box = card.box + 1
    return replace(card, box=box, streak=streak, due_at=at + delay(box))


# --------------------------------------------------------------------------- database
def _row_card(r) -> Card:
    return Card(r.lesson, r.question, int(r.box), int(r.streak), _aware(r.due_at))


def cards(eng: Engine, learner_id: str) -> list[Card]:
    """Every question this learner has in review, soonest due first."""
    with db._read(eng) as c:
        rows = c.execute(select(db.reviews).where(db.reviews.c.learner_id == learner_id)).all()
    return sorted((_row_card(r) for r in rows), key=lambda k: (k.due_at, k.lesson, k.question))


def due(eng: Engine, learner_id: str, at: datetime | None = None) -> list[Card]:
    """The questions due for review now (or at `at`)."""
    at = at or now()
    return [k for k in cards(eng, learner_id) if k.is_due(at)]


def record(eng: Engine, learner_id: str, lesson: str, question: str, correct: bool,
           at: datetime | None = None) -> Card | None:
    """Apply one answer to this learner's card for the question; returns the new card."""
    at = at or now()
    t = db.reviews
    key = (t.c.learner_id == learner_id, t.c.lesson == lesson[:80], t.c.question == question[:80])
    with eng.begin() as c:
        r = c.execute(select(t).where(*key)).first()
        old = _row_card(r) if r is not None else None
        new = step(old, lesson[:80], question[:80], correct, at)
        if new == old:
            return new
        if new is None:
            c.execute(t.delete().where(*key))
        elif old is None:
            db._add_learner(eng, c, learner_id, None)
            c.execute(t.insert().values(learner_id=learner_id, lesson=new.lesson, question=new.question,
                                        box=new.box, streak=new.streak, due_at=new.due_at))
        else:
            c.execute(t.update().where(*key).values(box=new.box, streak=new.streak, due_at=new.due_at))
    return new
