"""Item statistics of the teacher view (study/stats.py) on a synthetic class whose answers
are known, checked against scipy.stats.pointbiserialr and a hand-computed case."""
from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from study import db, questions, stats
from study.stats import Attempt

OPTS = (questions.Option("key", "the right one"), questions.Option("b", "a common misconception", "why b is wrong"),
        questions.Option("c", "a rarer one", "why c is wrong"), questions.Option("d", "nobody picks this", "why not d"))
BANK = {"L": tuple(questions.Question("L", qid, "choice", "t", "e", options=OPTS, answer="key")
                   for qid in ("easy", "medium", "hard", "fair", "fine", "reversed"))}
ABILITY = {f"s{i}": i for i in range(8)}          # learner s0 is the weakest, s7 the strongest
RIGHT = {"easy": lambda a: a >= 2, "medium": lambda a: a >= 4, "hard": lambda a: a >= 6,
         "fair": lambda a: a >= 3, "fine": lambda a: a >= 5,
         "reversed": lambda a: a < 4}             # 'reversed': the weak get it right (a wrong key?)


def _class() -> list[Attempt]:
    out = []
    for learner, a in ABILITY.items():
        for qid, rule in RIGHT.items():
            ok = rule(a)
            out.append(Attempt(learner, "L", qid, "key" if ok else ("c" if a == 0 else "b"), ok))
    out.append(Attempt("late", "L", "easy", "the right one", True))   # one answer only: no rest-score
    return out


def _rest(attempts, learner, item):
    others = [a.correct for a in attempts if a.learner == learner and a.question != item]
    return sum(others) / len(others)


def test_facility_discrimination_and_wrong_options_on_a_known_class():
    attempts = _class()
    got = {s.question: s for s in stats.item_stats(attempts, bank=BANK)}
    assert got["easy"].learners == 9 and got["easy"].facility == pytest.approx(7 / 9)
    assert got["medium"].facility == pytest.approx(4 / 8) and got["hard"].facility == pytest.approx(2 / 8)
    assert got["reversed"].facility == pytest.approx(4 / 8)
    for qid, s in got.items():
        xs = [int(RIGHT[qid](a)) for a in ABILITY.values()]
        ys = [_rest(attempts, l, qid) for l in ABILITY]
        assert s.rest_learners == 8                    # 'late' has no other answer: left out
        assert s.discrimination == pytest.approx(sps.pointbiserialr(xs, ys).statistic, abs=1e-12)
    assert got["medium"].discrimination > 0.3 and got["hard"].discrimination > 0.3
    assert got["reversed"].discrimination < 0 and got["reversed"].flagged
    assert [q for q, s in got.items() if s.flagged] == ["reversed"]
    # First tries: s0 picks c, s1 and s2 pick b on 'medium'; d is never chosen and still listed.
    assert got["medium"].wrong_options == {"b": 3, "c": 1, "d": 0}
    assert got["easy"].wrong_options == {"b": 1, "c": 1, "d": 0}   # answers stored by text map to ids


def test_point_biserial_by_hand():
    # x = 1 1 0 0 1, rest = 1 .5 .5 0 1: M1 = 2.5/3, M0 = .25, p = .6, s_n = sqrt(.14)
    x, y = [1, 1, 0, 0, 1], [1, .5, .5, 0, 1]
    by_hand = (2.5 / 3 - 0.25) / math.sqrt(0.14) * math.sqrt(0.6 * 0.4)
    assert by_hand == pytest.approx(0.763763, abs=1e-6)
    assert stats.point_biserial(x, y) == pytest.approx(by_hand, abs=1e-12)
    assert stats.point_biserial([1, 1, 1], [0, .5, 1]) is None      # no spread: undefined
    assert stats.point_biserial([0, 1], [1, 1]) is None


def test_discrimination_needs_five_learners():
    attempts = [a for a in _class() if a.learner in ("s1", "s3", "s5", "s7")]
    s = {s.question: s for s in stats.item_stats(attempts, bank=BANK)}
    assert s["medium"].learners == 4 and s["medium"].discrimination is None and not s["medium"].flagged
    more = attempts + [a for a in _class() if a.learner == "s6"]
    assert stats.item_stats(more, bank=BANK)[0].discrimination is not None


def test_the_rest_score_can_span_a_week():
    """One question per lesson: no rest-score within the lesson, one across the week."""
    attempts = [Attempt(l, lesson, "q", "x", RIGHT[rule](a))
                for l, a in ABILITY.items() for lesson, rule in (("A", "medium"), ("B", "hard"), ("C", "easy"))]
    by_lesson = stats.item_stats(attempts)
    assert all(s.discrimination is None and s.rest_learners == 0 for s in by_lesson)
    week = {s.lesson: s for s in stats.item_stats(attempts, group_of=lambda lesson: 1)}
    xs = [int(RIGHT["medium"](a)) for a in ABILITY.values()]
    ys = [(RIGHT["hard"](a) + RIGHT["easy"](a)) / 2 for a in ABILITY.values()]
    assert week["A"].discrimination == pytest.approx(sps.pointbiserialr(xs, ys).statistic, abs=1e-12)


def test_first_tries_come_from_the_database(tmp_path):
    eng = db.make_engine(f"sqlite:///{tmp_path / 's.sqlite'}")
    me, you = db.new_learner_id(), db.new_learner_id()
    db.record_answer(eng, me, "L", "medium", "b", False)
    db.record_answer(eng, me, "L", "medium", "key", True)      # a second try: not counted
    db.record_answer(eng, you, "L", "medium", "key", True)
    got = sorted(stats.first_tries(eng), key=lambda a: a.correct)
    assert [(a.learner, a.answer, a.correct) for a in got] == [(me, "b", False), (you, "key", True)]
    s, = stats.item_stats(got, bank=BANK)
    assert s.facility == 0.5 and s.wrong_options == {"b": 1, "c": 0, "d": 0}
    eng.dispose()
