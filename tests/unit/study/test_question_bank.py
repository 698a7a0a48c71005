"""The question bank's CONTENT (assets/questions/*.toml), read straight from the TOML files:

- the answer key gives nothing away: across the choice questions it is the longest option in
  at most 35% of them (and the shortest in at most 35%), and no position in file order holds
  the key in more than 35% of them;
- every wrong option teaches: it has one line of feedback (no placeholder), no option text is
  repeated within a question, and no joke option ("It is random", "Always", "Never", ...);
- every numeric predict question discriminates: the truth (computed by its check, as the
  page does) is NOT within tolerance of any naive guess: 0, 1, the tolerance itself (the page
  shows it), every number written in the question's text, and the per-question guesses below
  (the default widget value, the typical slip).

`python tests/unit/study/test_question_bank.py` prints the naive-guess table and the shares.
"""
from __future__ import annotations

import functools
import math
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BANK = ROOT / "assets" / "questions"
MAX_SHARE = 0.35

# Options no learner would pick: they make a question easier, not better.
JOKES = {"it is random", "random", "always", "never", "nothing", "none of the above", "all of the above",
         "only for chat models", "it is a bug", "a rounding error", "for fun", "it has no tasks",
         "the tokenizer", "nobody", "it is not", "a legal requirement", "it is a legal requirement",
         "it becomes zero", "stops training", "their names", "the csv file size", "to hide them",
         "never ever", "magic", "i don't know"}

# Naive guesses beyond 0, 1 and the numbers in the text, per "<lesson>.<id>": the default
# widget value (or what the widget shows at its defaults) and the typical wrong model.
EXTRA_GUESSES: dict[str, dict[str, float]] = {
    "architectures.causal-count": {"all 6 x 6 cells": 36, "masked cells": 15},
    "benchmarks.reasoning-count": {"all of them": 5},
    "constitutional-ai.principles": {"every line, empty one too": 4},
    "data-quality.kept": {"half": 0.5, "most survives": 0.9, "min words default": 20, "boilerplate slider default": 0.3},
    "distillation.p-top": {"T = 1 value": 0.665, "uniform over 3": 1 / 3},
    "dpo.loss-at-start": {"beta": 0.1},
    "forgetting.adam-memory": {"weights only": 4, "weights + grads": 8, "+ activations rule": 24},
    "in-context-learning.tokens-per-example": {"label + separator only": 3, "a long sentence": 40},
    "lora-training.count": {"one layer": 4096, "full c_attn weights": 4 * 128 * 384},
    "lora.512x64": {"full matrix d x k": 512 * 64, "counter default r = 8": 4608, "r x d": 16 * 512},
    "model-summaries.messages": {"system + shots": 3, "no system": 5, "shots counted once": 4},
    "positional.neighbours": {"half": 0.5, "0.9": 0.9},
    "ppo.clip": {"unclipped": 1.5, "ratio 1": 1.0},
    "preferences-reward.pairs": {"k - 1": 4, "ordered pairs": 20, "widget default k = 4": 6},
    "preferences-reward.bt-loss": {"sigma(2) itself": 0.88, "ln 2 (no preference)": 0.693},
    "pretraining-live.untrained-loss": {"bits, log2 4096": 12.0},
    "pretraining-objectives.clm": {"every word": 8},
    "prompt-tuning.count": {"one vector": 128},
    "prompts-inference.template": {"role markers only": 13, "system message only": 15},
    "quantization.int8-7b": {"fp32 unchanged": 28, "fp16": 14, "int4": 3.5, "widget default 3 B": 3},
    "rag.chunks": {"overlap ignored, 100 / 40 rounded up": 3, "100 / stride 20": 5, "100 / 40": 2.5},
    "react.calc": {"3 + 1290": 1293},
    "reasoning.program": {"left to right": 250 * (6 + 2) * 6, "bikes only": 18},
    "reward-hacking.total": {"raw score": 1.0, "last-token KL only": 0.8, "penalty only": 0.4},
    "rouge-bleu.rouge2": {"ROUGE-1 F1": 5 / 6},
    "sampling.entropy-t03": {"log2 of the vocabulary": 15.58, "collapsed": 0.0},
    "sampling.top-p-confident": {"no cut": 49152, "a few": 10, "'2 + 2 =' value": 3},
    "scaling-laws.optimal-n": {"widget default (10^23.77 FLOPs)": 70.2, "tokens in billions": 577},
    "self-attention.causal-nonzero": {"all 7 x 7 cells": 49, "masked cells": 21},
    "tokens.gpt2-count": {"words": 2, "words + punctuation": 4, "characters": 27},
    "tokens.overflow": {"300 + 256": 556},
}

def numbers_in(text: str) -> list[float]:
    """Every number written in a question's text: '1,000,000' -> 1e6, 'fp32' -> 32,
    '1e23' -> 1e23, 'ROUGE-2' -> 2 (digits glued to letters count too: a learner sees them)."""
    out: list[float] = []
    for m in re.finditer(r"\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?", text, re.IGNORECASE):
        raw = m.group(0).rstrip(",")
        try:
            out.append(float(raw.replace(",", "")))
        except ValueError:
            continue
    return sorted(set(out))


def load_bank() -> dict[str, list[dict]]:
    return {p.stem: tomllib.loads(p.read_text(encoding="utf-8"))["question"] for p in sorted(BANK.glob("*.toml"))}


def choice_questions(bank=None):
    bank = bank if bank is not None else load_bank()
    return [(lesson, q) for lesson, qs in bank.items() for q in qs if q["kind"] == "choice"]


def shares(bank=None) -> dict:
    """Over the choice questions: the share whose key sits at each file position, and the
    share whose key is the longest (ties count) and the shortest option."""
    qs = choice_questions(bank)
    n = len(qs)
    pos: dict[int, int] = {}
    longest = shortest = 0
    for _lesson, q in qs:
        ids = [o["id"] for o in q["options"]]
        k = ids.index(q["answer"])
        pos[k] = pos.get(k, 0) + 1
        lens = [len(o["text"]) for o in q["options"]]
        longest += lens[k] == max(lens)
        shortest += lens[k] == min(lens)
    return {"n": n, "position": {k: v / n for k, v in sorted(pos.items())}, "position_count": dict(sorted(pos.items())),
            "longest": longest / n, "longest_count": longest, "shortest": shortest / n, "shortest_count": shortest}


# --------------------------------------------------------------------------- key position and length
def test_the_key_is_not_given_away_by_its_length():
    s = shares()
    assert s["n"] >= 60
    assert s["longest"] <= MAX_SHARE, f"the key is the longest option in {s['longest']:.0%} of choice questions"
    assert s["shortest"] <= MAX_SHARE, f"the key is the shortest option in {s['shortest']:.0%} of choice questions"


def test_no_position_holds_the_key_in_more_than_35_percent():
    s = shares()
    worst = max(s["position"].values())
    assert worst <= MAX_SHARE, f"key positions (file order): {s['position']}"


# --------------------------------------------------------------------------- options that teach
def test_every_wrong_option_has_feedback_and_no_option_is_a_joke_or_a_repeat():
    for lesson, qs in load_bank().items():
        for q in qs:
            opts = q.get("options", [])
            where = f"{lesson}.{q['id']}"
            texts = [o["text"].strip() for o in opts]
            assert len(set(t.casefold() for t in texts)) == len(texts), f"{where}: an option text is repeated"
            assert len({o["id"] for o in opts}) == len(opts), f"{where}: an option id is repeated"
            for o in opts:
                t = o["text"].strip().rstrip(".").casefold()
                assert t and t not in JOKES, f"{where}: joke or empty option {o['text']!r}"
                assert not re.fullmatch(r"(always|never|it is random|nothing)\b.{0,12}", t), \
                    f"{where}: joke option {o['text']!r}"
            if q["kind"] == "choice":
                assert q["answer"] in {o["id"] for o in opts}, f"{where}: the answer names no option"
                for o in opts:
                    if o["id"] == q["answer"]:
                        continue
                    fb = str(o.get("feedback", "")).strip()
                    assert fb and fb.upper() != "TODO" and "TODO" not in fb, \
                        f"{where}: wrong option {o['id']!r} needs one line of feedback"
                    assert "\n" not in fb, f"{where}: feedback of {o['id']!r} is one line"
            for o in opts:
                assert "TODO" not in str(o.get("feedback", "")), f"{where}: placeholder feedback"
            assert "TODO" not in q["explain"] and "TODO" not in q["text"]


def test_the_original_bank_failed_these_rules():
    """The shares before issue 23 (commit 587ed2a, positional options): kept as numbers so the
    report stays reproducible; the current bank must be far from them."""
    before = {"n": 72, "second_position": 60 / 72, "longest": 65 / 72}
    now = shares()
    assert now["longest"] < before["longest"] / 2
    assert max(now["position"].values()) < before["second_position"] / 2


# --------------------------------------------------------------------------- predict questions discriminate
class _Models:
    @staticmethod
    @functools.cache
    def smollm2():
        from lessons import models
        return models.load_smollm2()

    @staticmethod
    @functools.cache
    def minilm():
        from lessons import models
        return models.load_minilm()

    @staticmethod
    @functools.cache
    def tiny_gpt():
        from lessons import models
        return models.load_tiny_gpt()

    @staticmethod
    @functools.cache
    def gpt2_tokenizer():
        from lessons import models
        return models.load_gpt2_tokenizer()


def numeric_predicts(bank=None):
    bank = bank if bank is not None else load_bank()
    return [(lesson, q) for lesson, qs in bank.items() for q in qs
            if q["kind"] == "predict" and not q.get("options")]


def naive_guesses(lesson: str, q: dict) -> dict[str, float]:
    guesses = {"0": 0.0, "1": 1.0}
    if q.get("tolerance"):            # the page shows "counted right within ±tol": a number on screen
        guesses["the tolerance"] = float(q["tolerance"])
    for x in numbers_in(q["text"]):
        guesses.setdefault(f"in text: {x:g}", x)
    for name, x in EXTRA_GUESSES.get(f"{lesson}.{q['id']}", {}).items():
        guesses[name] = float(x)
    return guesses


def within(guess: float, truth: float, tol: float) -> bool:
    """The grading rule of study.questions.grade for numbers."""
    return abs(guess - truth) <= tol + 1e-9 * max(1.0, abs(truth))


def truth_of(q: dict):
    from study import checks
    return checks.run(q["check"], q.get("params", {}), _Models())


PREDICTS = numeric_predicts()


@pytest.mark.parametrize("lesson, q", PREDICTS, ids=[f"{lesson}.{q['id']}" for lesson, q in PREDICTS])
def test_naive_guesses_fall_outside_the_tolerance(lesson, q):
    from lessons import models

    try:
        truth = truth_of(q)
    except models.ModelUnavailable as exc:     # a model package is not installed here
        pytest.skip(str(exc))
    tol = float(q.get("tolerance", 0.0))
    assert isinstance(truth, (int, float)) and math.isfinite(truth)
    inside = {name: g for name, g in naive_guesses(lesson, q).items() if within(g, float(truth), tol)}
    assert not inside, f"{lesson}.{q['id']}: truth {truth} +- {tol}, naive guesses inside: {inside}"


def test_every_lesson_keeps_a_predict_question():
    for lesson, qs in load_bank().items():
        assert any(q["kind"] == "predict" for q in qs), lesson


def test_numbers_in_text_are_read_like_a_learner_reads_them():
    assert numbers_in("a 1,000,000-parameter model in fp32, 1e23 FLOPs, ROUGE-2 = 0.6") == [0.6, 2.0, 32.0, 1e6, 1e23]


# --------------------------------------------------------------------------- the report's table
def naive_table() -> list[dict]:
    rows = []
    for lesson, q in numeric_predicts():
        name = f"{lesson}.{q['id']}"
        try:
            truth = float(truth_of(q))
        except Exception as exc:   # noqa: BLE001 - printed, not hidden
            rows.append({"question": name, "truth": f"unavailable ({type(exc).__name__})"})
            continue
        tol = float(q.get("tolerance", 0.0))
        guesses = naive_guesses(lesson, q)
        rows.append({"question": name, "truth": truth, "tolerance": tol,
                     "guesses": {k: (g, not within(g, truth, tol)) for k, g in guesses.items()}})
    return rows


def main() -> None:
    s = shares()
    print(f"choice questions: {s['n']}")
    print("key position (file order): " + ", ".join(f"{k}: {s['position_count'][k]} ({v:.0%})"
                                                   for k, v in s["position"].items()))
    print(f"key is the longest option: {s['longest_count']} ({s['longest']:.0%}); "
          f"the shortest: {s['shortest_count']} ({s['shortest']:.0%})")
    print()
    print("| question | truth | tolerance | naive guesses (value: outside?) |")
    print("|---|---|---|---|")
    for r in naive_table():
        if "guesses" not in r:
            print(f"| {r['question']} | {r['truth']} | | |")
            continue
        g = "; ".join(f"{k} = {v:g}: {'outside' if ok else 'INSIDE'}" for k, (v, ok) in r["guesses"].items())
        print(f"| {r['question']} | {r['truth']:.4g} | {r['tolerance']:g} | {g} |")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    main()
