"""ReAct: reason + act (Yao et al. 2022, "ReAct: Synergizing Reasoning and Acting in
Language Models").

The model writes a *Thought*, then an *Action* such as ``calculator[3 * 1290]``. We stop
generation at "Observation:", run the tool ourselves, paste its result back as the
Observation, and let the model continue -- until it writes ``Final Answer: ...`` or the
step budget runs out:

    Question: ...
    Thought: I need the price of one Heron.
    Action: lookup[Heron]
    Observation: Heron commuter bike: price_eur=1290, stock=38, weight_kg=14.2
    Thought: ...
    Final Answer: 3870 euros

The tools are real: a calculator (the safe ast evaluator of lessons.prompting.reasoning, never
eval), semantic search over the RAG vector store, and a product lookup table. A
**reference trace** (thoughts and actions scripted by hand, observations computed live by
the same tools) shows the pattern even when a 135M model stumbles; it is always labelled
as scripted.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

from lessons.core import budget
from lessons.core.generate import chat_prompt, generate
from lessons.core.safe_eval import SafeEvalError, safe_eval

TASKS_PATH = Path(__file__).resolve().parents[2] / "assets" / "reasoning" / "react_tasks.json"

Tool = Callable[[str], str]
MAX_TOOL_INPUT = 200
MAX_OBSERVATION = 400


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(TASKS_PATH.read_text(encoding="utf-8"))


def tasks() -> list[dict]:
    return _data()["tasks"]


def lookup_table() -> dict:
    return _data()["lookup_table"]


# --------------------------------------------------------------------------- tools
def calculator(arg: str) -> str:
    try:
        v = safe_eval(arg)
    except SafeEvalError as exc:
        return f"Error: {exc}"
    return f"{round(v, 6):g}" if isinstance(v, float) else str(v)


def lookup(arg: str) -> str:
    """A product's row, by its short name (Heron) or the full name its rows print (Heron commuter bike)."""
    key = arg.strip().strip("'\"").lower()
    table = lookup_table()
    row = table.get(key) or next((r for r in table.values() if r["product"].lower() == key), None)
    if row is None:
        return (f"Error: no product '{arg.strip()[:40]}'. lookup takes ONE product name per call, one of: "
                f"{', '.join(table)} (e.g. lookup[Kestrel]); for the handbook's rules use search[...].")
    return f"{row['product']}: " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "product")


def make_tools(search: Tool) -> dict[str, Tool]:
    """The three tools; ``search`` is a retriever as a tool (lessons.retrieval.rag.search_tool)."""
    return {"calculator": calculator, "search": search, "lookup": lookup}


TOOL_HELP = {
    "calculator": "calculator[expression] computes arithmetic, e.g. calculator[3 * (4 + 5)]",
    "search": "search[query] finds a passage in the Brightwater company handbook (staff rules, allowances, "
              "services), e.g. search[training budget per employee]",
    "lookup": "lookup[product] gives price_eur, stock and weight_kg of Heron, Kestrel, Swift or Swift battery",
}


def run_tool(tools: dict[str, Tool], name: str, arg: str) -> str:
    if name not in tools:
        return f"Error: unknown tool '{name[:30]}'. Use one of: {', '.join(tools)}."
    if len(arg) > MAX_TOOL_INPUT:
        return f"Error: tool input longer than {MAX_TOOL_INPUT} characters."
    out = tools[name](arg)
    return out if len(out) <= MAX_OBSERVATION else out[:MAX_OBSERVATION] + " ..."


# --------------------------------------------------------------------------- the prompt
EXAMPLE = (
    "Question: How much do 2 Kestrel bikes weigh together?\n"
    "Thought: I need the weight of one Kestrel.\n"
    "Action: lookup[Kestrel]\n"
    "Observation: Kestrel cargo bike: price_eur=3450, stock=12, weight_kg=31.5\n"
    "Thought: One weighs 31.5 kg, so two weigh 2 * 31.5.\n"
    "Action: calculator[2 * 31.5]\n"
    "Observation: 63\n"
    "Thought: I know the answer.\n"
    "Final Answer: 2 Kestrel bikes weigh 63 kg.\n"
)
FORMAT_ERROR = ("Error: no action found. Write one line `Action: tool[input]` with a tool from the list, "
                "or `Final Answer: ...`.")
REPEAT_HINT = " (You already made this call with this input: use its result, or take another step.)"


def system_prompt(tools: dict[str, Tool]) -> str:
    lines = "\n".join(f"- {TOOL_HELP.get(n, n)}" for n in tools)
    return (
        "Answer the question by thinking step by step and using tools. Tools:\n"
        f"{lines}\n"
        "Use exactly this format, one action per step:\n"
        "Thought: ...\nAction: tool[input]\nObservation: (the tool's result)\n"
        "... and finally:\nFinal Answer: ...\n\n"
        f"Example:\n{EXAMPLE}"
    )


# --------------------------------------------------------------------------- parsing
_ACTION = re.compile(r"Action\s*:\s*([A-Za-z_]+)\s*\[(.*?)\]", re.S)
_FINAL = re.compile(r"Final Answer\s*:\s*(.+)", re.S)
_THOUGHT = re.compile(r"Thought\s*:\s*(.*?)(?=\n\s*(?:Action|Final Answer)\s*:|\Z)", re.S)


@dataclass
class Step:
    thought: str = ""
    action: str = ""
    action_input: str = ""
    observation: str = ""
    final: str = ""
    raw: str = ""            # what the model wrote in this step (empty for scripted steps)
    note: str = ""           # e.g. "could not parse an action"
    stopped_by: str = ""     # why this step's generation ended (generate.Generation.stopped_by; "" if scripted)

    @property
    def cut_off(self) -> bool:
        """Did this step's generation hit its token or time cap (lessons.core.budget)?"""
        return budget.was_cut_off(self.stopped_by)


def parse_step(text: str) -> Step:
    """Read one model turn. A Final Answer wins only if it comes before any Action."""
    step = Step(raw=text)
    m = _THOUGHT.search(text)
    step.thought = (m.group(1) if m else text.split("Action")[0]).strip()[:400]
    act, fin = _ACTION.search(text), _FINAL.search(text)
    if fin and (not act or fin.start() < act.start()):
        step.final = fin.group(1).strip().splitlines()[0][:300] if fin.group(1).strip() else ""
    elif act:
        step.action, step.action_input = act.group(1).strip().lower(), act.group(2).strip()
    return step


@dataclass
class Trace:
    question: str
    steps: list[Step] = field(default_factory=list)
    final: str = ""
    stopped: str = ""        # "final answer", "step limit", "time limit"
    prompt: str = ""         # the full text the model saw at the last step
    scripted: bool = False
    seconds: float = 0.0

    @property
    def cut_off(self) -> bool:
        """Was any step's generation cut off by its token or time budget?"""
        return any(s.cut_off for s in self.steps)


def run_react(llm, tools: dict[str, Tool], question: str, max_steps: int = 4,
              max_new_tokens: int = 60, max_seconds: float = 90.0,
              progress: Optional[Callable[[int, Step], None]] = None) -> Trace:
    """Drive the model through Thought/Action/Observation steps (bounded)."""
    t0 = time.perf_counter()
    trace = Trace(question)
    calls: set[tuple[str, str]] = set()
    # The assistant's turn is pre-filled with "Thought:" so the model starts in format.
    base = chat_prompt(llm.tokenizer, f"Question: {question}", system_prompt(tools))
    scratch = "Thought:"
    for i in range(int(max_steps)):
        left = max_seconds - (time.perf_counter() - t0)
        if left <= 1:
            trace.stopped = "time limit"
            break
        gen = generate(llm, base + scratch, max_new_tokens, left,
                              stop=("Observation:", "\nQuestion:"))
        step = parse_step("Thought:" + gen.completion)  # scratch always ends with "Thought:"
        step.stopped_by = gen.stopped_by
        text = gen.completion.strip()
        if step.final:
            trace.steps.append(step)
            trace.final = step.final
            trace.stopped = "final answer"
            if progress:
                progress(i, step)
            break
        if gen.stopped_by == "time limit" and not step.action:
            step.note = "cut off by the time limit (the server is busy)"
            trace.steps.append(step)
            trace.stopped = "time limit"
            break
        hint = ""
        if step.action:
            step.observation = run_tool(tools, step.action, step.action_input)
            call = (step.action, step.action_input.strip().lower())
            if call in calls:            # a loop: the model is told so (the observation stays the tool's)
                step.note, hint = "the same call again", REPEAT_HINT
            calls.add(call)
        else:
            step.note = "could not parse an action" + (" (cut off by the token limit)" if step.cut_off else "")
            step.observation = FORMAT_ERROR
        trace.steps.append(step)
        if progress:
            progress(i, step)
        scratch += " " + text + f"\nObservation: {step.observation}{hint}\nThought:"
    else:
        trace.stopped = "step limit"
    if not trace.stopped:
        trace.stopped = "step limit"
    trace.prompt = base + scratch
    trace.seconds = time.perf_counter() - t0
    return trace


def reference_trace(task: dict, tools: dict[str, Tool]) -> Trace:
    """The scripted trace of a task: hand-written thoughts/actions, LIVE observations."""
    t0 = time.perf_counter()
    trace = Trace(task["question"], scripted=True)
    for s in task["reference"]:
        step = Step(thought=s["thought"])
        if "final" in s:
            step.final = s["final"]
            trace.final = s["final"]
        else:
            step.action, step.action_input = s["action"], s["input"]
            step.observation = run_tool(tools, step.action, step.action_input)
        trace.steps.append(step)
    trace.stopped = "final answer"
    trace.seconds = time.perf_counter() - t0
    return trace


def format_trace(trace: Trace) -> str:
    """The trace as the plain text the ReAct paper prints."""
    out = [f"Question: {trace.question}"]
    for s in trace.steps:
        if s.thought:
            out.append(f"Thought: {s.thought}")
        if s.final:
            out.append(f"Final Answer: {s.final}")
        elif s.action:
            out.append(f"Action: {s.action}[{s.action_input}]")
        if s.observation:
            out.append(f"Observation: {s.observation}")
    return "\n".join(out)


def answer_matches(final: str, target: float) -> bool:
    """Does the final answer state the target number (any number in it, '3,870' = 3870)?"""
    nums = re.findall(r"-?\d[\d,]*(?:\.\d+)?", final)
    vals = []
    for n in nums:
        try:
            vals.append(float(n.replace(",", "")))
        except ValueError:
            pass
    return any(abs(v - float(target)) < 1e-6 for v in vals)


# --------------------------------------------------------------------------- failure analysis
SOLVED = "solved"
FAILURES = ("budget cut", "right observation ignored", "format not followed", "wrong tool", "wrong argument",
            "step limit")
OUTCOMES = (SOLVED, *FAILURES)
OUTCOME_HELP = {      # one line per class for the page; classify's docstring has the exact rules
    SOLVED: "the Final Answer states the expected number",
    "budget cut": "a step hit its token or time cap before it wrote a complete action or answer",
    "right observation ignored": "the calculator returned the answer, or every fact was looked up, "
                                 "but the final answer is wrong",
    "format not followed": "a step with neither `Action: tool[input]` nor `Final Answer:`",
    "wrong tool": "a call to a tool the task does not need, or an answer without a tool it needs",
    "wrong argument": "a needed tool called with an input that returns another observation than the reference's",
    "step limit": "only right calls, but the step budget ran out",
}


def classify(trace: Trace, task: dict, reference: Trace) -> str:
    """One outcome per model run, read from its trace; ``reference`` is the task's
    :func:`reference_trace` (its calls are the tools and arguments the task needs, its
    observations what those calls return). The first rule that holds wins:

    1. ``solved``: the run ended with a Final Answer that states the task's number.
    2. ``budget cut``: the run ended by its time limit, or a step's generation hit its token or
       time cap before it wrote a complete ``Action: tool[input]`` or ``Final Answer:`` line while
       every step that ended by itself followed the format (the budget, not the model, ended what
       it was writing; a model that also breaks the format with budget to spare is rule 4's).
    3. ``right observation ignored``: a calculator observation is the task's number, yet the run
       did not end with it (a wrong Final Answer, or more steps until the limit).
    4. ``format not followed``: a step has neither a parseable Action nor a Final Answer.
    5. ``wrong tool``: a call names a tool the reference does not use (an unknown tool included).
    6. ``wrong argument``: a call to a needed tool gets an observation that none of the
       reference's calls to that tool gets (a missing product, another handbook passage, a
       calculation with other numbers; a correct detour such as 2780 * 0.35 first counts too).
    7. ``step limit``: every call was right, but the run reached its step budget first.
    8. Otherwise the run gave a wrong Final Answer after right calls only: ``right observation
       ignored`` when every fact the reference looks up (its lookup and search observations)
       was observed, else ``wrong tool`` (it answered instead of calling a tool it needed).
    """
    if trace.stopped == "final answer" and answer_matches(trace.final, task["answer"]):
        return SOLVED
    unparsed = [s for s in trace.steps if not (s.action or s.final)]
    if trace.stopped == "time limit" or (unparsed and all(s.cut_off for s in unparsed)):
        return "budget cut"
    if any(answer_matches(s.observation, task["answer"]) for s in trace.steps if s.action == "calculator"):
        return "right observation ignored"
    if unparsed:
        return "format not followed"
    needed: dict[str, set[str]] = {}
    for r in reference.steps:
        if r.action:
            needed.setdefault(r.action, set()).add(r.observation.strip())
    calls = [s for s in trace.steps if s.action]
    if any(s.action not in needed for s in calls):
        return "wrong tool"
    if any(s.observation.strip() not in needed[s.action] for s in calls):
        return "wrong argument"
    if trace.stopped == "step limit":
        return "step limit"
    facts = {o for tool, obs in needed.items() if tool != "calculator" for o in obs}
    seen = {s.observation.strip() for s in calls}
    return "right observation ignored" if facts <= seen else "wrong tool"
