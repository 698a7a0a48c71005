"""The reasoning page's long generations as class-run jobs (ui/class_runs.py runs them in a worker
process, out of the web server's):

* kind ``reasoning-three``: section 1's three prompts on one problem (the shipped ones, or a
  learner's own: then the page does not share it), each ``reasoning.attempt``, greedy;
* kind ``reasoning``: section 3's "Score them": each of the first problems with each prompt
  (``reasoning.attempt``, greedy), exactly as the recorded scores (lessons/prompting/recorded.py
  ``score_reasoning``) make them, each generation capped at the page's seconds;
* kind ``self-consistency``: section 4's k sampled chain-of-thought paths and their vote
  (``reasoning.self_consistency``; path i from seed + i, so the same settings give the same paths).

Why jobs: dozens of generations take minutes on a CPU; in the web process they held the interpreter
lock against every learner's rerun. The same settings on the same model, code, threads and
processor give the same texts, so a class that scores the same problems shares one run, and a
finished one is shown again at once. A learner's own word problem makes a self-consistency run
theirs alone (the page does not share it).

spec (JSON, records.job_spec): {"settings": ..., "max_seconds", "fingerprints":
records.instruct_fingerprints, "code", "threads", "device", "cpu"}, with settings
    reasoning-three: {"model", "problem": {"id", "question", "answer"}, "modes": [...], "cot_tokens"}
    reasoning: {**recorded.reasoning_settings(n_problems, modes, cot_tokens), "model": "smollm2" | "qwen"}
    self-consistency: {"model", "problem": {"id", "question", "answer"}, "k", "temperature", "seed", "tokens"}
Row (one per generation): {"step", "seconds", "label"}.
Result: reasoning-three {"res": {mode: score_completion dict}, "stopped"};
reasoning {"attempts": [score_completion dicts, in the page's order], "stopped"};
self-consistency {"res": self_consistency's dict, "stopped"} ("stopped": everybody left: the
attempts so far are kept; a vote is only taken over all k paths).
"""
from __future__ import annotations

import time
from typing import Callable

from lessons.core import records
from lessons.prompting import recorded

CODE = recorded.CODE + ("lessons/prompting/reasoning_job.py",)
JOB = records.JobCode(CODE)
spec = JOB.spec
THREE, SCORE, SELF_CONSISTENCY = "reasoning-three", "reasoning", "self-consistency"
THREADS = recorded.THREADS
ATTEMPT_S = 60.0      # one generation's time limit (the page's)


def score_settings(model: str, n_problems: int, modes, cot_tokens: int) -> dict:
    return {**recorded.reasoning_settings(n_problems, modes, cot_tokens), "model": model}


def three_settings(model: str, problem: dict, modes, cot_tokens: int) -> dict:
    return {"model": model, "problem": {key: problem[key] for key in ("id", "question", "answer")},
            "modes": list(modes), "cot_tokens": int(cot_tokens)}


def sc_settings(model: str, problem: dict, k: int, temperature: float, seed: int, tokens: int) -> dict:
    return {"model": model, "problem": {key: problem[key] for key in ("id", "question", "answer")}, "k": int(k),
            "temperature": float(temperature), "seed": int(seed), "tokens": int(tokens)}


def _ticker(progress: Callable[[dict], None]):
    t0 = time.perf_counter()

    def tick(step: int, label: str) -> None:
        progress({"step": step, "seconds": round(time.perf_counter() - t0, 3), "label": label})
    return tick


def run_three(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """The spec's problem with each prompt, in the page's order; no new generation once nobody follows."""
    from lessons.prompting import reasoning

    s, tick = spec["settings"], _ticker(progress)
    lm = records.worker_model(s["model"], spec.get("device", "cpu"))
    res: dict = {}
    for mode in s["modes"]:
        if should_stop():
            return {"res": res, "stopped": "stopped"}
        res[mode] = reasoning.attempt(lm, s["problem"], mode, reasoning.page_tokens(mode, s["cot_tokens"]),
                                      max_seconds=ATTEMPT_S)
        tick(len(res), mode)
    return {"res": res, "stopped": "steps"}


def run_scores(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Each problem with each prompt, in the page's order; no new generation once nobody follows."""
    from lessons.prompting import reasoning

    s, tick = spec["settings"], _ticker(progress)
    lm = records.worker_model(s["model"], spec.get("device", "cpu"))
    attempts = []
    for prob in reasoning.problems()[:s["n_problems"]]:
        for mode in s["modes"]:
            if should_stop():
                return {"attempts": attempts, "stopped": "stopped"}
            attempts.append(reasoning.attempt(lm, prob, mode, reasoning.page_tokens(mode, s["cot_tokens"]),
                                              max_seconds=ATTEMPT_S))
            tick(len(attempts), f"{prob['id']} · {mode}")
    return {"attempts": attempts, "stopped": "steps"}


def run_self_consistency(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """k sampled paths and their vote on the spec's problem."""
    from lessons.prompting import reasoning

    s, tick = spec["settings"], _ticker(progress)
    lm = records.worker_model(s["model"], spec.get("device", "cpu"))

    def path_done(i: int, k: int) -> None:
        tick(i, f"path {i} of {k}")
        if i < k and should_stop():
            raise records.Left
    try:
        res = reasoning.self_consistency(lm, s["problem"], s["k"], s["temperature"], s["seed"], s["tokens"],
                                         ATTEMPT_S, progress=path_done)
    except records.Left:
        return {"res": None, "stopped": "stopped"}
    return {"res": res, "stopped": "steps"}
