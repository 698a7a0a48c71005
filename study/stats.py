"""Item statistics for the teacher view, as learning platforms report them.

For every question, from each learner's FIRST try (later tries have seen the answer):

- facility: the share of learners right on the first try (1.0 = everybody, 0.0 = nobody);
- discrimination: the point-biserial correlation between being right on this item (0/1) and
  the learner's rest-score: the share right on the first try of the OTHER questions of the
  same lesson (or week) that this learner answered. A good item is answered right more
  often by learners who do well on the rest (positive); a negative value means the stronger
  learners miss it more often than the weaker ones: an ambiguous question or a wrong key, flagged
  for review. Shown only once at least MIN_LEARNERS learners with a rest-score answered it.
  (The share, not the sum, because learners answer different subsets; with every item
  answered the two differ by a constant factor and give the same correlation.)
- how often each wrong option was chosen on the first try (a distractor nobody picks
  teaches nothing).

``item_stats`` is pure (a list of first tries in, rows out); ``first_tries`` reads them from
the progress database. Learner ids stay inside: the rows name questions only.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from study import db
from study.questions import Question

MIN_LEARNERS = 5


@dataclass(frozen=True)
class Attempt:
    learner: str
    lesson: str
    question: str
    answer: str          # option id (older rows: option text), or the number typed
    correct: bool


@dataclass
class ItemStat:
    lesson: str
    question: str
    learners: int                       # learners who tried it
    facility: float                     # share right on the first try
    discrimination: float | None        # point-biserial vs rest-score; None: too few / undefined
    rest_learners: int                  # learners with a rest-score (used for discrimination)
    wrong_options: dict[str, int] = field(default_factory=dict)   # wrong option id -> first tries

    @property
    def flagged(self) -> bool:
        """Negative discrimination: stronger learners miss it more often. Review the item."""
        return self.discrimination is not None and self.discrimination < 0


def point_biserial(item: Sequence[float], rest: Sequence[float]) -> float | None:
    """Pearson's r between a 0/1 item and a score (= the point-biserial correlation
    r_pb = (M1 - M0) / s_n * sqrt(p q)); None when either has no spread."""
    n = len(item)
    if n != len(rest) or n < 2:
        return None
    mx, my = sum(item) / n, sum(rest) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(item, rest))
    sxx = sum((x - mx) ** 2 for x in item)
    syy = sum((y - my) ** 2 for y in rest)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)


def item_stats(first: Iterable[Attempt], group_of: Callable[[str], object] = lambda lesson: lesson,
               bank: Mapping[str, Sequence[Question]] | None = None,
               min_learners: int = MIN_LEARNERS) -> list[ItemStat]:
    """Per question (lesson, id), from first tries. `group_of(lesson)` names the set of questions
    that makes up the rest-score (the lesson itself, or its week). `bank` ({lesson: questions})
    maps answers to option ids and lists every wrong option, chosen or not."""
    tries: dict[tuple[str, str], dict[str, Attempt]] = defaultdict(dict)
    for a in first:
        tries[(a.lesson, a.question)].setdefault(a.learner, a)
    # learner -> group -> {item: 0/1}
    scores: dict[str, dict[object, dict[tuple[str, str], int]]] = defaultdict(lambda: defaultdict(dict))
    for item, by_learner in tries.items():
        for learner, a in by_learner.items():
            scores[learner][group_of(item[0])][item] = int(bool(a.correct))
    questions = {(l, q.id): q for l, qs in (bank or {}).items() for q in qs}
    out = []
    for item, by_learner in sorted(tries.items()):
        n = len(by_learner)
        right = sum(int(bool(a.correct)) for a in by_learner.values())
        xs, ys = [], []
        for learner, a in by_learner.items():
            others = [v for k, v in scores[learner][group_of(item[0])].items() if k != item]
            if others:
                xs.append(int(bool(a.correct)))
                ys.append(sum(others) / len(others))
        disc = point_biserial(xs, ys) if len(xs) >= min_learners else None
        q = questions.get(item)
        wrong: dict[str, int] = {}
        if q is not None and q.options:
            # Choice: every wrong option, chosen or not. Predict: the key is computed, so the
            # options that were picked by learners who got it wrong.
            wrong = {o.id: 0 for o in q.options if o.id != q.answer} if q.kind == "choice" else {}
            for a in by_learner.values():
                oid = q.option_id(a.answer)
                if not a.correct and oid is not None:
                    wrong[oid] = wrong.get(oid, 0) + 1
        out.append(ItemStat(item[0], item[1], n, right / n, disc, len(xs), wrong))
    return out


def first_tries(eng: Engine) -> list[Attempt]:
    """Each learner's first try at each question, from the progress database."""
    a = db.answers
    first = (select(func.min(a.c.id).label("first_id"))
             .group_by(a.c.learner_id, a.c.lesson, a.c.question).subquery())
    with db._read(eng) as c:
        rows = c.execute(select(a.c.learner_id, a.c.lesson, a.c.question, a.c.answer, a.c.correct)
                         .join(first, first.c.first_id == a.c.id)).all()
    return [Attempt(r.learner_id, r.lesson, r.question, r.answer, bool(r.correct)) for r in rows]
