"""The domain-adaptation page's recorded runs (lessons.core.records): the table of its two
shipped domains, and continued pretraining at the page's defaults and at its Try-this settings.

Scoring the two shipped texts (1,024 tokens each) with SmolLM2-135M is the slowest part of the page's
first render (each record keeps its own CPU seconds), and the result is the same every time for the same texts, models, code and thread
count: so the page opens with the recorded table (labelled as recorded, "Measure live" one click
away) and a learner's own text is the only cell measured on the spot. The tests check that the
record is current and that measuring now gives the same figures.

Kind ``domain-adaptation``: settings = {"texts": {domain: sha256 of its text}, "block": 64,
"max_tokens": 1024}; fingerprints = both models' weights, torch's version and the thread count.
The JSON result: {"rows": [domain_adaptation.domain_row(...) for each model, for each domain]}.

Kind ``continued-pretraining``: a private copy of the tiny GPT trained on the modern text as the
page trains it (section 2); settings = {"steps", "lr", "every", "seed", "prompt"} (the page's
defaults, domain_adaptation.TRAIN_DEFAULTS, and the Try-this's other learning rates). The JSON
result: {"curve": [[step, ppl modern, ppl Shakespeare], ...], "losses": [per step],
"before_sample": str, "after_sample": str, "steps": n}. A training run trains on ONE torch
thread, as the pages' jobs do (ui/jobs.py).
"""
from __future__ import annotations

import hashlib

from lessons.core import records
from lessons.pretraining import domain_adaptation

KIND = "domain-adaptation"
TRAINING = "continued-pretraining"
CODE = ("lessons/pretraining/recorded.py", "lessons/pretraining/domain_adaptation.py",
        "lessons/pretraining/tiny_gpt.py", "lessons/core/perplexity.py", "lessons/core/tensors.py",
        "lessons/core/loop.py", "lessons/core/rng.py", "lessons/core/generate.py", "assets/domain/modern_english.txt")
THREADS = 1
FAR = 3600.0          # the seconds cap of a recorded training run: far away, the steps decide


def settings() -> dict:
    texts = domain_adaptation.shipped_domains()
    return {"texts": {d: hashlib.sha256(t.encode("utf-8")).hexdigest() for d, t in texts.items()},
            "block": 64, "max_tokens": 1024}


def training(**over) -> dict:
    return {**domain_adaptation.TRAIN_DEFAULTS, **over}


# The Try-this of the page: 100 steps at 3e-3 (overfits, forgets), 60 steps at 1e-4 (forgets least).
TRY_THIS = (training(steps=100, lr=3e-3), training(lr=1e-4))
RUNS: list[tuple[str, dict]] = [(KIND, settings()), (TRAINING, training()), *((TRAINING, t) for t in TRY_THIS)]


class Lab:
    """The two shared, read-only models the table scores (``models``: key of
    domain_adaptation.MODELS -> LoadedModel). Fingerprints are computed once."""

    def __init__(self, tiny, smollm2):
        self.models = {"tiny": tiny, "smollm2": smollm2}
        self._fp: dict | None = None

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = {name: state_fingerprint(lm.model) for name, lm in self.models.items()}
        return {**self._fp, "torch": torch.__version__, "threads": THREADS}


def measure_table(lab: Lab, s: dict, only: tuple[str, ...] | None = None) -> dict:
    """Score every shipped domain with every model (``only``: these model keys), in table order."""
    texts = domain_adaptation.shipped_domains()
    assert set(texts) == set(s["texts"]), "the settings name other domains than the page ships"
    rows = []
    for name, label in domain_adaptation.MODELS.items():
        if only is not None and name not in only:
            continue
        lm = lab.models[name]
        for dom, text in texts.items():
            r = domain_adaptation.text_perplexity(lm.model, lm.tokenizer, text, s["block"], s["max_tokens"])
            rows.append(domain_adaptation.domain_row(label, dom, r))
    return {"rows": rows}


def continue_pretraining(lab: Lab, s: dict, stop_after: int | None = None) -> dict:
    """Train a private copy of the tiny GPT as the page does. ``stop_after``: stop the same run
    after that many steps (its learning-rate schedule still planned for all its steps), a short
    replay of the recorded run."""
    from lessons.models import session_copy
    from lessons.pretraining import tiny_gpt

    tiny = lab.models["tiny"]
    train, held = domain_adaptation.split_paragraphs(domain_adaptation.modern_text())
    copy = session_copy(tiny.model)
    before = tiny_gpt.sample(copy, tiny.tokenizer, s["prompt"], max_new_tokens=30, seed=s["seed"])
    log = tiny_gpt.TrainLog(s["steps"], FAR)
    stop = (lambda: len(log.history) >= stop_after) if stop_after else None
    res = domain_adaptation.continued_pretraining(copy, tiny.tokenizer, train, held, None, steps=s["steps"],
                                                  lr=s["lr"], eval_every=s["every"], max_seconds=FAR,
                                                  seed=s["seed"], should_stop=stop, log=log)
    return {"curve": res.curve, "losses": log.losses, "steps": len(log.history), "before_sample": before,
            "after_sample": tiny_gpt.sample(copy, tiny.tokenizer, s["prompt"], max_new_tokens=30, seed=s["seed"])}


RECIPES = {KIND: measure_table, TRAINING: continue_pretraining}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
