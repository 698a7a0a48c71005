"""Text over a limit is never silently dropped (issue #11, point 3).

A Streamlit text box with `max_chars=` cuts a longer paste in the browser without a word.
Every text box therefore takes any length, and the page cuts it with `inputs.clean_text`,
which says what it did. One exception: the display-name field holds at most 40 characters
(a name is 1-40 characters, issue 24), ui/identity.py."""
import ast
from pathlib import Path

import pytest

from tests.app.helpers import open_page

ROOT = Path(__file__).resolve().parents[2]
TEXT_WIDGETS = {"text_input", "text_area", "chat_input", "TextColumn"}


def _is_name_field(path: Path, node: ast.Call) -> bool:
    """The one exception (issue 24): the display-name field is limited to 40 in the browser,
    as a name is 1-40 characters (db.check_name refuses a longer one with a message)."""
    return path == ROOT / "ui" / "identity.py" and any(
        kw.arg == "key" and isinstance(kw.value, ast.Name) and kw.value.id == "NAME_KEY" for kw in node.keywords)


def _text_boxes_with_max_chars():
    found, n_boxes = [], 0
    for path in sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in TEXT_WIDGETS:
                    n_boxes += 1
                    if any(kw.arg == "max_chars" for kw in node.keywords) and not _is_name_field(path, node):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found, n_boxes


def test_no_text_box_truncates_silently():
    found, n_boxes = _text_boxes_with_max_chars()
    assert n_boxes > 20  # the scan really sees the app's text boxes
    assert found == [], "use inputs.clean_text's visible cut instead of max_chars= at " + ", ".join(found)


@pytest.mark.parametrize("page, key, limit", [
    ("pages/w1_data_quality.py", "data-quality.own", "2,000"),
    ("pages/w1_self_attention.py", "self-attention.words", "200"),
])
@pytest.mark.slow
def test_a_long_paste_is_cut_with_a_message(page, key, limit):
    at = open_page(page, timeout=60)
    at.text_area(key=key).input("word " * 4000).run() if key == "data-quality.own" else \
        at.text_input(key=key).input("word " * 4000).run()
    warnings = [w.value for w in at.warning]
    assert any(f"20,000 characters long; only the first {limit} are used" in w for w in warnings), warnings
    assert not at.exception
