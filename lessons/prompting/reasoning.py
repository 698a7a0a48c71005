"""Reasoning prompts on arithmetic word problems: direct answer, chain-of-thought (CoT) and
program-aided language models (PAL).

* Direct: "question -> number". The model must do the arithmetic inside one forward pass
  per token.
* Chain-of-thought (Wei et al. 2022): ask for the intermediate steps first. The paper found
  the gain *emerges with scale* (roughly 100B parameters); at 135M it often does not help,
  and the page shows what really happens instead of promising an improvement.
* Self-consistency (Wang et al. 2022): sample k reasoning paths at a temperature T > 0 instead
  of one greedy path, read each path's final number and take the majority vote. Different
  paths make different mistakes; the right answer is the one they most often agree on.
* PAL (Gao et al. 2022): the model writes a small program and an interpreter computes the
  number, so the model only has to get the *structure* right, not the arithmetic. The
  program runs in lessons.core.safe_eval (never eval/exec).

A score means something only if the answers had room to finish: every attempt records why its
generation ended, ``finished`` says whether it ended by itself, and lessons.core.budget turns a
set of attempts into the cut-off share reported next to each accuracy.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from lessons.core import budget
from lessons.core.safe_eval import ProgramRun, run_program
from lessons.core.generate import chat_prompt, generate

REASONING_DIR = Path(__file__).resolve().parents[2] / "assets" / "reasoning"


@lru_cache(maxsize=1)
def problems() -> list[dict]:
    """[{"id", "question", "answer", "program"}] from assets/reasoning/problems.json."""
    return json.loads((REASONING_DIR / "problems.json").read_text(encoding="utf-8"))["problems"]


_NUM = r"-?\d[\d,]*(?:\.\d+)?"


def extract_number(text: str) -> float | None:
    """The model's final number: after 'answer is' / 'answer:' if present, else the last
    number in the text. '4,500' -> 4500."""
    m = re.findall(rf"answer\s*(?:is|=|:)\s*\**\s*(?:€|\$|euros?\s*)?({_NUM})", text, flags=re.I)
    nums = m or re.findall(_NUM, text)
    if not nums:
        return None
    try:
        return float(nums[-1].replace(",", ""))
    except ValueError:
        return None


_FINAL = re.compile(rf"answer\s*(?:is|=|:)\s*\**\s*(?:€|\$|euros?\s*)?{_NUM}", flags=re.I)


def is_correct(value, target) -> bool:
    """The model's number equals the target (False when either is missing: a learner's own
    problem may come without an answer)."""
    return value is not None and target is not None and abs(float(value) - float(target)) < 1e-6


MAX_OWN_CHARS = 400       # a learner's own word problem: a few sentences, like the set's


def own_problem(question: str, answer: str = "") -> dict:
    """A learner's own word problem in the set's shape: {"id": "own", "question", "answer": the
    number they gave, or None, "program": None}. Any text is accepted: it is only ever put into a
    prompt, and what the model writes back is only read as a number or run by the safe evaluator."""
    return {"id": "own", "question": question.strip()[:MAX_OWN_CHARS], "answer": extract_number(answer or ""),
            "program": None}


# --------------------------------------------------------------------------- prompts
PAL_EXAMPLE_Q = "Sam has 3 boxes with 6 pens in each box. He gives away 5 pens. How many pens are left?"
PAL_EXAMPLE_CODE = "boxes = 3\npens_per_box = 6\ngiven = 5\nanswer = boxes * pens_per_box - given"
# Chain-of-thought's worked exemplar (Wei et al. 2022 prompt with worked examples): the same
# question as PAL's, solved in short plain steps, one calculation per line. Without it small
# chat models write long LaTeX derivations that run out of tokens before the answer.
COT_EXAMPLE_STEPS = "Step 1: 3 boxes * 6 pens = 18 pens.\nStep 2: 18 - 5 = 13 pens.\nThe answer is 13."
COT_PREFILL = "Step 1:"


def make_prompt(tokenizer, question: str, mode: str) -> str:
    """mode: 'direct' | 'cot' | 'pal'. Returns the raw prompt string (chat template applied)."""
    if mode == "direct":
        user = f"{question}\nReply with only the final number."
    elif mode == "cot":
        user = ("Solve the problem in short steps: one calculation per line, plain text. "
                "Finish with 'The answer is N.'\n\n"
                f"Question: {PAL_EXAMPLE_Q}\n{COT_EXAMPLE_STEPS}\n\n"
                f"Question: {question}")
        # Pre-filled like PAL's fence: the model starts in the exemplar's format.
        return chat_prompt(tokenizer, user) + COT_PREFILL
    elif mode == "pal":
        user = ("Write Python code that computes the answer. Use only numbers, variables and "
                "+ - * /. The last line must be `answer = ...`.\n\n"
                f"Question: {PAL_EXAMPLE_Q}\n```python\n{PAL_EXAMPLE_CODE}\n```\n\n"
                f"Question: {question}")
        # Pre-fill the assistant's turn with the opening fence: the model continues with code.
        return chat_prompt(tokenizer, user) + "```python\n"
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return chat_prompt(tokenizer, user)


_ASSIGN = re.compile(r"^([A-Za-z_]\w*)\s*=[^=]")


def extract_program(completion: str) -> str:
    """The code the model wrote: up to the closing ``` (the prompt already opened the block).
    A program that computes a result but never names it `answer` gets `answer = <the last
    variable it assigned>` appended (PAL's `solution()` likewise returns its last value)."""
    code = completion.split("```")[0]
    lines = [ln.rstrip() for ln in code.strip().splitlines()]
    lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    top = [m.group(1) for ln in lines if (m := _ASSIGN.match(ln))]   # top-level assignments
    if top and "answer" not in top:
        lines.append(f"answer = {top[-1]}")
    return "\n".join(lines)


# New-token budgets, large enough that the answers end by themselves (EOS, the closing fence, the
# stop before an invented question) rather than at the cap: bench/week3_apps.py measures the
# cut-off share of each mode and chain-of-thought's finish curve (assets/measured/week3_apps.json).
MAX_TOKENS = {"direct": 64, "cot": 128, "pal": 128}
PAL_STOP = ("```",)
COT_STOP = ("\nQuestion:",)     # a small model goes on to invent the next exemplar question


def stop_strings(mode: str) -> tuple[str, ...]:
    """Where a mode's answer ends: PAL at the closing fence, chain-of-thought before a new question."""
    return {"pal": PAL_STOP, "cot": COT_STOP}.get(mode, ())

MODES = ("direct", "cot", "pal")
# The page's defaults (pages/w3_reasoning.py and its recorded run read them): the token slider of
# chain-of-thought and PAL, the number of problems scored and the prompts compared.
PAGE_DEFAULTS = {"cot_tokens": MAX_TOKENS["cot"], "n_problems": 8, "modes": MODES}


def page_tokens(mode: str, cot_tokens: int) -> int:
    """New tokens the page allows a mode: ``cot_tokens`` for chain-of-thought and PAL, at most
    MAX_TOKENS["direct"] for a direct answer (a number needs few; a model that explains anyway
    gets room to finish)."""
    return min(MAX_TOKENS["direct"], int(cot_tokens)) if mode == "direct" else int(cot_tokens)


def score_completion(problem: dict, mode: str, gen: dict) -> dict:
    """Read the model's answer from a generation (a `Generation` as a dict): the number it
    states (direct, CoT) or the value of the program it wrote, run by the SAFE evaluator
    (PAL). Returns the generation's fields plus value, correct, program and error."""
    out = dict(gen, mode=mode, problem=problem["id"], program=None, error=None)
    if mode == "pal":
        out["program"] = extract_program(gen["completion"])
        run = run_program(out["program"])
        out["error"] = run.error
        out["value"] = None if run.answer is None else float(run.answer)
    else:
        out["value"] = extract_number(gen["completion"])
    out["correct"] = is_correct(out["value"], problem["answer"])
    return out


def finished(a: dict) -> bool:
    """Did this attempt end by itself? It did when its generation stopped at EOS or at a stop
    string, or (chain-of-thought) when it already wrote its final line 'The answer is N' before
    the budget ran out. An attempt that did not is cut off: its score is the budget's."""
    if not budget.was_cut_off(a["stopped_by"]):
        return True
    return a.get("mode") == "cot" and bool(_FINAL.search(a["completion"]))


def budget_of(attempts: list[dict]) -> dict:
    """lessons.core.budget.summary over the attempts: how many were cut off by their budget."""
    return budget.summary(not finished(a) for a in attempts)


def shown_text(a: dict) -> str:
    """What the model's answer reads like: chain-of-thought's completion continues the pre-filled
    'Step 1:' of the prompt."""
    text = a["completion"]
    return f"{COT_PREFILL} {text}" if a.get("mode") == "cot" and text else text


def attempt(llm, problem: dict, mode: str, max_new_tokens: int | None = None,
            max_seconds: float = 40.0) -> dict:
    """One problem, one prompting mode, greedy and bounded."""
    prompt = make_prompt(llm.tokenizer, problem["question"], mode)
    n = int(max_new_tokens or MAX_TOKENS[mode])
    gen = generate(llm, prompt, n, max_seconds, stop=stop_strings(mode))
    return score_completion(problem, mode, dataclasses.asdict(gen))


# Self-consistency's settings (Wang et al. 2022 sample at T = 0.5-0.7; k = 5 is the smallest
# vote the issue asks for): the page and the bench read them.
SC_DEFAULTS = {"k": 5, "temperature": 0.7, "seed": 0}


def majority(values: list) -> float | None:
    """The most frequent number among the paths' answers (None = no number, which never wins);
    a tie goes to the value that appeared first, so the vote is deterministic."""
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(v for v in values if v is not None and counts[v] == best)


def self_consistency(llm, problem: dict, k: int = SC_DEFAULTS["k"], temperature: float = SC_DEFAULTS["temperature"],
                     seed: int = SC_DEFAULTS["seed"], max_new_tokens: int | None = None,
                     max_seconds: float = 40.0, progress=None) -> dict:
    """k chain-of-thought paths sampled at ``temperature`` (path i from seed + i, so the same seed
    gives the same paths), each read as a number, and their majority vote.

    Returns {"problem", "paths": [score_completion dict per path], "votes": {number: count},
    "value": the vote, "correct", "budget": budget_of(paths)}. ``progress(i, k)`` after each path."""
    prompt = make_prompt(llm.tokenizer, problem["question"], "cot")
    n = int(max_new_tokens or MAX_TOKENS["cot"])
    paths = []
    for i in range(int(k)):
        gen = generate(llm, prompt, n, max_seconds, COT_STOP, do_sample=True, temperature=temperature,
                       seed=int(seed) + i)
        paths.append(score_completion(problem, "cot", dataclasses.asdict(gen)))
        if progress:
            progress(i + 1, int(k))
    values = [p["value"] for p in paths]
    vote = majority(values)
    return {"problem": problem["id"], "paths": paths, "votes": dict(Counter(fmt(v) for v in values if v is not None)),
            "value": vote, "correct": is_correct(vote, problem["answer"]), "budget": budget_of(paths)}


def template_pal(problem: dict) -> ProgramRun:
    """The reference program for a problem, run through the same safe evaluator: what PAL
    looks like when the program is right."""
    return run_program(problem["program"])


def fmt(v) -> str:
    """A trace value for display: numbers compactly, anything else as text."""
    return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
