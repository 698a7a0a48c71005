"""The domain-adaptation page's continued pretraining (its section 2) as a class-run job
(ui/class_runs.py runs it in a worker process, out of the web server's): a private copy of the
tiny GPT trained on the modern text, exactly as ``recorded.continue_pretraining`` trains the same
settings. So a class that presses Continue pretraining on the same settings shares one run, and a
run that finished all its steps is shown again at once.

spec (JSON, built by :func:`spec`): {"settings": {"steps", "lr", "every", "seed", "prompt"} (the
keys of domain_adaptation.TRAIN_DEFAULTS), "max_seconds", "fingerprints": :func:`fingerprints`,
"code", "threads", "device", "cpu"} (lessons/core/records.job_spec). The training text is in the
code version (assets/domain/modern_english.txt is one of recorded.CODE's files).

Row (one per step): the training loop's row {"step", "seconds", "loss", "lr", "tokens"}, the
latest perplexities "ppl_new" and "ppl_old", and "curve": the [step, ppl modern, ppl Shakespeare]
points measured since the last row (the step-0 point comes with step 1's row).

Result: {"curve": [[step, ppl modern, ppl Shakespeare], ...], "history": [rows without curve],
"steps": n, "before_sample", "after_sample", "prompt", "fingerprint_unchanged": bool (the worker's
shared tiny GPT has the same weights after the run), "stopped": StopReason value}. A stopped run's
curve ends with a measurement at its last step (domain_adaptation.continued_pretraining).
"""
from __future__ import annotations

from typing import Callable

from lessons.core import records
from lessons.pretraining import recorded

KIND = "domain-adaptation"
CODE = recorded.CODE + ("lessons/pretraining/domain_adaptation_job.py",)
SAMPLE_TOKENS = 30


def fingerprints(tiny) -> dict:
    """What the run starts from: the shared tiny GPT's weights (its tokenizer ships with them)."""
    import torch

    from lessons.models import state_fingerprint

    return {"tiny_gpt": state_fingerprint(tiny.model), "torch": torch.__version__}


def _tiny(device: str):
    """The worker's shared tiny GPT (read-only: the run trains a copy)."""
    from lessons import models

    return models.load_tiny_gpt(device)


JOB = records.JobCode(CODE, _tiny)   # the files' sha256 (the training text included), once per process
code_version, spec, tiny = JOB.version, JOB.spec, JOB.lab


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Continue pretraining a private copy at ``spec["settings"]``; a row per step; the after-sample
    of what it learned at the end (also after a stop)."""
    from lessons.models import session_copy, state_fingerprint
    from lessons.pretraining import domain_adaptation, tiny_gpt

    s, lm = spec["settings"], tiny(spec.get("device", "cpu"))
    train, held = domain_adaptation.split_paragraphs(domain_adaptation.modern_text())
    before_fp = state_fingerprint(lm.model)
    copy = session_copy(lm.model)
    before = tiny_gpt.sample(copy, lm.tokenizer, s["prompt"], max_new_tokens=SAMPLE_TOKENS, seed=s["seed"])
    curve: list = []
    sent = [0]                       # curve points already sent with a row

    def tick(row: dict, log) -> None:
        new, sent[0] = curve[sent[0]:], len(curve)
        progress({**row, "curve": [list(c) for c in new]})

    res = domain_adaptation.continued_pretraining(copy, lm.tokenizer, train, held, None, steps=s["steps"],
                                                  lr=s["lr"], eval_every=s["every"], max_seconds=spec["max_seconds"],
                                                  seed=s["seed"], progress=tick, should_stop=should_stop, curve=curve)
    return {"curve": [list(c) for c in res.curve], "history": res.log.history, "steps": len(res.log.history),
            "before_sample": before, "prompt": s["prompt"],
            "after_sample": tiny_gpt.sample(copy, lm.tokenizer, s["prompt"], max_new_tokens=SAMPLE_TOKENS, seed=s["seed"]),
            "fingerprint_unchanged": state_fingerprint(lm.model) == before_fp,
            "stopped": res.log.stopped.value if res.log.stopped is not None else "steps"}
