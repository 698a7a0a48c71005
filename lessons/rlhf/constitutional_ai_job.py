"""The constitutional-AI page's "Run response → critique → revision" as a class-run job (kind
``constitutional-ai``; ui/class_runs.py runs it in a worker process, out of the web server's): the
three greedy generations of ``constitutional_ai.critique_and_revise``, exactly as the recorded run
(lessons/rlhf/recorded_cai.py ``critique``) makes them for the same settings.

Why a job: three generations of up to 640 tokens each take many seconds with SmolLM2 and minutes
with Qwen on a CPU; in the web process they held the interpreter lock against every learner's
rerun. Greedy decoding on the same model, code, threads and processor writes the same texts every
time, so a class that runs a shipped red-team prompt with a shipped principle shares one run, and
a finished one is shown again at once (a learner's own prompt or principle is theirs alone).

spec (JSON): {"settings": {"model": "smollm2" | "qwen", "prompt", "principle", "tokens"},
"max_seconds", "fingerprints": records.instruct_fingerprints, "code", "threads", "device", "cpu"}
(lessons/core/records.job_spec).
Row (one per stage as it ends): {"step": 1 | 2 | 3, "seconds", "stage": constitutional_ai.Stage as a dict}.
Result: {"stages": [Stage as a dict, ...], "stopped": "steps" | "stopped"} (stopped: everybody left
before the last stage; the stages written so far are kept).
"""
from __future__ import annotations

import time
from dataclasses import asdict
from typing import Callable

from lessons.core import records
from lessons.rlhf import recorded_cai

KIND = "constitutional-ai"
CODE = recorded_cai.CODE + ("lessons/rlhf/constitutional_ai_job.py",)
THREADS = recorded_cai.THREADS


JOB = records.JobCode(CODE)
spec = JOB.spec


def settings(model: str, prompt: str, principle: str, tokens: int) -> dict:
    """The job's settings: recorded_cai.settings with the instruct model named ("smollm2" | "qwen")."""
    return {**recorded_cai.settings(prompt, principle, tokens), "model": model}


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Response, critique, revision: a row as each stage ends; no new stage once nobody follows."""
    from lessons.rlhf import constitutional_ai as cai

    s, t0, stages = spec["settings"], time.perf_counter(), []
    lm = records.worker_model(s["model"], spec.get("device", "cpu"))

    def tick(stage: cai.Stage) -> None:
        stages.append(asdict(stage))
        progress({"step": len(stages), "seconds": round(time.perf_counter() - t0, 3), "stage": stages[-1]})
        if len(stages) < 3 and should_stop():
            raise records.Left
    try:
        cai.critique_and_revise(lm.model, lm.tokenizer, s["prompt"], s["principle"], s["tokens"], progress=tick)
    except records.Left:
        return {"stages": stages, "stopped": "stopped"}
    return {"stages": stages, "stopped": "steps"}


def as_result(result: dict, s: dict):
    """A finished job as the constitutional_ai.CAIResult the page draws (recorded_cai.as_result)."""
    return recorded_cai.as_result(result, s)
