"""Fuzz every input of every page with one parametrized AppTest (issue #16, point 1).

For each page of the navigation (a new page is covered with no new code):
1. open it once (one AppTest per page, reused for everything below);
2. find its inputs in the element tree, including inputs that only appear after one radio,
   selectbox, toggle or checkbox is changed (each such "state" is fuzzed too);
3. drive the corpus of tests/app/fuzz.py through every text input and text area at once (one
   run per corpus entry), every number input to its minimum and maximum, and hostile files
   through every file uploader. Buttons are never pressed (nothing trains or generates), except
   the one-click setups in SETUP that a page needs before it shows its inputs at all (the
   RLHF pages' default preference data and reward model).

Pass: no exception element, no raw traceback, learner text never reaches markdown/HTML/KaTeX
unescaped nor `unsafe_allow_html`, and refused input (empty, over-long, bad file) gets a
message on the page. Set GENAI_RELIABILITY_REPORT=<file> to append one JSON line per page
(bench/reliability.py does, and prints the totals)."""
from __future__ import annotations

import json
import os
import time

import pytest

from lessons import course
from tests.app import fuzz
from tests.app.helpers import open_page

LESSONS = course.discover()
INPUT_TYPES = ("text_input", "text_area", "number_input", "file_uploader")
REVEAL_TYPES = ("radio", "selectbox", "toggle", "checkbox")
MAX_OPTIONS = 6          # options of one reveal widget tried while looking for hidden inputs
# Entries that the page must answer with a message (nothing to work on, or text cut).
MUST_SAY = {"empty", "whitespace", "chars_20000", "long_word"}
SETUP = {"Build the default preference data and reward model"}


def _widgets(at, types=INPUT_TYPES):
    return [w for t in types for w in at.get(t) if not getattr(w.proto, "disabled", False)]


def _ident(w) -> tuple:
    return (w.type, w.key or w.proto.label)


def _find(at, w_type: str, ident) -> object | None:
    for w in at.get(w_type):
        if (w.key or w.proto.label) == ident:
            return w
    return None


def _current(w):
    """A reveal widget's value: a bool, or the index of the chosen option."""
    return bool(w.value) if w.type in ("toggle", "checkbox") else w.index


def _options(w) -> list:
    if w.type in ("toggle", "checkbox"):
        return [not w.value]
    n = len(w.options)   # the first few options and the last one (often "type my own ...")
    return [i for i in sorted({*range(min(n, MAX_OPTIONS - 1)), n - 1}) if i != w.index and n]


def _pick(w, choice) -> None:
    """Set a reveal widget by bool or option index. AppTest's set_value wants the raw value,
    which a page with format_func never shows; the index is what the browser sends too."""
    if w.type in ("toggle", "checkbox"):
        w.set_value(choice)
        return
    w.set_value(None if choice is None else w.options[choice])   # None: a box with no choice yet
    w.__class__ = type(w.__class__.__name__, (w.__class__,), {"index": property(lambda self: choice)})


class PageFuzzer:
    def __init__(self, at, rep: fuzz.Report):
        self.at, self.rep = at, rep

    def run(self, label: str):
        self.at.run()
        self.rep.runs += 1
        self.rep.problems += fuzz.page_problems(self.at, label)

    def set_texts(self, value: str | None, initial: dict | None = None, label: str = "") -> int:
        """Give every text input/area on the page `value` (or back its initial value);
        inputs that only appear once earlier ones are filled get it on a second pass."""
        done: set = set()
        for _ in range(3):
            todo = [w for w in _widgets(self.at, ("text_input", "text_area")) if _ident(w) not in done]
            if not todo:
                break
            for w in todo:
                w.set_value(value if initial is None else initial.get(_ident(w), w.value))
                done.add(_ident(w))
                self.rep.inputs.add((w.type, w.proto.label))
            self.run(label or "restore texts")
        return len(done)

    def fuzz_state(self, state: str):
        at = self.at
        initial = {_ident(w): w.value for w in _widgets(at, ("text_input", "text_area"))}
        base_sig, base_alerts, live, ref_alerts = fuzz.signature(at), set(fuzz.alerts(at)), False, set()
        # First a benign non-Latin entry: the alerts it leaves are the reference that a refused
        # entry must add to. Empty and whitespace come last (they may stop the page early).
        order = sorted(fuzz.CORPUS, key=lambda k: (k != "non_latin_emoji", k in ("empty", "whitespace")))
        for name in order:
            n = self.set_texts(fuzz.CORPUS[name], label=f"{state} {name}")
            self.rep.tried += n
            sig, shown = fuzz.signature(at), set(fuzz.alerts(at))
            if name == "non_latin_emoji":
                ref_alerts = shown
            # Inputs that the page reads only when a button is pressed change nothing on
            # rerun, and an optional box left empty looks like the page as opened: neither
            # needs a message. Every other refused entry must show one that neither the page as
            # opened nor the benign entry shows.
            live = live or sig != base_sig
            said = (shown - ref_alerts) or (shown - base_alerts)
            if n and live and sig != base_sig and name in MUST_SAY and not said:
                self.rep.problems.append(f"{state} {name}: no message on the page for this input")
        if initial:
            self.set_texts(None, initial)
        numbers = {_ident(w): w.value for w in _widgets(at, ("number_input",))}
        for end in fuzz.NUMBER_EXTREMES:
            todo = _widgets(at, ("number_input",))
            for w in todo:
                v = w.min if end == "min" else w.max
                if v is None:
                    v = -1e12 if end == "min" else 1e12
                w.set_value(int(v) if isinstance(w.value, int) else v)
                self.rep.inputs.add((w.type, w.proto.label))
            if todo:
                self.rep.tried += len(todo)
                self.run(f"{state} numbers at {end}")
        for w in _widgets(at, ("number_input",)):
            if _ident(w) in numbers:
                w.set_value(numbers[_ident(w)])
        for up in _widgets(at, ("file_uploader",)):
            self.rep.inputs.add((up.type, up.proto.label))
            ext = (list(up.proto.type) or [".txt"])[0].lstrip(".")
            limit = up.proto.max_upload_size_mb or 200
            for fname, data in fuzz.hostile_files(ext, limit).items():
                w = _find(at, "file_uploader", up.key or up.proto.label)
                if w is None:
                    break
                w.set_value((fname, data, "text/csv"))
                self.rep.tried += 1
                self.run(f"{state} upload {fname}")
                if not fname.startswith("hostile") and not any(e.startswith("error") for e in fuzz.alerts(at)):
                    self.rep.problems.append(f"{state} upload {fname}: refused file without an error message")
            w = _find(at, "file_uploader", up.key or up.proto.label)
            if w is not None:
                w.set_value(None)
        self.run(f"{state} restored")

    def states(self) -> list[list[tuple]]:
        """[] (the page as opened) plus one state per reveal-widget option that shows inputs
        not seen before (compared by type and label)."""
        at = self.at
        seen = {(w.type, w.proto.label) for w in _widgets(at)}
        found = [[]]
        for r in _widgets(at, REVEAL_TYPES):
            rid, original = _ident(r), _current(r)
            for opt in _options(r):
                w = _find(at, r.type, rid[1])
                if w is None:
                    break
                _pick(w, opt)
                self.run(f"explore {rid}={opt!r}")
                new = {(w.type, w.proto.label) for w in _widgets(at)} - seen
                if new:
                    found.append([(r.type, rid[1], opt)])
                    seen |= new
            w = _find(at, r.type, rid[1])
            if w is not None:
                _pick(w, original)
        self.run("explore done")
        return found

    def enter(self, state: list[tuple]) -> list[tuple]:
        """Set the widgets of `state`; returns what sets them back."""
        back = []
        for w_type, ident, value in state:
            w = _find(self.at, w_type, ident)
            if w is not None:
                back.append((w_type, ident, _current(w)))
                _pick(w, value)
        self.run(f"enter {state}")
        return back


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url for l in LESSONS])
def test_fuzz_every_input(lesson):
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rep = fuzz.Report(lesson.url)
    at = open_page(lesson.rel_path, timeout=300)
    fz = PageFuzzer(at, rep)
    for b in at.button:
        if b.proto.label in SETUP:
            b.click()
            fz.run(f"setup: {b.proto.label}")
            assert not any(w.proto.label in SETUP for w in at.button), "the one-click setup did not finish"
            break
    states = fz.states()
    for state in states:
        back = fz.enter(state) if state else []
        fz.fuzz_state(str(state) if state else "default")
        if back:   # the page as opened again before the next state
            fz.enter(back)
    out = rep.as_dict() | {"states": len(states), "cpu_s": round(time.process_time() - cpu0, 1),
                           "wall_s": round(time.perf_counter() - wall0, 1)}
    path = os.environ.get("GENAI_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": "fuzz", **out}) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "problems"}))
    assert not rep.problems, "\n".join(dict.fromkeys(rep.problems))


def _unsafe_app():
    import streamlit as st

    t = st.text_input("Text", "hello", key="canary.text")
    n = st.number_input("n", 1, 10, 5, key="canary.n")
    if st.toggle("More", key="canary.more"):
        st.text_area("Hidden box", "x", key="canary.hidden")
    if not t.strip():
        st.stop()                     # refused without a word
    st.markdown(f"You typed {t}")     # learner text as markdown, unescaped
    st.write(10 / (n - 1))            # n at its minimum: ZeroDivisionError


def _safe_app():
    import streamlit as st

    from ui import inputs

    t = inputs.clean_text(st.text_input("Text", "hello", key="canary.text"), max_chars=100)
    if t is None:
        st.stop()
    st.markdown(f"You typed {inputs.md_escape(t)}")
    st.text(t)


def _fuzz_function(fn) -> fuzz.Report:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(fn, default_timeout=30)
    at.run()
    rep = fuzz.Report("canary")
    fz = PageFuzzer(at, rep)
    for state in fz.states():
        back = fz.enter(state) if state else []
        fz.fuzz_state(str(state) if state else "default")
        if back:
            fz.enter(back)
    return rep


def test_the_fuzzer_catches_an_unsafe_page():
    """The checks can fail: a page with each fault is caught, a careful one passes."""
    bad = _fuzz_function(_unsafe_app)
    found = "\n".join(bad.problems)
    assert "default empty: no message" in found
    assert "learner text rendered as markdown/HTML in a markdown.body" in found
    assert "numbers at min: exception element: 'division by zero'" in found
    assert "default chars_20000: no message" in found         # 20,000 characters taken silently
    assert ("text_area", "Hidden box") in bad.inputs           # found behind the toggle
    good = _fuzz_function(_safe_app)
    assert good.problems == [] and good.tried >= len(fuzz.CORPUS)
