"""The prompt-tuning page's run as a class-run job (ui/class_runs.py runs it in a worker process,
out of the web server's): a soft prompt trained in front of a private, frozen copy of the
instruction-tuned tiny GPT ('two_tasks'), exactly as ``recorded_prompt_tuning.train`` trains the
same settings (its learning rate is constant and its batches come from a seeded generator). So a
class that presses Train on the same settings shares one run, and a run that finished all its
steps is shown again at once.

spec (JSON, built by :func:`spec`): {"settings": {"task", "n_virtual", "steps", "lr", "init",
"seed"} (recorded_prompt_tuning.settings keys), "max_seconds", "fingerprints":
recorded_prompt_tuning.Lab.fingerprints, "code", "threads", "device", "cpu"}
(lessons/core/records.job_spec). The task files are in the code version.

Row (one per step): the loop's row {"step", "seconds", "loss"}.

Result: ``prompt_tuning.train_soft_prompt``'s dict without the soft prompt module (``soft``):
history, before / at_init / after / written scores with their rows, counts, nearest tokens,
"stopped" (also after a stop: the soft prompt learned so far is scored), and "model_unchanged": the
frozen copy's weights hash is the same after the run.
"""
from __future__ import annotations

from typing import Callable

from lessons.core import records
from lessons.finetune import prompt_tuning, recorded_prompt_tuning

KIND = "prompt-tuning"
CODE = recorded_prompt_tuning.CODE + ("lessons/finetune/prompt_tuning_job.py",)


def _lab(device: str) -> recorded_prompt_tuning.Lab:
    """The worker's shared instruction-tuned start (read-only: every run trains in front of a copy)."""
    from lessons import models

    return recorded_prompt_tuning.Lab(models.load_instruction_tuned(prompt_tuning.DEMO_DEFAULTS["model"], device))


JOB = records.JobCode(CODE, _lab)
code_version, spec, lab = JOB.version, JOB.spec, JOB.lab   # the files' sha256 (once per process); the spec; the lab


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Train a soft prompt at ``spec["settings"]`` in front of a private frozen copy; a row per step."""
    from lessons.models import session_copy, state_fingerprint

    s, tuned = spec["settings"], lab(spec.get("device", "cpu")).tuned
    model = session_copy(tuned.model)
    before = state_fingerprint(model)
    out = prompt_tuning.train_soft_prompt(model, tuned.tokenizer, s["task"], n_virtual=s["n_virtual"],
                                          init=s["init"], steps=s["steps"], lr=s["lr"], seed=int(s["seed"]),
                                          max_seconds=spec["max_seconds"], progress=lambda row, run: progress(row),
                                          should_stop=should_stop)
    return {**{k: v for k, v in out.items() if k != "soft"}, "model_unchanged": state_fingerprint(model) == before}
