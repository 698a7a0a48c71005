"""Moving every setting of a page off its default, for the share-link tests (AppTest:
tests/app/study/test_share_links.py; real browser: tests/e2e/test_share_links.py).

Widgets are found in the AppTest element tree by their `<url>.` keys (the ones a link carries:
study/share.shareable_key), so a new page needs no new test code. A setting that would need a
download (a hub id) is left alone."""
from __future__ import annotations

import math
from dataclasses import dataclass

from streamlit.testing.v1 import AppTest

from study import share
from tests.app.helpers import assert_no_exception
from tests.app.study_helpers import open_app

KINDS = ("checkbox", "toggle", "selectbox", "radio", "select_slider", "slider", "number_input",
         "text_input", "text_area", "multiselect")
SKIP_LABELS = ("hub id", "hugging face hub")   # would need a download


def open_lesson(page: str, params: dict | None = None) -> AppTest:
    return open_app(page, params, timeout=300)


def widgets(at: AppTest, url: str) -> dict:
    out = {}
    for kind in KINDS:
        for w in getattr(at, kind):
            if w.key and w.key.startswith(url + ".") and share.shareable_key(w.key):
                out[w.key] = (kind, w)
    return out


_NONE = object()


def _fmt(w, value):
    try:
        return w.format_func(value)
    except Exception:  # noqa: BLE001
        return value


def _raw_option(w, label: str, j: int, current):
    """The option value whose label is `label` (AppTest knows only labels): the label itself,
    its index, or a number of the current value's type."""
    cands = [label, j]
    table = getattr(w.format_func, "__self__", None)      # format_func=NAMES.get: the raw values are its keys
    if isinstance(table, dict):
        cands += list(table)
    for typ in (int, float):
        try:
            cands.append(typ(label))
        except ValueError:
            pass
    for c in cands:
        if str(_fmt(w, c)) == label:
            return c
    return _NONE


def _step_number(value, lo, hi, step):
    step = step or 1
    for cand in (value - step, value + step):
        if (lo is None or cand >= lo) and (hi is None or cand <= hi):
            return round(cand, 10) if isinstance(cand, float) else cand
    return None


def move(kind: str, w) -> bool:
    """Set the widget off its current value; False when there is nothing else to choose."""
    v = w.value
    if kind in ("checkbox", "toggle"):
        w.set_value(not v)
    elif kind in ("selectbox", "radio", "select_slider"):
        opts = [str(o) for o in w.options]
        labels = [o.lower() for o in opts]
        cur_label = str(_fmt(w, v[0] if isinstance(v, tuple) else v))
        cur = opts.index(cur_label) if cur_label in opts else 0
        for j in list(range(cur + 1, len(opts))) + list(range(0, cur)):
            if any(x in labels[j] for x in SKIP_LABELS):
                continue
            raw = _raw_option(w, opts[j], j, v)
            if raw is _NONE:
                continue
            if isinstance(v, tuple):
                w.set_range(raw, v[1]) if j < opts.index(str(_fmt(w, v[1]))) else w.set_range(v[0], raw)
            else:
                w.set_value(raw)
            return True
        return False
    elif kind in ("slider", "number_input"):
        lo, hi = getattr(w, "min", None), getattr(w, "max", None)
        step = getattr(w, "step", None)
        if isinstance(v, (list, tuple)):
            a, b = v
            na = _step_number(a, lo, b, step)
            if na is None:
                return False
            w.set_value((na, b))
        elif v is None:
            return False
        else:
            n = _step_number(v, lo, hi, step)
            if n is None:
                return False
            w.set_value(n)
    elif kind in ("text_input", "text_area"):
        if any(s in str(w.label).lower() for s in SKIP_LABELS):
            return False
        w.input((v or "") + " and more")
    elif kind == "multiselect":
        opts = list(w.options)
        cur = list(w.value)
        if len(cur) > 1:
            w.set_value(cur[:-1])
        else:
            extra = [o for o in opts if o not in [str(c) for c in cur]]
            if not extra:
                return False
            w.select(extra[0])
    return True


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@dataclass
class Moved:
    at: AppTest           # the session that moved every setting (after its rerun)
    before: dict          # {key: (kind, widget)} as the page opened
    moved: list           # the keys that were moved
    values: dict          # {key: value} after the move
    link: dict            # {key: encoded value}: what "Copy link to this setting" gives


def move_every_setting(lesson) -> Moved:
    """Open the lesson, move every keyed widget off its value, rerun; the link the page writes."""
    at = open_lesson(lesson.rel_path)
    before = widgets(at, lesson.url)
    moved = [k for k, (kind, w) in before.items() if move(kind, w)]
    at.run()
    assert_no_exception(at)
    values = {k: w.value for k, (kind, w) in widgets(at, lesson.url).items()}
    return Moved(at, before, moved, values, dict(at.session_state["_share.written"]))
