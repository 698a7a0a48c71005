"""Share links carry every setting (issue 24, point 5), generated from the pages: for every
lesson found by lessons.course.discover(), every keyed widget of the page is moved off its
default, the link the app would copy (the settings it writes into the URL, which
"Copy link to this setting" shows) is opened in a fresh session, and every widget must come
back with the same value and no "From the link" note. Plus the reasons a link's parameters
are refused: unknown, out of range (with the range), too long (with the limit); one bad
parameter never drops the good ones."""
from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from lessons import course
from study import share
from tests.app.study_helpers import open_app
from tests.app.helpers import assert_no_exception, texts

LESSONS = [l for l in course.discover() if l.week > 0]
KINDS = ("checkbox", "toggle", "selectbox", "radio", "select_slider", "slider", "number_input",
         "text_input", "text_area", "multiselect")
SKIP_LABELS = ("hub id", "hugging face hub")   # would need a download


def _open(page: str, params: dict | None = None) -> AppTest:
    return open_app(page, params, timeout=300)


def _widgets(at: AppTest, url: str) -> dict:
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


def _move(kind: str, w) -> bool:
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


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url for l in LESSONS])
def test_a_copied_link_reproduces_every_setting(lesson):
    at = _open(lesson.rel_path)
    before = _widgets(at, lesson.url)
    moved = [k for k, (kind, w) in before.items() if _move(kind, w)]
    at.run()
    assert_no_exception(at)
    after = {k: w.value for k, (kind, w) in _widgets(at, lesson.url).items()}
    link = dict(at.session_state["_share.written"])          # what "Copy link" shows
    missing = sorted(k for k in after if k not in link)
    assert not missing, f"settings missing from the link: {missing}"
    fresh = _open(lesson.rel_path, link)
    shown = texts(fresh)
    assert "From the link" not in shown, shown[shown.find("From the link"):][:300]
    got = {k: w.value for k, (kind, w) in _widgets(fresh, lesson.url).items()}
    differ = {k: (after[k], got.get(k)) for k in after if not _same(after[k], got.get(k))}
    assert not differ, differ
    assert moved or not before     # the page's widgets really were moved


# --------------------------------------------------------------------------- the reasons
def test_sampling_link_keeps_the_model_and_reports_real_reasons():
    at = _open("pages/w1_sampling.py", {
        "sampling.model": "tiny GPT (Shakespeare, ours)",
        "sampling.top_k": "7",
        "sampling.temperature": "9.5",            # out of range (0.0 .. 2.5)
        "sampling.prompt_0": "x" * 5000,          # too long
        "sampling.nosuch": "1",                   # unknown
    })
    assert at.selectbox(key="sampling.model").value == "tiny GPT (Shakespeare, ours)"
    assert at.number_input(key="sampling.top_k").value == 7      # kept despite the bad temperature
    shown = texts(at)
    note = shown[shown.find("From the link"):].split("\n")[0]
    assert "sampling.model" not in note and "`sampling\\." not in note     # no stray backslash in a name
    # the note is markdown: learner-controlled values are escaped (9\.5), names are code spans
    plain = note.replace("\\", "")
    assert "`sampling.temperature` (out of range: 9.5 is not between 0.0 and 2.5)" in plain
    assert "`sampling.prompt_0` (too long: 5,000 characters, the limit is 2,000)" in plain
    assert "`sampling.nosuch` (unknown setting" in plain


def test_the_pages_own_link_reports_nothing():
    at = _open("pages/w1_sampling.py")
    at.selectbox(key="sampling.model").set_value("tiny GPT (Shakespeare, ours)").run()
    link = dict(at.session_state["_share.written"])
    assert link["sampling.model"] == "tiny GPT (Shakespeare, ours)"
    fresh = _open("pages/w1_sampling.py", link)
    assert "From the link" not in texts(fresh)
    assert fresh.selectbox(key="sampling.model").value == "tiny GPT (Shakespeare, ours)"
