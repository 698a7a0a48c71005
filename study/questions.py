"""The question bank: assets/questions/<lesson url>.toml, one file per lesson (format in
assets/questions/README.md). Loading validates every question, so a broken file fails
loudly in the tests, not on a learner's screen."""
from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS_DIR = Path(__file__).resolve().parent.parent / "assets" / "questions"
KINDS = ("choice", "predict")


class QuestionError(ValueError):
    pass


@dataclass(frozen=True)
class Question:
    lesson: str
    id: str
    kind: str
    text: str
    explain: str
    options: tuple[str, ...] = ()
    answer: int | None = None          # choice: index of the right option
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


def _validate(lesson: str, raw: dict) -> Question:
    where = f"{lesson}.toml question {raw.get('id', '?')!r}"
    for key in ("id", "kind", "text", "explain"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise QuestionError(f"{where}: '{key}' must be a non-empty string")
    kind = raw["kind"]
    if kind not in KINDS:
        raise QuestionError(f"{where}: kind must be one of {KINDS}")
    options = tuple(raw.get("options", ()))
    if options and (len(options) < 2 or len(set(options)) != len(options)
                    or not all(isinstance(o, str) and o.strip() for o in options)):
        raise QuestionError(f"{where}: options must be 2 or more different non-empty strings")
    answer = raw.get("answer")
    if kind == "choice":
        if not options:
            raise QuestionError(f"{where}: a choice question needs options")
        if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(options):
            raise QuestionError(f"{where}: answer must be an index into the {len(options)} options")
        if "check" in raw:
            raise QuestionError(f"{where}: a choice question has no check")
    else:
        from study import checks

        if answer is not None:
            raise QuestionError(f"{where}: a predict question's answer is computed, not written down")
        if raw.get("check") not in checks.CHECKS:
            raise QuestionError(f"{where}: unknown check {raw.get('check')!r}")
    tol = raw.get("tolerance", 0.0)
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not math.isfinite(tol) or tol < 0:
        raise QuestionError(f"{where}: tolerance must be a number >= 0")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise QuestionError(f"{where}: params must be a table")
    unknown = set(raw) - {"id", "kind", "text", "explain", "options", "answer", "check", "params", "tolerance", "unit"}
    if unknown:
        raise QuestionError(f"{where}: unknown fields {sorted(unknown)}")
    return Question(lesson, raw["id"], kind, raw["text"].strip(), raw["explain"].strip(), options,
                    answer, raw.get("check"), params, float(tol), str(raw.get("unit", "")))


def load_file(path: Path) -> list[Question]:
    lesson = path.stem
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise QuestionError(f"{path.name}: {exc}") from exc
    raw = data.get("question", [])
    if set(data) - {"question"}:
        raise QuestionError(f"{path.name}: only [[question]] tables are allowed")
    qs = [_validate(lesson, r) for r in raw]
    ids = [q.id for q in qs]
    if len(set(ids)) != len(ids):
        raise QuestionError(f"{path.name}: duplicate question ids")
    return qs


@functools.cache
def load_all(folder: Path = QUESTIONS_DIR) -> dict[str, tuple[Question, ...]]:
    """{lesson url: questions}, validated."""
    return {p.stem: tuple(load_file(p)) for p in sorted(Path(folder).glob("*.toml"))}


def for_lesson(url: str) -> tuple[Question, ...]:
    return load_all().get(url, ())


def find(lesson: str, qid: str) -> Question | None:
    return next((q for q in for_lesson(lesson) if q.id == qid), None)


def grade(q: Question, prediction, truth=None) -> bool:
    """Choice: prediction is the chosen option index. Predict: prediction is a number (within
    tolerance of `truth`) or an option text (equal to `truth`)."""
    if q.kind == "choice":
        return prediction == q.answer
    if q.options:
        return str(prediction) == str(truth)
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
