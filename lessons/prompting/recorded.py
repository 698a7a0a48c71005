"""The ReAct page's SmolLM2 traces as recorded runs (lessons.core.records).

A ReAct run with SmolLM2 is a chain of greedy generations (the whole prompt read again at every
step), so one example question takes a learner many seconds of waiting (each record keeps its own
CPU seconds). Greedy decoding on the same model, tools, code and thread count writes the same trace
every time: so each example question's trace at the page's default settings is recorded once, the
page shows it at once (labelled as recorded, "Run the ReAct loop" one click away), and the page's
claim about SmolLM2 is checked on the records, with one question replayed live to prove that the
records are what the current code does.

Kind ``react``: settings = {"model": "smollm2", "question", "max_steps", "step_tokens"}; the
fingerprints are SmolLM2's and MiniLM's (the search tool's encoder), torch's version and the thread
count. The JSON result: {"steps": [react.Step as a dict, ...], "final", "stopped", "prompt"}.
"""
from __future__ import annotations

from dataclasses import asdict

from lessons.core import records
from lessons.prompting import react

KIND = "react"
CODE = ("lessons/prompting/recorded.py", "lessons/prompting/react.py", "lessons/core/generate.py",
        "lessons/core/safe_eval.py", "lessons/core/rng.py", "lessons/core/tensors.py", "lessons/retrieval/rag.py",
        "assets/rag/handbook.json", "assets/reasoning/react_tasks.json")
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps and tokens decide
THREADS = 1
DEFAULTS = {"max_steps": 4, "step_tokens": 56}      # the page's sliders (pages/w3_react.py reads them)
INDEX = {"size": 40, "overlap": 10, "k": 1}          # the page's search index and tool


def settings(question: str, **over) -> dict:
    return {"model": "smollm2", "question": question, **DEFAULTS, **over}


RUNS: list[tuple[str, dict]] = [(KIND, settings(t["question"])) for t in react.tasks()]


class Lab:
    """The shared SmolLM2 and MiniLM (read-only) and the page's tools: ``tools`` is
    react.make_tools over lessons.retrieval.rag's search tool on MiniLM with the INDEX settings,
    built by the caller (the page has them; a prompting module does not import retrieval)."""

    def __init__(self, smollm2, minilm, tools):
        self.smollm2, self.minilm, self.tools = smollm2, minilm, tools
        self._fp: dict | None = None

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = {"smollm2": state_fingerprint(self.smollm2.model),
                        "minilm": state_fingerprint(self.minilm.model)}
        return {**self._fp, "torch": torch.__version__, "threads": THREADS}


def trace_dict(trace: react.Trace) -> dict:
    return {"steps": [asdict(s) for s in trace.steps], "final": trace.final, "stopped": trace.stopped,
            "prompt": trace.prompt}


def as_trace(result: dict, question: str) -> react.Trace:
    """A recorded result as the react.Trace the page draws."""
    return react.Trace(question, [react.Step(**s) for s in result["steps"]], result["final"], result["stopped"],
                       result["prompt"])


def run_trace(lab: Lab, s: dict) -> dict:
    return trace_dict(react.run_react(lab.smollm2, lab.tools, s["question"], s["max_steps"], s["step_tokens"],
                                      max_seconds=FAR))


RECIPES = {KIND: run_trace}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
