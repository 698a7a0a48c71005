"""Widget settings <-> URL query parameters (pure Python; the page layer is ui/share.py).

A shareable link carries each main setting as ``<widget key>=<value>``. Values are written
so that reading them back gives the same Python type: ``true``/``false`` for booleans,
``3`` for ints, ``0.3`` (always with a dot or exponent) for floats, JSON for lists and
tuples (``[0.2, 0.8]``), and plain text otherwise (text that would read back as another
type gets a leading ``'``)."""
from __future__ import annotations

import json
import math
import re

# A learner's text box holds up to ui/inputs.MAX_TEXT_CHARS (2,000) characters, so a link can
# carry any of them (plus the quote mark of text that looks like a number). Browsers and the
# shipped HAProxy (16 kB per request line) take URLs of that size.
MAX_VALUE_CHARS = 2_001
MAX_KEY_CHARS = 80
RESERVED = frozenset({"present", "code", "embed", "embed_options"})
_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,%d}$" % MAX_KEY_CHARS)
_INT = re.compile(r"^-?\d{1,18}$")
_FLOAT = re.compile(r"^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+|inf|nan)$")


class Unshareable(ValueError):
    pass


def shareable_key(key: str) -> bool:
    return isinstance(key, str) and bool(_KEY.match(key)) and key not in RESERVED \
        and not key.startswith(("study.", "app.", "_", "$$"))


def _scalar_ok(v) -> bool:
    return isinstance(v, (bool, int, str)) or (isinstance(v, float) and math.isfinite(v))


def encode(value) -> str:
    if isinstance(value, bool):
        out = "true" if value else "false"
    elif isinstance(value, int):
        out = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Unshareable("not a finite number")
        out = repr(value)
    elif isinstance(value, (list, tuple)):
        if not all(_scalar_ok(v) for v in value):
            raise Unshareable("a list of non-simple values")
        out = json.dumps(list(value), ensure_ascii=False)
    elif isinstance(value, str):
        out = value
        if value in ("true", "false") or _INT.match(value) or _FLOAT.match(value) or value.startswith(("[", "'")):
            out = "'" + value
    else:
        raise Unshareable(f"a {type(value).__name__}")
    if len(out) > MAX_VALUE_CHARS:
        raise Unshareable("too long for a link")
    return out


def decode(text: str):
    if len(text) > MAX_VALUE_CHARS:
        raise ValueError("value too long")
    if text.startswith("'"):
        return text[1:]
    if text in ("true", "false"):
        return text == "true"
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        v = float(text)
        if not math.isfinite(v):
            raise ValueError("not a finite number")
        return v
    if text.startswith("["):
        v = json.loads(text)
        if not isinstance(v, list) or not all(_scalar_ok(x) for x in v):
            raise ValueError("not a list of simple values")
        return v
    return text


def shown_name(name: str) -> str:
    """A parameter name as a note may show it in a code span: only the characters a key may
    have (no backticks, no markdown), at most 40 of them."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "?", name)
    return safe[:40] + ("..." if len(safe) > 40 else "")


def read_params(params: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """({widget key: value}, {rejected parameter name: the reason, in words}). Every parameter
    is judged on its own: one bad parameter never discards the good ones."""
    good, bad = {}, {}
    for k, v in params.items():
        if k in RESERVED:
            continue
        if not shareable_key(k):
            bad[k] = "unknown setting"
            continue
        if len(v) > MAX_VALUE_CHARS:
            bad[k] = f"too long: {len(v):,} characters, the limit is {MAX_VALUE_CHARS - 1:,}"
            continue
        try:
            good[k] = decode(v)
        except (ValueError, json.JSONDecodeError):
            bad[k] = "not a value this app writes (a number, true/false, text or a [list])"
    return good, bad


def settings_from_params(params: dict[str, str]) -> tuple[dict, list[str]]:
    """({widget key: value}, [rejected parameter names]) from query parameters."""
    good, bad = read_params(params)
    return good, [k if shareable_key(k) else k[:40] for k in bad]


_HELPER_SUFFIXES: tuple[str, ...] | None = None
_NOT_SETTINGS = {"button", "form_submit_button", "download_button", "popover", "form", "container",
                 "expander", "fragment", "plotly_chart", "dataframe", "data_editor", "file_uploader"}


def helper_key_suffixes(ui_dir=None) -> tuple[str, ...]:
    """Widget keys that shared page helpers build from the page's URL name: in ui/*.py an
    f-string key that starts with a placeholder and goes on with a literal ``.<rest>``
    (``key=f"{page}.model"`` -> ``.model``). A page that calls such a helper has
    ``<url-name>.model`` though its own source never spells it."""
    global _HELPER_SUFFIXES
    if _HELPER_SUFFIXES is not None and ui_dir is None:
        return _HELPER_SUFFIXES
    import ast
    from pathlib import Path

    folder = Path(ui_dir) if ui_dir else Path(__file__).resolve().parent.parent / "ui"
    out = set()
    for path in sorted(folder.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or getattr(call.func, "attr", "") in _NOT_SETTINGS:
                continue
            for node in call.keywords:
                if node.arg != "key" or not isinstance(node.value, ast.JoinedStr):
                    continue
                vals = node.value.values
                if (len(vals) == 2 and isinstance(vals[0], ast.FormattedValue) and isinstance(vals[1], ast.Constant)
                            and isinstance(vals[1].value, str) and _KEY.match("x" + vals[1].value)
                            and vals[1].value.startswith(".")):
                        out.add(vals[1].value)
    result = tuple(sorted(out))
    if ui_dir is None:
        _HELPER_SUFFIXES = result
    return result


def page_literal_keys(path) -> frozenset[str]:
    """String literals in a page's source that look like its own widget keys and are handed
    to a helper (``loaders.instruct_choice("rag.model")``)."""
    import ast
    from pathlib import Path

    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return frozenset()
    return frozenset(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                     and "." in n.value and _KEY.match(n.value))


def could_be_page_key(url: str, key: str, path, is_page_key) -> bool:
    """May a link set `key` on the page `url` (source `path`)? Its own keys (`is_page_key`:
    study/prose.py's scan of key= arguments), literals it hands to helpers, and the keys the
    shared helpers build from its URL name. Never any other session state."""
    if not key.startswith(url + "."):
        return False
    if is_page_key(path, key) or key in page_literal_keys(path):
        return True
    rest = key[len(url):]
    return rest in helper_key_suffixes()


def same_value(a, b) -> bool:
    """Equality as a widget sees it (a slider returns a tuple where the link had a list)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return not isinstance(a, bool) and not isinstance(b, bool) and math.isclose(float(a), float(b), rel_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return a == b and type(a) is type(b)
