"""The forgetting page's run as a class-run job (ui/class_runs.py runs it in a worker process, out
of the web server's): two private copies of the instruction-tuned start ('mood') fine-tuned on task
A, fully and then with LoRA, and scored on both tasks and on Shakespeare, exactly as
``recorded_forgetting.compare`` runs the same settings. So a class that presses Run on the same
settings shares one run, and a run that finished all its steps is shown again at once.

spec (JSON, built by :func:`spec`): {"settings": recorded_forgetting.settings() keys (steps, mix, r,
alpha, targets, seed, the learning rates, the tasks), "max_seconds" (per method),
"fingerprints": recorded_forgetting.Lab.fingerprints, "code", "threads", "device", "cpu"}
(lessons/core/records.job_spec). The task files are in the code version.

Row (one per step of either method): the loop's row {"seconds", "loss", ...} with "method" ("full"
or "lora"), "method_step" (the loop's step within that method) and "step" counted over both methods
(full fine-tuning's steps first), so a follower's bar runs once from 0 to 2 x steps.

Result: ``recorded_forgetting.compare``'s dict (the page's entry in its list of runs: the settings,
"pretrained_ppl", "before", "full", "lora" (absent when a Stop came during full fine-tuning),
"shared_unchanged") with "stopped": "stopped" when a Stop ended a method, else "steps" or "time".
"""
from __future__ import annotations

from typing import Callable

from lessons.core import records
from lessons.finetune import recorded_forgetting

KIND = "forgetting"
CODE = recorded_forgetting.CODE + ("lessons/finetune/forgetting_job.py",)
METHODS = ("full", "lora")      # in the order they train


def _lab(device: str) -> recorded_forgetting.Lab:
    """The worker's shared tiny GPT and instruction-tuned start (read-only: every run copies the start)."""
    from lessons import models

    return recorded_forgetting.Lab(models.load_tiny_gpt(device), models.load_instruction_tuned("mood", device))


JOB = records.JobCode(CODE, _lab)
code_version, spec, lab = JOB.version, JOB.spec, JOB.lab   # the files' sha256 (once per process); the spec; the lab


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Fine-tune fully, then with LoRA, at ``spec["settings"]``; a row per step of either method."""
    s = spec["settings"]

    def tick(method: str, row: dict, run) -> None:
        progress({**row, "method": method, "method_step": row["step"],
                  "step": METHODS.index(method) * s["steps"] + row["step"]})

    out = recorded_forgetting.compare(lab(spec.get("device", "cpu")), s, max_seconds=spec["max_seconds"],
                                      progress=tick, should_stop=should_stop)
    reasons = [out[m]["train"]["stopped"] for m in METHODS if out.get(m)]
    return {**out, "stopped": "stopped" if "stopped" in reasons or "lora" not in out else
            ("time" if "time" in reasons else "steps")}
