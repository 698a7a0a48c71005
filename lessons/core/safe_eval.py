"""A safe evaluator for untrusted arithmetic: what the PAL programs of the reasoning page
and the ReAct calculator tool run on.

Model output is untrusted text. It is NEVER passed to eval/exec: :func:`run_program`
parses it with ``ast`` and walks the tree itself, allowing only numbers, +, -, *, /, //, %,
** (bounded), parentheses, variables assigned earlier in the same program and four pure
functions (abs, min, max, round). Anything else -- imports, attribute access, strings,
calls such as ``__import__('os')`` -- is rejected with a message.
"""
from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass

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
