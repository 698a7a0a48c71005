"""Keyboard alone (issue 22, point 4): a learner who cannot use a mouse reaches a lesson's
"Check your understanding" box with Tab, picks an answer with the arrow keys and submits it with
Enter, and reads the verdict (a learner answers a class poll the same way in tests/e2e/test_study.py). No click, no focus()
call: only key presses."""
import re

import pytest

from study import questions
from tests.e2e.server import wait_until_idle

pytestmark = pytest.mark.e2e
LESSON = "tokens"
_FOCUS_JS = """() => { const a = document.activeElement; if (!a) return [null, null, null];
    const box = a.closest('[class*="st-key-"]');
    return [a.tagName, a.getAttribute('role') || a.getAttribute('type'),
            box ? [...box.classList].find(c => c.startsWith('st-key-')) : null]; }"""


def _tab_until(page, pred, limit: int = 400):
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(_FOCUS_JS)
        if pred(state):
            return state
    raise AssertionError(f"never reached with Tab: last focus {state}")


def test_answer_a_question_with_the_keyboard_alone(page, app_url, shots_dir):
    q = next(q for q in questions.for_lesson(LESSON) if q.kind == "choice")
    radio_box = f"st-key-study-q-{LESSON}-{q.id}"
    page.goto(f"{app_url}/{LESSON}")
    wait_until_idle(page)
    _tab_until(page, lambda s: s[2] == radio_box)             # the first option of the question
    page.keyboard.press("Space")                                  # choose the first option
    # The options are shuffled per learner (a stable order for this browser's learner id): read
    # the order this learner sees, then move down to the right one with the arrow keys.
    shown = [t.strip() for t in page.locator(f".{radio_box} [role=radiogroup] label").all_inner_texts()]
    assert sorted(shown) == sorted(o.text for o in q.options), shown
    for _ in range(shown.index(q.right.text)):                   # arrow keys move the choice
        page.keyboard.press("ArrowDown")
    checked = page.locator(f".{radio_box} input[type=radio]:checked")
    assert checked.count() == 1
    submit = f"st-key-study-check-{LESSON}-{q.id}"
    _tab_until(page, lambda s: s[2] == submit and s[0] == "BUTTON", limit=10)
    page.keyboard.press("Enter")
    wait_until_idle(page)
    verdict = page.locator('[data-testid="stAlert"]').filter(has_text=re.compile(r"^(Right|Not quite)\."))
    verdict.first.wait_for()
    assert verdict.first.inner_text().startswith("Right."), verdict.first.inner_text()
    assert q.right.text in verdict.first.inner_text()
    page.screenshot(path=str(shots_dir / "keyboard-question-answered.png"), full_page=False)
