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

MAX_VALUE_CHARS = 600
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


def settings_from_params(params: dict[str, str]) -> tuple[dict, list[str]]:
    """({widget key: value}, [rejected parameter names]) from query parameters."""
    good, bad = {}, []
    for k, v in params.items():
        if k in RESERVED:
            continue
        if not shareable_key(k):
            bad.append(k[:40])
            continue
        try:
            good[k] = decode(v)
        except (ValueError, json.JSONDecodeError):
            bad.append(k)
    return good, bad


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
