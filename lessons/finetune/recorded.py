"""The live LoRA page's default training runs as recorded runs (lessons.core.records).

Training two adapters at the page's defaults (``lora_training.LIVE_DEFAULTS``: 250 steps each)
on one frozen tiny GPT is what the page's Try-this asks a learner to do ("train 'archaic', then
'mood', then swap adapters"). Its outcome is the same every time for the same settings, seed,
base weights, code and thread count, so it is recorded once (assets/recorded/lora-training/)
and the outcome test checks the claim on the record (tests/claims/test_week2_demos.py), with a
short live replay that proves the record is what the current code does.

A run trains on ONE torch thread, as the pages' jobs do (ui/jobs.py): with two threads the
float sums run in another order and the path differs in the last bits.

Kind ``lora-training``: settings = {"tasks": [...], **LIVE_DEFAULTS but max_seconds,
"batch_size", "seed", "n_test"}. The JSON result:

    {"runs": {task: lora_training.train_adapter(...) for each task, in order},
     "swap": {task: {"own": acc, "other": {other task: acc}, "base": acc, "floor": acc}},
     "base_unchanged": bool}

where "swap" scores every adapter of the finished bank (and the base alone, and the
always-the-commonest-answer floor) on each task's held-out test prompts: the page's section 3.
"""
from __future__ import annotations

from lessons.core import records
from lessons.finetune import instructions, lora_training

KIND = "lora-training"
TASKS = ("archaic", "mood")
CODE = ("lessons/finetune/recorded.py", "lessons/finetune/lora_training.py", "lessons/finetune/lora.py",
        "lessons/finetune/instructions.py", "lessons/core/generate.py", "lessons/core/loop.py",
        "lessons/core/rng.py", "lessons/core/tensors.py",
        *(f"assets/instructions/{t}.jsonl" for t in TASKS))
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps decide
THREADS = 1
TRAIN = {"batch_size": 16, "seed": 0, "n_test": 36}     # train_adapter's defaults, as the page calls it


def settings(tasks=TASKS, **over) -> dict:
    live = {k: (list(v) if isinstance(v, tuple) else v) for k, v in lora_training.LIVE_DEFAULTS.items()
            if k != "max_seconds"}
    return {"tasks": list(tasks), **live, **TRAIN, **over}


# The runs the outcome test checks (and scripts/record_runs.py records).
RUNS: list[tuple[str, dict]] = [(KIND, settings())]


class Lab:
    """The shared tiny GPT (read-only); every run trains adapters on its own session copy."""

    def __init__(self, base):
        self.base = base
        self._fp: str | None = None

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = state_fingerprint(self.base.model)
        return {"tiny_gpt": self._fp, "torch": torch.__version__, "threads": THREADS}


def train_bank(lab: Lab, s: dict, steps: int | None = None) -> dict:
    """Train one adapter per task, in order, on one bank; then score every pairing. ``steps``
    overrides the settings' steps (a short replay of the same run)."""
    from lessons.models import session_copy

    bank = lora_training.AdapterBank(session_copy(lab.base.model))
    tok = lab.base.tokenizer
    fp = bank.base_fingerprint()
    runs = {t: lora_training.train_adapter(
        bank, tok, t, r=s["r"], alpha=s["alpha"], targets=tuple(s["targets"]), steps=steps or s["steps"], lr=s["lr"],
        batch_size=s["batch_size"], seed=s["seed"], max_seconds=FAR, n_test=s["n_test"]) for t in s["tasks"]}
    swap = {}
    for t in s["tasks"]:
        test = instructions.split(t, "test")[:s["n_test"]]
        swap[t] = {"own": bank.score(t, tok, test)["accuracy"],
                   "other": {o: bank.score(o, tok, test)["accuracy"] for o in s["tasks"] if o != t},
                   "base": bank.score(None, tok, test)["accuracy"],
                   "floor": instructions.majority_baseline(t)["accuracy"]}
    return {"runs": runs, "swap": swap, "base_unchanged": bank.base_fingerprint() == fp}


RECIPES = {KIND: train_bank}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
