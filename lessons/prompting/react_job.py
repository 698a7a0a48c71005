"""The ReAct page's "Run the ReAct loop" as a class-run job (kind ``react``; ui/class_runs.py runs it
in a worker process, out of the web server's): ``react.run_react`` with the page's real tools (the
safe calculator, the handbook search on MiniLM with recorded.INDEX, the product table), exactly as
the recorded traces (lessons/prompting/recorded.py ``run_trace``) make them, capped at the page's
seconds.

Why a job: up to six steps of generation, each followed by a tool call, take many seconds with
SmolLM2 and minutes with Qwen on a CPU; in the web process they held the interpreter lock against
every learner's rerun. Greedy decoding on the same model, code, threads and processor writes the
same trace every time, so a class that runs an example question shares one run, and a finished one
is shown again at once (a learner's own question is theirs alone: the page does not share it).

spec (JSON, records.job_spec): {"settings": {**recorded.settings(question, max_steps=..., step_tokens=...),
"model": "smollm2" | "qwen"}, "max_seconds", "fingerprints": records.instruct_fingerprints and the
search encoder's, "code", "threads", "device", "cpu"}.
Row (one per step): {"step", "seconds", "label": the step's action or "final answer"}.
Result: {"trace": recorded.trace_dict(...), "seconds": the loop's wall time, "stopped"} ("stopped":
everybody left: no next step; the steps so far are kept).
"""
from __future__ import annotations

import time
from typing import Callable

from lessons.core import records
from lessons.prompting import recorded

KIND = "react"
CODE = recorded.CODE + ("lessons/prompting/react_job.py",)
THREADS = recorded.THREADS


def _lab(device: str) -> dict:
    """The worker's search tool: MiniLM and the handbook index of recorded.INDEX (read-only)."""
    from lessons import models
    from lessons.prompting import react
    from lessons.retrieval import rag

    encoder = models.load_minilm(device)
    index = rag.build_index(encoder, recorded.INDEX["size"], recorded.INDEX["overlap"])
    return {"encoder": encoder, "tools": react.make_tools(rag.search_tool(index, encoder, k=recorded.INDEX["k"]))}


JOB = records.JobCode(CODE, _lab)
spec = JOB.spec


def settings(model: str, question: str, max_steps: int, step_tokens: int) -> dict:
    return {**recorded.settings(question, max_steps=int(max_steps), step_tokens=int(step_tokens)), "model": model}


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """The ReAct loop on the spec's question: a row after each step; no next step once nobody follows."""
    from lessons.prompting import react

    s, dev, t0 = spec["settings"], spec.get("device", "cpu"), time.perf_counter()
    lm, tools = records.worker_model(s["model"], dev), JOB.lab(dev)["tools"]
    steps: list = []

    def step_done(i: int, step) -> None:
        steps.append(step)
        progress({"step": i + 1, "seconds": round(time.perf_counter() - t0, 3),
                  "label": step.action or ("final answer" if step.final else "no action")})
        if not step.final and should_stop():
            raise records.Left
    try:
        trace = react.run_react(lm, tools, s["question"], s["max_steps"], s["step_tokens"],
                                max_seconds=spec["max_seconds"], progress=step_done)
    except records.Left:
        trace = react.Trace(s["question"], steps, None, "everybody left")
    return {"trace": recorded.trace_dict(trace), "seconds": round(time.perf_counter() - t0, 2),
            "stopped": "stopped" if trace.stopped == "everybody left" else "steps"}
