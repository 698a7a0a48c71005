"""Keyboard alone (issue 22, point 4): a learner who cannot use a mouse reaches a lesson's
"Check your understanding" box with Tab, picks an answer with the arrow keys and submits it with
Enter, and reads the verdict; a learner answers a class poll the same way. No click, no focus()
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


def test_answer_a_class_poll_with_the_keyboard_alone(browser, app_url, shots_dir):
    """A learner joins the teacher's poll from its link and answers with Tab, Space, the arrow keys
    and Enter only; the teacher's projector counts the answer. (The teacher opens the poll with
    the mouse: the keyboard-only user here is the learner.)"""
    teacher_ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    learner_ctx = browser.new_context(viewport={"width": 800, "height": 900},
                                      extra_http_headers={"X-Forwarded-For": "10.0.0.77"})
    try:
        teacher = teacher_ctx.new_page()
        teacher.set_default_timeout(240_000)
        teacher.goto(f"{app_url}/lora")
        wait_until_idle(teacher)
        teacher.get_by_text("Ask the class: a live poll").click()
        teacher.get_by_role("button", name="Open the poll").click()
        wait_until_idle(teacher)
        code = re.search(r"Join code: ([A-Z0-9]{5})",
                         teacher.locator("h3", has_text="Join code").inner_text()).group(1)
        page = learner_ctx.new_page()
        page.set_default_timeout(240_000)
        page.goto(f"{app_url}/poll?code={code}")
        wait_until_idle(page)
        radio_box = f"st-key-study-vote-{code}"
        _tab_until(page, lambda s: s[2] == radio_box)
        page.keyboard.press("Space")
        page.keyboard.press("ArrowDown")                          # the second option
        wait_until_idle(page)
        labels = page.locator(f".{radio_box} [role=radiogroup] label").all_inner_texts()
        checked = page.locator(f".{radio_box} input[type=radio]:checked")
        assert checked.count() == 1 and len(labels) >= 2
        _tab_until(page, lambda s: s[2] == f"st-key-study-send-{code}" and s[0] == "BUTTON", limit=20)
        page.keyboard.press("Enter")
        page.get_by_text("Answer recorded").wait_for()
        page.screenshot(path=str(shots_dir / "keyboard-poll-answered.png"), full_page=False)
        teacher.locator('[data-testid="stMetric"]', has_text="learners who answered").filter(
            has_text="1").wait_for(timeout=30_000)
    finally:
        learner_ctx.close()
        teacher_ctx.close()
