"""Real-browser tests of the class features on ONE server (the session's app_url): a live poll
with a teacher and two learners in three separate browser contexts, and the teacher view with a class's answers at 1280 px. (A
copied link opened in a fresh browser context, for every lesson: tests/e2e/test_share_links.py;
presenter mode on every lesson: tests/e2e/test_every_page.py.)"""
from __future__ import annotations

import re

import pytest

from tests.e2e.server import wait_until_idle
from tests.e2e.test_keyboard import _tab_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _context(browser, w=1400, h=1000, addr: str | None = None):
    """A fresh browser context; ``addr``: the learner's machine as a proxy reports it
    (X-Forwarded-For; the server's loopback peer is a trusted proxy, as a local HAProxy is), since a
    poll counts one vote per client address (study/access.py)."""
    ctx = browser.new_context(viewport={"width": w, "height": h},
                              extra_http_headers={"X-Forwarded-For": addr} if addr else {})
    page = ctx.new_page()
    page.set_default_timeout(240_000)
    return ctx, page


def test_a_live_poll_with_a_teacher_and_two_learners(browser, app_url, shots_dir):
    """The teacher opens a poll; two learners join from its link on their phones, one with the mouse and
    one with the keyboard alone (Tab, Space, the arrow keys and Enter); the projector counts both and
    reveals the answer. (The teacher uses the mouse: the keyboard-only user here is a learner.)"""
    ctx_t, teacher = _context(browser, 1600, 1000)
    teacher.goto(f"{app_url}/lora")
    wait_until_idle(teacher)
    teacher.get_by_text("Ask the class: a live poll").click()
    teacher.get_by_role("button", name="Open the poll").click()
    wait_until_idle(teacher)
    code_el = teacher.locator("h3", has_text="Join code")
    try:
        code_el.wait_for(timeout=120_000)
    except Exception:   # seen once in a full run: say what the teacher's page showed instead
        teacher.screenshot(path=str(shots_dir / "study-poll-no-join-code.png"), full_page=True)
        raise AssertionError("no join code 120 s after 'Open the poll'; the page ended with (the poll's box is last):\n"
                             + teacher.locator('[data-testid="stMain"]').inner_text()[-3000:]) from None
    code = re.search(r"Join code: ([A-Z0-9]{5})", code_el.inner_text()).group(1)
    learners = []
    for answer_index in (0, 1):
        ctx, page = _context(browser, 800, 900, addr=f"10.0.0.{11 + answer_index}")   # two learners' phones
        page.goto(f"{app_url}/poll?code={code}")
        wait_until_idle(page)
        if answer_index == 0:                                       # with the mouse
            page.locator('[data-testid="stRadio"] [role="radiogroup"] label').nth(answer_index).click()
            wait_until_idle(page)
            page.get_by_role("button", name="Send my answer").click()
        else:                                                        # with the keyboard alone
            radio_box = f"st-key-study-vote-{code}"
            _tab_until(page, lambda s: s[2] == radio_box)
            page.keyboard.press("Space")
            page.keyboard.press("ArrowDown")                         # the second option
            wait_until_idle(page)
            assert page.locator(f".{radio_box} input[type=radio]:checked").count() == 1
            _tab_until(page, lambda s: s[2] == f"st-key-study-send-{code}" and s[0] == "BUTTON", limit=20)
            page.keyboard.press("Enter")
        page.get_by_text("Answer recorded").wait_for()
        learners.append(ctx)
    # The projector's chart refreshes by itself (every 2 s): two answers arrive.
    teacher.locator('[data-testid="stMetric"]', has_text="learners who answered").filter(has_text="2").wait_for(timeout=30_000)
    teacher.get_by_text("Reveal the answer").click()
    teacher.get_by_text("The lesson says").wait_for(timeout=30_000)
    teacher.screenshot(path=str(shots_dir / "study-poll-teacher.png"), full_page=True)
    for ctx in learners:
        ctx.close()
    ctx_t.close()


_GRID_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]')].map(d => {
    const s = d.querySelector('.dvn-scroller') || d;
    return {scroll: s.scrollWidth - s.clientWidth, right: d.getBoundingClientRect().right};
})"""


def test_teacher_view_fits_1280_with_the_sidebar_open_and_counts_every_anonymous_learner(browser, app_url, shots_dir):
    """The teacher view with a class's answers in it (written into the server's own database):
    at 1280 x 720 with the sidebar open no table needs a sideways scroll (every column, "missed
    share" included, is on screen), nothing sticks out, and the anonymous row counts every learner
    without a display name, also one whose only answers are wrong."""
    from sqlalchemy import distinct, func, select

    from study import db, questions
    from tests.e2e.layout import layout_problems

    eng = db.engine()
    q = questions.for_lesson("rag") + questions.for_lesson("ppo")
    named, right_only, wrong_only = db.new_learner_id(), db.new_learner_id(), db.new_learner_id()
    db.set_name(eng, named, f"Teacher-view {named[:6]}")
    for i, item in enumerate(q):
        db.record_answer(eng, named, item.lesson, item.id, "x", i % 2 == 0)
    db.record_answer(eng, right_only, q[0].lesson, q[0].id, "x", True)
    db.record_answer(eng, wrong_only, q[1].lesson, q[1].id, "y", False)
    with eng.connect() as c:          # every learner with an answer and no display name, as the database has them
        anonymous = c.execute(select(func.count(distinct(db.answers.c.learner_id)))
                              .join(db.learners, db.learners.c.id == db.answers.c.learner_id)
                              .where(db.learners.c.display_name.is_(None))).scalar()
    assert anonymous >= 2
    ctx, page = _context(browser, 1280, 720)
    try:
        page.goto(f"{app_url}/teacher")
        wait_until_idle(page)
        assert page.locator('section[data-testid="stSidebar"]').is_visible()
        page.get_by_text("Most-missed questions").first.wait_for()
        page.screenshot(path=str(shots_dir / "study-teacher-1280.png"), full_page=True)
        page.get_by_text("Item statistics").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots_dir / "study-teacher-1280-items.png"))
        assert layout_problems(page) == []
        grids = page.evaluate(_GRID_JS)
        assert len(grids) >= 2, grids
        assert all(g["scroll"] <= 1 and g["right"] <= 1280 for g in grids), f"a table scrolls sideways: {grids}"
        # The progress table is a canvas grid: its cells are read from the grid's accessible table.
        cells = page.locator('[data-testid="stDataFrame"]').first.locator('[role="gridcell"], td').all_inner_texts()
        assert f"(anonymous: {anonymous} learners)" in cells, (anonymous, cells[:40])
    finally:
        ctx.close()
