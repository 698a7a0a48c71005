"""The prompt-tuning page's default run as a recorded run (lessons.core.records).

The page trains a soft prompt in front of a private copy of the instruction-tuned tiny GPT
('two_tasks'), the model frozen (``prompt_tuning.train_soft_prompt``). At the page's defaults
(``prompt_tuning.DEMO_DEFAULTS``, the instruction's words as the start, seed 0) the run takes the
same path every time for the same settings, seed, starting weights, code and thread count: the
soft prompt starts from the instruction's embeddings, the batches come from a seeded generator
and Adam's learning rate is constant. So the page opens with that run drawn (labelled as recorded,
Train one click away), and a test trains the start of it now and compares it with the record.

Kept apart from lessons/finetune/recorded.py (the live LoRA page's adapters), so that the records
of that module stay current.

A run trains on ONE torch thread, as the pages' jobs do (ui/jobs.py).

Kind ``prompt-tuning``: settings = DEMO_DEFAULTS but the seconds cap and the model, plus
``init`` and ``seed``. The JSON result is train_soft_prompt's dict without the soft prompt module
(``soft``): history, before / at_init / after / written scores with their rows, counts, nearest tokens.
"""
from __future__ import annotations

from lessons.core import records
from lessons.finetune import instructions, prompt_tuning

KIND = "prompt-tuning"
CODE = ("lessons/finetune/recorded_prompt_tuning.py", "lessons/finetune/prompt_tuning.py",
        "lessons/finetune/instructions.py", "lessons/finetune/lora_training.py", "lessons/core/generate.py",
        "lessons/core/loop.py", "lessons/core/rng.py", "lessons/core/tensors.py",
        *(f"assets/instructions/{t}.jsonl" for t in instructions.task_names()))
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps decide
THREADS = 1
PAGE = {"init": "text", "seed": 0}    # the page's other defaults: the radio's first choice, seed 0


def settings(**over) -> dict:
    d = {k: v for k, v in prompt_tuning.DEMO_DEFAULTS.items() if k not in ("max_seconds", "model")}
    return {**d, **PAGE, **over}


RUNS: list[tuple[str, dict]] = [(KIND, settings())]


class Lab:
    """The shared instruction-tuned tiny GPT the page starts from (read-only: every run trains
    in front of a private copy)."""

    def __init__(self, tuned):
        self.tuned = tuned
        self._fp: str | None = None

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = state_fingerprint(self.tuned.model)
        return {prompt_tuning.DEMO_DEFAULTS["model"]: self._fp, "torch": torch.__version__, "threads": THREADS}


def train(lab: Lab, s: dict, steps: int | None = None) -> dict:
    """The page's run at ``s``. ``steps`` overrides the settings' steps (a short replay of the same
    run: the learning rate is constant, so its first steps are the full run's first steps)."""
    from lessons.models import session_copy

    model = session_copy(lab.tuned.model)
    out = prompt_tuning.train_soft_prompt(model, lab.tuned.tokenizer, s["task"], n_virtual=s["n_virtual"],
                                          init=s["init"], steps=steps or s["steps"], lr=s["lr"],
                                          seed=int(s["seed"]), max_seconds=FAR)
    return {k: v for k, v in out.items() if k != "soft"}


RECIPES = {KIND: train}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
