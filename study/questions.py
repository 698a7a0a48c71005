"""The question bank: assets/questions/<lesson url>.toml, one file per lesson (format in
assets/questions/README.md). Options are tables with an id; a choice question's answer is
the id of the right option, never a position, and every wrong option carries the feedback
shown when a learner picks it.

Loading validates every file. A broken file fails loudly in the tests (`load_all`); in the
app (`load_bank`, `for_lesson`) it is refused on its own: its lesson shows the message,
which names the file and the problem, and every other lesson keeps its questions."""
from __future__ import annotations

import functools
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS_DIR = Path(__file__).resolve().parent.parent / "assets" / "questions"
KINDS = ("choice", "predict")


class QuestionError(ValueError):
    pass


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    feedback: str = ""    # shown when a learner picks this option and it is wrong


@dataclass(frozen=True)
class Question:
    lesson: str
    id: str
    kind: str
    text: str
    explain: str
    options: tuple[Option, ...] = ()
    answer: str | None = None          # choice: the id of the right option (never a position)
    check: str | None = None           # predict: name in study.checks.CHECKS
    params: dict = field(default_factory=dict, hash=False, compare=False)
    tolerance: float = 0.0
    unit: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind == "predict" and not self.options

    @property
    def pollable(self) -> bool:
        return bool(self.options)

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    def option(self, oid: str | None) -> Option | None:
        return next((o for o in self.options if o.id == oid), None)

    def option_by_text(self, text) -> Option | None:
        return next((o for o in self.options if o.text == str(text)), None)

    def option_id(self, value) -> str | None:
        """An option id from an id or an option text (a predict check returns the text; a
        poll stores texts); None when it names no option."""
        if self.option(value) is not None:
            return value
        o = self.option_by_text(value)
        return o.id if o is not None else None

    @property
    def right(self) -> Option | None:
        """The right option of a choice question (a predict question's is computed)."""
        return self.option(self.answer)


_QUESTION_FIELDS = {"id", "kind", "text", "explain", "options", "answer", "check", "params", "tolerance", "unit"}
_OPTION_FIELDS = {"id", "text", "feedback"}


def _nonempty(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _options(where: str, kind: str, answer, raw) -> tuple[Option, ...]:
    if raw in (None, ()):
        return ()
    if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
        raise QuestionError(f"{where}: options must be [[question.options]] tables with an id and a text")
    out: list[Option] = []
    for i, o in enumerate(raw, 1):
        at = f"{where} option {o.get('id', i)!r}"
        if not _nonempty(o.get("id")):
            raise QuestionError(f"{at}: 'id' must be a non-empty string")
        if not _nonempty(o.get("text")):
            raise QuestionError(f"{at}: empty option text")
        fb = o.get("feedback", "")
        if not isinstance(fb, str):
            raise QuestionError(f"{at}: 'feedback' must be a string")
        unknown = set(o) - _OPTION_FIELDS
        if unknown:
            raise QuestionError(f"{at}: unknown fields {sorted(unknown)}")
        out.append(Option(o["id"].strip(), o["text"].strip(), fb.strip()))
    ids = [o.id for o in out]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        raise QuestionError(f"{where}: duplicate option id {dup[0]!r}")
    texts = [o.text for o in out]
    dup = sorted({x for x in texts if texts.count(x) > 1})
    if dup:
        raise QuestionError(f"{where}: two options have the same text {dup[0]!r}")
    if len(out) < 2:
        raise QuestionError(f"{where}: a question with options needs at least 2")
    if kind == "choice":
        if answer not in ids:
            raise QuestionError(f"{where}: answer {answer!r} names no option (option ids: {', '.join(ids)})")
        missing = [o.id for o in out if o.id != answer and not o.feedback]
        if missing:
            raise QuestionError(f"{where}: wrong option {missing[0]!r} has no feedback "
                                "(one line saying why it is wrong)")
    return tuple(out)


def _validate(lesson: str, raw: dict) -> Question:
    where = f"question {raw.get('id', '?')!r}"
    for key in ("id", "kind", "text", "explain"):
        if not _nonempty(raw.get(key)):
            raise QuestionError(f"{where}: '{key}' must be a non-empty string")
    kind = raw["kind"]
    if kind not in KINDS:
        raise QuestionError(f"{where}: kind must be one of {KINDS}")
    unknown = set(raw) - _QUESTION_FIELDS
    if unknown:
        raise QuestionError(f"{where}: unknown fields {sorted(unknown)}")
    answer = raw.get("answer")
    if kind == "choice":
        if not raw.get("options"):
            raise QuestionError(f"{where}: a choice question needs options")
        if not isinstance(answer, str):
            raise QuestionError(f"{where}: answer must be the id of the right option (a string), "
                                f"not {answer!r}")
        if "check" in raw:
            raise QuestionError(f"{where}: a choice question has no check")
    else:
        from study import checks

        if answer is not None:
            raise QuestionError(f"{where}: a predict question's answer is computed, not written down")
        if raw.get("check") not in checks.CHECKS:
            raise QuestionError(f"{where}: unknown check {raw.get('check')!r}")
    options = _options(where, kind, answer, raw.get("options"))
    tol = raw.get("tolerance", 0.0)
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not math.isfinite(tol):
        raise QuestionError(f"{where}: tolerance must be a number")
    if tol < 0:
        raise QuestionError(f"{where}: tolerance {tol} is below 0")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise QuestionError(f"{where}: params must be a table")
    return Question(lesson, raw["id"].strip(), kind, raw["text"].strip(), raw["explain"].strip(), options,
                    answer, raw.get("check"), params, float(tol), str(raw.get("unit", "")))


def load_file(path: Path) -> list[Question]:
    """One lesson's questions; QuestionError (its message starts with the file's name) when
    the file is broken in any way."""
    path = Path(path)
    lesson = path.stem
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise QuestionError(f"{path.name}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionError(f"{path.name}: cannot be read ({type(exc).__name__})") from exc
    if set(data) - {"question"}:
        raise QuestionError(f"{path.name}: only [[question]] tables are allowed")
    raw = data.get("question", [])
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise QuestionError(f"{path.name}: questions must be [[question]] tables")
    qs = []
    for r in raw:
        try:
            qs.append(_validate(lesson, r))
        except QuestionError as exc:
            raise QuestionError(f"{path.name}: {exc}") from None
    ids = [q.id for q in qs]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        raise QuestionError(f"{path.name}: duplicate question id {dup[0]!r}")
    return qs


@dataclass(frozen=True)
class Bank:
    """Every lesson's questions, and the files that were refused (lesson url -> message)."""
    questions: dict[str, tuple[Question, ...]]
    errors: dict[str, str]


@functools.cache
def load_bank(folder: Path = QUESTIONS_DIR) -> Bank:
    """Every file in `folder`; a broken file is refused ON ITS OWN (its lesson gets no questions
    and the message), every other lesson keeps its questions."""
    good: dict[str, tuple[Question, ...]] = {}
    bad: dict[str, str] = {}
    for p in sorted(Path(folder).glob("*.toml")):
        try:
            good[p.stem] = tuple(load_file(p))
        except QuestionError as exc:
            bad[p.stem] = str(exc)
    return Bank(good, bad)


def load_all(folder: Path = QUESTIONS_DIR) -> dict[str, tuple[Question, ...]]:
    """{lesson url: questions}, validated; raises QuestionError on the first broken file (for
    tests: the app uses load_bank/for_lesson, which refuse only the broken file)."""
    bank = load_bank(Path(folder))
    if bank.errors:
        raise QuestionError(next(iter(bank.errors.values())))
    return bank.questions


def for_lesson(url: str) -> tuple[Question, ...]:
    return load_bank().questions.get(url, ())


def error_for(url: str) -> str | None:
    """The message for a lesson whose question file was refused, else None."""
    return load_bank().errors.get(url)


def find(lesson: str, qid: str) -> Question | None:
    return next((q for q in for_lesson(lesson) if q.id == qid), None)


def shuffled(options, *seed) -> list:
    """`options` (anything with an .id, or strings) in an order that depends only on `seed`
    and the option ids: a hash-seeded permutation (sha256, not Python's salted hash()), so
    the same learner sees the same order after a reload, on any server, in any Python."""
    key = "\x1f".join(str(s) for s in seed)

    def rank(o):
        oid = getattr(o, "id", o)
        return hashlib.sha256(f"{key}\x1e{oid}".encode("utf-8")).digest()

    return sorted(options, key=rank)


def grade(q: Question, prediction, truth=None) -> bool:
    """Choice: prediction is the chosen option's id (or its text). Predict with options:
    prediction is an option id or text, `truth` the text the check returned. Numeric
    predict: prediction is a number within the tolerance of `truth`."""
    if q.kind == "choice":
        return prediction is not None and q.option_id(prediction) == q.answer
    if q.options:
        picked = q.option_id(prediction)
        return picked is not None and picked == q.option_id(truth)
    try:
        p, t = float(prediction), float(truth)
    except (TypeError, ValueError):
        return False
    return math.isfinite(p) and abs(p - t) <= q.tolerance + 1e-9 * max(1.0, abs(t))


def fmt_truth(value) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
