"""The prose and formulas of a lesson page, read from its source (pure Python).

Presenter mode hides the page's top-level prose and shows it in one expander instead; the
text comes from the page's own literal st.markdown / st.latex / st.write / st.caption
calls, so nothing is written twice and pages need no changes."""
from __future__ import annotations

import ast
import re
import functools
from pathlib import Path

_KINDS = {"markdown": "markdown", "write": "markdown", "latex": "latex", "caption": "caption"}


@functools.lru_cache(maxsize=128)
def page_prose(path: Path) -> tuple[tuple[str, str], ...]:
    """((kind, text), ...) for the module-level `st.<kind>("literal")` calls, in order."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return ()
    out = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.value.id == "st"
                and call.func.attr in _KINDS and call.args):
            continue
        try:
            text = ast.literal_eval(call.args[0])
        except ValueError:
            continue
        if isinstance(text, str) and text.strip():
            out.append((_KINDS[call.func.attr], text))
    return tuple(out)


@functools.lru_cache(maxsize=128)
def page_keys(path: Path) -> tuple[frozenset[str], tuple[re.Pattern, ...]]:
    """The widget keys a page writes in its source: literal `key="..."` arguments, and
    f-string keys as patterns (`key=f"sampling.prompt_{i}"` -> sampling\\.prompt_.+).
    A shared link may only set these (never arbitrary session state)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return frozenset(), ()
    literal, patterns = set(), []
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or node.arg != "key":
            continue
        v = node.value
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            literal.add(v.value)
        elif isinstance(v, ast.JoinedStr):
            parts = [re.escape(p.value) if isinstance(p, ast.Constant) else ".+" for p in v.values]
            patterns.append(re.compile("^" + "".join(parts) + "$"))
    return frozenset(literal), tuple(patterns)


def is_page_key(path: Path, key: str) -> bool:
    literal, patterns = page_keys(path)
    return key in literal or any(p.match(key) for p in patterns)
