"""The model-summaries page's "Summarize with SmolLM2" as a class-run job (kind ``model-summaries``;
ui/class_runs.py runs it in a worker process, out of the web server's): two greedy summaries per
dialogue (zero-shot and few-shot), each scored with ROUGE and BLEU, exactly as the recorded run
(lessons/evaluation/recorded.py ``summarize``) makes them for the same settings.

Why a job: up to eight generations of SmolLM2 take tens of seconds on a CPU; in the web process
they held the interpreter lock against every learner's rerun. Greedy decoding on the same model,
code, threads and processor writes the same summaries every time, so a class that presses the
button with the same settings shares one run, and a finished one is shown again at once.

spec (JSON): {"settings": recorded.settings(...) ({"model", "ids", "shots", "max_new_tokens"}),
"max_seconds": the page's time limit, "fingerprints": recorded.Lab.fingerprints, "code",
"threads", "device", "cpu"} (lessons/core/records.job_spec).
Row (one per generation): {"step": generations done, "seconds", "label": "<mode>: dialogue <id>"}.
Result: {"rows": summaries.summarize_and_score's rows (a dialogue not started in time or after
everybody left is ``skipped``), "stopped": "steps" | "time" | "stopped"}.
"""
from __future__ import annotations

import time
from typing import Callable

from lessons.core import records
from lessons.evaluation import recorded

KIND = "model-summaries"
CODE = recorded.CODE + ("lessons/evaluation/model_summaries_job.py",)


def _lab(device: str) -> recorded.Lab:
    """The worker's shared SmolLM2 (read-only; loaded when a run first needs it)."""
    from lessons import models

    return recorded.Lab(models.load_smollm2(device))


JOB = records.JobCode(CODE, _lab)
spec, lab = JOB.spec, JOB.lab


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """The page's summaries for ``spec["settings"]``: a row after each generation; a dialogue that
    would start after the time limit, or after everybody who asked for the run left, is skipped."""
    s, t0 = spec["settings"], time.perf_counter()

    def tick(done: int, total: int, label: str) -> None:
        progress({"step": done, "seconds": round(time.perf_counter() - t0, 3), "label": label})
    out = recorded.summarize(lab(spec.get("device", "cpu")), s, max_seconds=spec["max_seconds"], progress=tick,
                             should_stop=should_stop)
    rows = out["rows"]
    skipped = any(r.get("skipped") for r in rows)
    stopped = "stopped" if skipped and should_stop() else "time" if skipped else "steps"
    return {"rows": rows, "stopped": stopped}
