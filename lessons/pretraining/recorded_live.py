"""The live pretraining page's default run as a recorded run (lessons.core.records).

A fresh tiny GPT trained at the page's defaults (``pretraining_live.DEFAULTS``) takes the same path
every time for the same settings, seed, tokenizer, training text, code and thread count: its
random weights come from its seed, its batches from a generator seeded the same way, and its
samples are seeded. So the page opens with that run drawn (labelled as recorded, Start one
click away) and a test trains the start of it now and compares it with the record step by step.

Kept apart from lessons/pretraining/recorded.py (the domain-adaptation page's runs): that
module's Lab holds SmolLM2 as well, which this page never loads.

A run trains on ONE torch thread, as the pages' jobs do (ui/jobs.py).

Kind ``pretraining-live``: settings = pretraining_live.DEFAULTS (layers, width, steps, lr, every,
seed); fingerprints = the shipped tiny GPT's weights (its tokenizer ships with them), the sha256
of the training token ids, torch's version and the thread count. The JSON result:

    {"steps": [per step], "losses": [per step], "tokens_seen": int, "steps_done": int,
     "samples": [[step, text], ...], "val_ppl": float}
"""
from __future__ import annotations

import hashlib

from lessons.core import records
from lessons.pretraining import pretraining_live

KIND = "pretraining-live"
CODE = ("lessons/pretraining/recorded_live.py", "lessons/pretraining/pretraining_live.py",
        "lessons/pretraining/tiny_gpt.py", "lessons/core/loop.py", "lessons/core/rng.py",
        "lessons/core/generate.py", "lessons/core/perplexity.py", "lessons/core/tensors.py")
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps decide
THREADS = 1


def settings(**over) -> dict:
    return {**pretraining_live.DEFAULTS, **over}


RUNS: list[tuple[str, dict]] = [(KIND, settings())]


class Lab:
    """The shared tiny GPT (only its tokenizer is used) and the page's training ids."""

    def __init__(self, tiny):
        self.tiny = tiny
        self._ids = None
        self._fp: dict | None = None

    def ids(self):
        if self._ids is None:
            self._ids = pretraining_live.train_ids(self.tiny.tokenizer)
        return self._ids

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = {"tiny_gpt": state_fingerprint(self.tiny.model),
                        "train_ids": hashlib.sha256(self.ids().numpy().tobytes()).hexdigest()}
        return {**self._fp, "torch": torch.__version__, "threads": THREADS}


def pretrain(lab: Lab, s: dict, stop_after: int | None = None) -> dict:
    """The page's run at ``s``. ``stop_after``: stop the same run after that many steps (its
    schedule still planned for all its steps), a short replay of the recorded run."""
    tok = lab.tiny.tokenizer
    res = pretraining_live.new_run(len(tok), tok.eos_token_id, s, FAR)
    stop = (lambda: res.log.steps_done >= stop_after) if stop_after else None
    pretraining_live.pretrain(res, tok, lab.ids(), s["lr"], FAR, should_stop=stop)
    pretraining_live.finish(res, tok)
    return {"steps": res.log.steps, "losses": res.log.losses, "tokens_seen": res.log.tokens_seen,
            "steps_done": res.log.steps_done, "samples": res.samples, "val_ppl": res.val_ppl}


RECIPES = {KIND: pretrain}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
