"""Share links (issue 24, point 5): the reasons a link's parameters are refused (unknown, out
of range with the range, too long with the limit), one bad parameter never drops the good ones,
and a page's own link reports nothing. That every page's link carries every setting and
reproduces its figures is checked for every lesson in a real browser: tests/e2e/test_share_links.py
(the settings are moved by tests/app/share_moves.py)."""
from __future__ import annotations

from tests.app.helpers import texts
from tests.app.share_moves import open_lesson

# --------------------------------------------------------------------------- the reasons
def test_sampling_link_keeps_the_model_and_reports_real_reasons():
    at = open_lesson("pages/w1_sampling.py", {
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
    at = open_lesson("pages/w1_sampling.py")
    at.selectbox(key="sampling.model").set_value("tiny GPT (Shakespeare, ours)").run()
    link = dict(at.session_state["_share.written"])
    assert link["sampling.model"] == "tiny GPT (Shakespeare, ours)"
    fresh = open_lesson("pages/w1_sampling.py", link)
    assert "From the link" not in texts(fresh)
    assert fresh.selectbox(key="sampling.model").value == "tiny GPT (Shakespeare, ours)"
