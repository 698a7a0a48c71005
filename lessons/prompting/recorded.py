"""The prompting pages' SmolLM2 runs as recorded runs (lessons.core.records): the ReAct page's
traces, the in-context-learning page's zero-/one-/few-shot measurement and the reasoning page's
scores of direct, chain-of-thought and PAL prompts.

A ReAct run with SmolLM2 is a chain of greedy generations (the whole prompt read again at every
step), so one example question takes a learner many seconds of waiting (each record keeps its own
CPU seconds). Greedy decoding on the same model, tools, code and thread count writes the same trace
every time: so each example question's trace at the page's default settings is recorded once, the
page shows it at once (labelled as recorded, "Run the ReAct loop" one click away), and the page's
claim about SmolLM2 is checked on the records, with one question replayed live to prove that the
records are what the current code does.

Kind ``react``: settings = {"model": "smollm2", "search": "minilm", "question", "max_steps",
"step_tokens"}; the fingerprints are SmolLM2's and MiniLM's (the search tool's encoder), torch's
version and the thread count. The JSON result: {"steps": [react.Step as a dict, ...], "final",
"stopped", "prompt"}.

Kind ``in-context-learning``: the page's "Measure zero-, one- and k-shot" at its defaults, for each
shipped task in each prompt format (scoring reads next-token probabilities: no sampling, the same
numbers every time). settings = {"model": "smollm2", "task", "chat", "instruction", "examples":
[[text, label], ...]}; the fingerprints are SmolLM2's, torch's version and the thread count. The
JSON result: {"conditions": [in_context_learning.Condition as a dict, ...]}.

Kind ``reasoning``: the reasoning page's "Score them" at its defaults (``reasoning.PAGE_DEFAULTS``:
greedy generations, so the same text every time). settings = {"model": "smollm2", "n_problems",
"modes", "cot_tokens"}; the fingerprints are SmolLM2's, torch's version and the thread count. The
JSON result: {"attempts": [reasoning.score_completion's dict per (problem, mode), problems first]};
the page's first section shows a problem's three attempts from it too.
"""
from __future__ import annotations

from dataclasses import asdict

from lessons.core import records
from lessons.prompting import in_context_learning as icl
from lessons.prompting import react, reasoning

KIND = "react"
ICL_KIND = "in-context-learning"
REASONING_KIND = "reasoning"
CODE = ("lessons/prompting/recorded.py", "lessons/prompting/react.py", "lessons/core/generate.py",
        "lessons/core/safe_eval.py", "lessons/core/rng.py", "lessons/core/tensors.py", "lessons/retrieval/rag.py",
        "assets/rag/handbook.json", "assets/reasoning/react_tasks.json",
        "lessons/prompting/in_context_learning.py", *(f"assets/prompting/{f}" for f in icl.TASK_FILES.values()),
        "lessons/prompting/reasoning.py", "assets/reasoning/problems.json", "lessons/core/budget.py")
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps and tokens decide
THREADS = 1
DEFAULTS = {"max_steps": 5, "step_tokens": 56}      # the page's sliders (pages/w3_react.py reads them); 5 steps: the longest reference trace (react_tasks.json)
INDEX = {"size": 40, "overlap": 10, "k": 1}          # the page's search index and tool


def settings(question: str, **over) -> dict:
    return {"model": "smollm2", "search": "minilm", "question": question, **DEFAULTS, **over}


def icl_settings(task: str, chat: bool, instruction: str, examples) -> dict:
    """The in-context-learning page's measurement: ``examples`` as (text, label) pairs."""
    return {"model": "smollm2", "task": task, "chat": bool(chat), "instruction": instruction,
            "examples": [[str(t), str(lab)] for t, lab in examples]}


def icl_default(task_key: str, chat: bool) -> dict:
    """The page's defaults for a task: its own instruction and all its shipped examples."""
    t = icl.load_task(task_key)
    return icl_settings(task_key, chat, t.instruction, [(e.text, e.label) for e in t.examples])


def reasoning_settings(n_problems: int, modes, cot_tokens: int) -> dict:
    """The reasoning page's scoring: the first ``n_problems`` problems, each prompt of ``modes``."""
    return {"model": "smollm2", "n_problems": int(n_problems), "modes": [str(m) for m in modes],
            "cot_tokens": int(cot_tokens)}


_R = reasoning.PAGE_DEFAULTS
RUNS: list[tuple[str, dict]] = ([(KIND, settings(t["question"])) for t in react.tasks()]
                                + [(ICL_KIND, icl_default(k, chat)) for k in icl.TASK_FILES for chat in (False, True)]
                                + [(REASONING_KIND, reasoning_settings(_R["n_problems"], _R["modes"], _R["cot_tokens"]))])


class Lab:
    """The shared SmolLM2 and MiniLM (read-only) and the ReAct page's tools: ``tools`` is
    react.make_tools over lessons.retrieval.rag's search tool on MiniLM with the INDEX settings,
    built by the caller (the page has them; a prompting module does not import retrieval). A run
    without the search tool (settings without "search") needs only SmolLM2."""

    def __init__(self, smollm2, minilm=None, tools=None):
        self.smollm2, self.minilm, self.tools = smollm2, minilm, tools
        self._fp: dict = {}

    def _print(self, name: str, loaded) -> str:
        from lessons.models import state_fingerprint

        if name not in self._fp:
            self._fp[name] = state_fingerprint(loaded.model)
        return self._fp[name]

    def fingerprints(self, settings: dict) -> dict:
        import torch

        fp = {"smollm2": self._print("smollm2", self.smollm2)}
        if settings.get("search"):
            fp["minilm"] = self._print("minilm", self.minilm)
        return {**fp, "torch": torch.__version__, "threads": THREADS}


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


def measure_shots(lab: Lab, s: dict, n_items: int | None = None) -> dict:
    """The page's zero-/one-/few-shot measurement with the settings ``s``; ``n_items``: only
    the first test items (a short replay of the same run)."""
    task = icl.load_task(s["task"])
    items = list(task.test[:n_items]) if n_items else None
    conds = icl.compare_shots(lab.smollm2.model, lab.smollm2.tokenizer, task,
                              [icl.Example(t, lab_) for t, lab_ in s["examples"]], use_chat=s["chat"],
                              instruction=s["instruction"], items=items)
    return {"conditions": [asdict(c) for c in conds]}


def as_conditions(result: dict) -> list[icl.Condition]:
    """A recorded measurement as the in_context_learning.Condition list the page draws."""
    return [icl.Condition(**c) for c in result["conditions"]]


def score_reasoning(lab: Lab, s: dict, n_problems: int | None = None) -> dict:
    """The reasoning page's scoring with the settings ``s``, in the page's order (each problem, each
    prompt); ``n_problems``: only the first problems (a short replay of the same run)."""
    attempts = []
    for prob in reasoning.problems()[:n_problems or s["n_problems"]]:
        for mode in s["modes"]:
            attempts.append(reasoning.attempt(lab.smollm2, prob, mode, reasoning.page_tokens(mode, s["cot_tokens"]),
                                              max_seconds=FAR))
    return {"attempts": attempts}


RECIPES = {KIND: run_trace, ICL_KIND: measure_shots, REASONING_KIND: score_reasoning}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
