"""The distillation page's two students as a class-run job (ui/class_runs.py runs it in a worker
process, out of the web server's): a hard-label and a distilled student trained in lockstep from
the same random weights on the same batches, in front of the worker's shared tiny GPT (the
teacher, read-only), exactly as ``recorded.train_students`` trains the same settings. So a class
that presses Train on the same settings shares one run, and a run that finished all its steps is
shown again at once.

spec (JSON, built by :func:`spec`): {"settings": recorded.settings() keys (the page's T, alpha,
steps, layers, width, seed, and train_pair's batch, block and learning rate), "max_seconds",
"fingerprints": recorded.Lab.fingerprints, "code", "threads", "device", "cpu"}
(lessons/core/records.job_spec).

Row (one per step): the loop's row {"step", "seconds", "ce_hard", "ce_distilled"} (each student's
hard-label cross-entropy, the comparable curve).

Result: ``recorded.train_students``'s result (both students' curves, validation perplexities,
steps; the parameter counts; "seconds", "stopped") with "teacher_val_ppl" (the teacher's
perplexity on the same validation slice), "ms_per_forward": {"teacher" | student name: ms} (one
1 x 64 forward each, measured interleaved on the worker so that a busy machine slows all three
alike; a timing, not part of what the key determines) and "history": the rows. A stopped run's
students are evaluated at the step they stopped on (distillation.settle).
"""
from __future__ import annotations

from typing import Callable

from lessons.core import records
from lessons.efficiency import recorded

KIND = "distillation"
CODE = recorded.CODE + ("lessons/efficiency/distillation_job.py",)
BLOCK = 64                       # the timing's input: one sequence of the training block's length
EVAL_BLOCKS = 16                 # the validation slice's blocks, as train_pair evaluates the students


def _lab(device: str) -> recorded.Lab:
    """The worker's shared teacher (the tiny GPT, read-only) and the page's token ids."""
    from lessons import models

    return recorded.Lab(models.load_tiny_gpt(device))


JOB = records.JobCode(CODE, _lab)
code_version, spec, lab = JOB.version, JOB.spec, JOB.lab   # the files' sha256 (once per process); the spec; the lab


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Train both students at ``spec["settings"]``; a row per step; both evaluated where they ended."""
    from lessons.core.perplexity import perplexity
    from lessons.core.timing import ms_per_forward_interleaved

    lb = lab(spec.get("device", "cpu"))
    students: dict = {}             # filled before the first step: the timings below read the models
    out = recorded.train_students(lb, spec["settings"], max_seconds=spec["max_seconds"],
                                  progress=lambda row, run: progress(row), should_stop=should_stop, runs=students)
    models = {"teacher": lb.teacher.model, **{name: r.model for name, r in students.items()}}
    ms = ms_per_forward_interleaved(list(models.values()), BLOCK)
    return {**out, "teacher_val_ppl": perplexity(lb.teacher.model, lb.ids()[1], BLOCK, EVAL_BLOCKS),
            "ms_per_forward": dict(zip(models, ms)), "history": students["distilled"].run.history}
