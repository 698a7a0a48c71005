"""Reasoning prompts on arithmetic word problems: direct answer, chain-of-thought (CoT) and
program-aided language models (PAL), plus the SAFE evaluator that runs PAL programs.

* Direct: "question -> number". The model must do the arithmetic inside one forward pass
  per token.
* Chain-of-thought (Wei et al. 2022): ask for the intermediate steps first. The paper found
  the gain *emerges with scale* (roughly 100B parameters); at 135M it often does not help,
  and the page shows what really happens instead of promising an improvement.
* PAL (Gao et al. 2022): the model writes a small program and an interpreter computes the
  number, so the model only has to get the *structure* right, not the arithmetic.

Model output is untrusted text. It is NEVER passed to eval/exec: :func:`run_program`
parses it with ``ast`` and walks the tree itself, allowing only numbers, +, -, *, /, //, %,
** (bounded), parentheses, variables assigned earlier in the same program and four pure
functions (abs, min, max, round). Anything else -- imports, attribute access, strings,
calls such as ``__import__('os')`` -- is rejected with a message.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import math
import operator
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lessons.rag import Generation, chat_prompt, greedy_generate

REASONING_DIR = Path(__file__).resolve().parent.parent / "assets" / "reasoning"

MAX_SOURCE_CHARS = 2000
MAX_STATEMENTS = 30
MAX_ABS_VALUE = 1e15     # bigger intermediate results are refused (no 10**10**10 bombs)
MAX_EXPONENT = 64


class SafeEvalError(ValueError):
    """The program is not allowed or cannot be computed; the message is shown to learners."""


_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCS = {"abs": abs, "min": min, "max": max, "round": round}


def _check(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SafeEvalError("only numbers are allowed")
    if isinstance(v, float) and not math.isfinite(v):
        raise SafeEvalError("the result is not a finite number")
    if abs(v) > MAX_ABS_VALUE:
        raise SafeEvalError(f"a number is larger than {MAX_ABS_VALUE:.0e}; refused")
    return v


def _eval(node: ast.AST, env: dict, funcs: dict | None = None, depth: int = 0):
    """Evaluate one expression node, allowing only the whitelisted node types."""
    if isinstance(node, ast.Constant):
        return _check(node.value)
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise SafeEvalError(f"unknown name '{node.id}' (assign it first)")
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, env, funcs, depth), _eval(node.right, env, funcs, depth)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise SafeEvalError(f"exponents above {MAX_EXPONENT} are refused")
        try:
            return _check(_BINOPS[type(node.op)](left, right))
        except ZeroDivisionError:
            raise SafeEvalError("division by zero") from None
        except OverflowError:
            raise SafeEvalError("the number is too large") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_eval(node.operand, env, funcs, depth)))
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        if funcs and name in funcs and not node.args and not node.keywords:
            # a zero-argument function the program defined earlier (small models like to
            # wrap their PAL program in `def solution(): ... return x`)
            if depth >= 3:
                raise SafeEvalError("functions may not call each other more than 3 deep")
            return _run_body(funcs[name], {}, funcs, depth + 1)
        if name == "print" and len(node.args) == 1 and not node.keywords:
            return _eval(node.args[0], env, funcs, depth)   # print(x) is read as x
        if not isinstance(node.func, ast.Name) or name not in _FUNCS or node.keywords:
            raise SafeEvalError(f"calling '{name}' is not allowed (only {', '.join(_FUNCS)})")
        args = [_eval(a, env, funcs, depth) for a in node.args]
        if not args or len(args) > 8:
            raise SafeEvalError(f"'{name}' needs 1 to 8 arguments")
        return _check(_FUNCS[name](*args))
    raise SafeEvalError(f"'{type(node).__name__}' is not allowed (only arithmetic)")


def safe_eval(expr: str, env: dict | None = None):
    """Evaluate ONE arithmetic expression such as "3 * (4 + 5) / 2"."""
    if len(expr) > MAX_SOURCE_CHARS:
        raise SafeEvalError(f"expression longer than {MAX_SOURCE_CHARS} characters")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise SafeEvalError(f"not a valid expression: {exc.msg}") from None
    return _eval(tree.body, dict(env or {}))


@dataclass
class ProgramRun:
    answer: float | int | None
    env: dict                        # every variable after the run
    trace: list[tuple[str, object]]  # (source line, value) per statement
    error: str | None = None


def _assign(stmt: ast.stmt, env: dict, funcs: dict, depth: int):
    """Execute one allowed statement; returns its value (for the trace)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        val = _eval(stmt.value, env, funcs, depth)
        env[stmt.targets[0].id] = val
        return val
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and type(stmt.op) in _BINOPS:
        val = _eval(ast.BinOp(left=ast.Name(stmt.target.id, ast.Load()), op=stmt.op, right=stmt.value), env, funcs, depth)
        env[stmt.target.id] = val
        return val
    raise SafeEvalError(f"line {stmt.lineno}: only `name = arithmetic` lines are allowed, "
                        f"not '{type(stmt).__name__}'")


def _run_body(fn: ast.FunctionDef, env: dict, funcs: dict, depth: int):
    """The body of a zero-argument function: assignments, then `return expression`."""
    for stmt in fn.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            continue                                   # a docstring
        if isinstance(stmt, ast.Return):
            if stmt.value is None:
                raise SafeEvalError(f"'{fn.name}' returns nothing")
            return _eval(stmt.value, env, funcs, depth)
        _assign(stmt, env, funcs, depth)
    raise SafeEvalError(f"'{fn.name}' never returns a value")


def run_program(src: str, result_name: str = "answer") -> ProgramRun:
    """Run a tiny straight-line program: `name = expression` lines, optionally a final bare
    expression. The value of `result_name` (or the last expression) is the answer.

    Also accepted, because small models like to write it: zero-argument functions whose
    body is assignments plus `return expression`, called as `f()` or `print(f())`; a
    defined-but-never-called function's return value is used as the answer."""
    env: dict = {}
    funcs: dict = {}
    trace: list = []
    try:
        if len(src) > MAX_SOURCE_CHARS:
            raise SafeEvalError(f"program longer than {MAX_SOURCE_CHARS} characters")
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:
            raise SafeEvalError(f"not valid Python: {exc.msg} (line {exc.lineno})") from None
        if len(tree.body) > MAX_STATEMENTS:
            raise SafeEvalError(f"more than {MAX_STATEMENTS} statements")
        last = None
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                a = stmt.args
                if (a.args or a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or stmt.decorator_list
                        or len(stmt.body) > MAX_STATEMENTS):
                    raise SafeEvalError(f"line {stmt.lineno}: only functions without arguments or "
                                        "decorators are allowed")
                funcs[stmt.name] = stmt
                trace.append((f"def {stmt.name}(): ...", "defined"))
                continue
            if isinstance(stmt, ast.Expr):
                val = _eval(stmt.value, env, funcs, 0)
                last = val
            else:
                val = _assign(stmt, env, funcs, 0)
            trace.append((ast.get_source_segment(src, stmt) or "", val))
        ans = env.get(result_name, last)
        if ans is None and funcs:
            name = next(iter(funcs))
            ans = _run_body(funcs[name], {}, funcs, 1)
            trace.append((f"{name}()", ans))
        if ans is None:
            raise SafeEvalError(f"the program never sets `{result_name}`")
        return ProgramRun(ans, env, trace)
    except SafeEvalError as exc:
        return ProgramRun(None, env, trace, str(exc))


# --------------------------------------------------------------------------- problems
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


def is_correct(value, target) -> bool:
    return value is not None and abs(float(value) - float(target)) < 1e-6


# --------------------------------------------------------------------------- prompts
PAL_EXAMPLE_Q = "Sam has 3 boxes with 6 pens in each box. He gives away 5 pens. How many pens are left?"
PAL_EXAMPLE_CODE = "boxes = 3\npens_per_box = 6\ngiven = 5\nanswer = boxes * pens_per_box - given"


def make_prompt(tokenizer, question: str, mode: str) -> str:
    """mode: 'direct' | 'cot' | 'pal'. Returns the raw prompt string (chat template applied)."""
    if mode == "direct":
        user = f"{question}\nReply with only the final number."
    elif mode == "cot":
        user = (f"{question}\nLet's think step by step. Write the steps, then finish with "
                "'The answer is N.'")
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


def extract_program(completion: str) -> str:
    """The code the model wrote: up to the closing ``` (the prompt already opened the block)."""
    code = completion.split("```")[0]
    lines = [ln.rstrip() for ln in code.strip().splitlines()]
    return "\n".join(ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))


MAX_TOKENS = {"direct": 16, "cot": 120, "pal": 72}
PAL_STOP = ("```",)


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


def attempt(llm, problem: dict, mode: str, max_new_tokens: int | None = None,
            max_seconds: float = 40.0) -> dict:
    """One problem, one prompting mode, greedy and bounded."""
    prompt = make_prompt(llm.tokenizer, problem["question"], mode)
    n = int(max_new_tokens or MAX_TOKENS[mode])
    gen = greedy_generate(llm, prompt, n, max_seconds, stop=PAL_STOP if mode == "pal" else ())
    return score_completion(problem, mode, dataclasses.asdict(gen))


def template_pal(problem: dict) -> ProgramRun:
    """The reference program for a problem, run through the same safe evaluator: what PAL
    looks like when the program is right."""
    return run_program(problem["program"])


def fmt(v) -> str:
    """A trace value for display: numbers compactly, anything else as text."""
    return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
