"""The forgetting page's default run as a recorded run (lessons.core.records).

The page fine-tunes two private copies of the instruction-tuned tiny GPT ('mood', which knows
task B) on task A, fully and with LoRA (``forgetting.compare_full_and_lora``), and scores each
on both tasks and on Shakespeare. At the page's defaults (``forgetting.DEMO_DEFAULTS``) the run
takes the same path every time for the same settings, seed, starting weights, code and thread
count: the batches come from a seeded generator, the LoRA matrices from the seed, and the
learning rate is constant. So the page opens with that run drawn (labelled as recorded, Run one
click away), and a test trains the start of it now and compares it with the record.

Kept apart from lessons/finetune/recorded.py (the live LoRA page's adapters): this run also needs
the instruction-tuned start model, and that module's record stays current.

A run trains on ONE torch thread, as the pages' jobs do (ui/jobs.py).

Kind ``forgetting``: settings = DEMO_DEFAULTS but the seconds cap, plus the tasks. The JSON result
is one entry of the page's list of runs:

    {"mix", "steps", "r", "seed", "targets", "pretrained_ppl": float, "before": scores of the start,
     "full": method result, "lora": method result, "shared_unchanged": bool}

where a method result is forgetting.finish_task's dict without the model.
"""
from __future__ import annotations

from lessons.core import records
from lessons.finetune import forgetting

KIND = "forgetting"
CODE = ("lessons/finetune/recorded_forgetting.py", "lessons/finetune/forgetting.py",
        "lessons/finetune/lora_training.py", "lessons/finetune/lora.py", "lessons/finetune/instructions.py",
        "lessons/core/generate.py", "lessons/core/loop.py", "lessons/core/perplexity.py", "lessons/core/rng.py",
        "lessons/core/tensors.py", *(f"assets/instructions/{t}.jsonl" for t in forgetting.TASKS))
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps decide
THREADS = 1


def settings(**over) -> dict:
    d = {k: (list(v) if isinstance(v, tuple) else v) for k, v in forgetting.DEMO_DEFAULTS.items()
         if k != "max_seconds"}
    return {**d, "tasks": list(forgetting.TASKS), **over}


RUNS: list[tuple[str, dict]] = [(KIND, settings())]


class Lab:
    """The shared tiny GPT (its Shakespeare perplexity is the dotted line) and the shared
    instruction-tuned start model ('mood'), both read-only: every run deep-copies the start."""

    def __init__(self, tiny, start):
        self.tiny, self.start = tiny, start
        self._fp: dict | None = None

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = {"tiny_gpt": state_fingerprint(self.tiny.model), "start": state_fingerprint(self.start.model)}
        return {**self._fp, "torch": torch.__version__, "threads": THREADS}


def start_scores(start_model, tokenizer) -> dict:
    """The start model's scores as the page shows them (the per-example rows left out)."""
    a, b = forgetting.TASKS
    return {k: v for k, v in forgetting.evaluate(start_model, tokenizer, a, b).items() if not k.endswith("rows")}


def compare(lab: Lab, s: dict, steps: int | None = None, *, max_seconds: float = FAR, progress=None,
            should_stop=None) -> dict:
    """The page's run at ``s``. ``steps`` overrides the settings' steps (a short replay of the same
    run: the learning rate is constant, so its first steps are the full run's first steps).
    ``progress(method, row, run)``/``should_stop``: compare_full_and_lora's (the page's class run,
    lessons/finetune/forgetting_job.py, trains any settings through here: one path)."""
    from lessons.core.perplexity import validation_perplexity
    from lessons.models import state_fingerprint

    tok = lab.tiny.tokenizer
    shared = state_fingerprint(lab.tiny.model)
    a, b = s["tasks"]
    out = forgetting.compare_full_and_lora(lab.start.model, tok, task_a=a, task_b=b, steps=steps or s["steps"],
                                           mix=s["mix"], r=s["r"], alpha=s["alpha"], targets=tuple(s["targets"]),
                                           seed=int(s["seed"]), max_seconds=max_seconds, progress=progress,
                                           should_stop=should_stop)
    return {"mix": s["mix"], "steps": steps or s["steps"], "r": s["r"], "seed": int(s["seed"]),
            "targets": list(s["targets"]), "pretrained_ppl": validation_perplexity(lab.tiny.model, tok),
            "before": start_scores(lab.start.model, tok), **out,
            "shared_unchanged": state_fingerprint(lab.tiny.model) == shared}


RECIPES = {KIND: compare}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
