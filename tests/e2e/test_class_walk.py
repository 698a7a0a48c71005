"""Issue 24, the hostile-learner walk in Chromium: a teacher and two learners (three browser
contexts, one a phone viewport) on one server with a teacher key. Learners see no teacher
controls, a wrong key gets a message, cookie clearing does not multiply a vote, a taken name
gets a message, /home opens Home, the teacher view fits 1280 px with the sidebar open.
Screenshots: artifacts/class_walk/. Distinct learner machines are given distinct
X-Forwarded-For headers (the server's peer is loopback, a trusted proxy, as HAProxy on the
same machine would be)."""
from __future__ import annotations

import re

import pytest

from tests.e2e.server import ROOT, streamlit_server, wait_until_idle

SHOTS = ROOT / "artifacts" / "class_walk"
KEY = "walk-key-0123456789"


@pytest.fixture(scope="module")
def server():
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with streamlit_server(env={"GENAI_LAB_TEACHER_KEY": KEY}) as (url, _proc):
        yield url


# The browser is the session's one Chromium (tests/e2e/conftest.py: `browser`): a second
# sync_playwright() in the same worker fails ("Sync API inside the asyncio loop").


def _ctx(browser, addr: str, phone: bool = False):
    kw = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) if phone else \
        dict(viewport={"width": 1280, "height": 800})
    ctx = browser.new_context(extra_http_headers={"X-Forwarded-For": addr}, **kw)
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    return ctx, page


def _go(page, url):
    page.goto(url)
    page.wait_for_selector('[data-testid="stMainBlockContainer"]')
    wait_until_idle(page)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _see(page, text) -> None:
    """Wait until the page's main column shows ``text`` (a click's rerun may start later than
    wait_until_idle's debounce on a busy machine: the text is the signal)."""
    page.locator('[data-testid="stMain"]').get_by_text(text).first.wait_for()


def test_hostile_learner_walk(server, browser):
    tctx, teacher = _ctx(browser, "127.0.0.1")
    lctx, learner = _ctx(browser, "198.51.100.11")
    pctx, phone = _ctx(browser, "198.51.100.12", phone=True)

    # Learners: no teacher view, no poll panel.
    _go(learner, server + "/teacher")
    text = _main_text(learner)
    assert "Class progress" not in text and "Teacher key" in text
    _shot(learner, "01_learner_teacher_page_locked")
    learner.get_by_label("Teacher key", exact=True).fill("guess-1")
    learner.get_by_role("button", name="Unlock").click()
    _see(learner, "not the teacher key")
    wait_until_idle(learner)
    _shot(learner, "02_learner_wrong_key")
    _go(learner, server + "/lora")
    assert "Ask the class" not in _main_text(learner)

    # /home opens Home.
    _go(phone, server + "/home")
    assert "Course map" in _main_text(phone) and "Page not found" not in phone.content()
    _shot(phone, "03_phone_home_alias")

    # Teacher: unlock, open a poll on the lesson.
    _go(teacher, server + "/teacher")
    teacher.get_by_label("Teacher key", exact=True).fill(KEY)
    teacher.get_by_role("button", name="Unlock").click()
    _see(teacher, "Class progress")
    wait_until_idle(teacher)
    _go(teacher, server + "/lora")      # a reload is a new session: the key is asked again
    assert "Ask the class" not in _main_text(teacher)
    teacher.goto(server + "/teacher")
    wait_until_idle(teacher)
    teacher.get_by_label("Teacher key", exact=True).fill(KEY)
    teacher.get_by_role("button", name="Unlock").click()
    _see(teacher, "Class progress")
    wait_until_idle(teacher)
    # navigate inside the session (sidebar link), not by reload
    teacher.locator('[data-testid="stSidebarNav"] a[href$="/lora"]').click()
    wait_until_idle(teacher)
    teacher.get_by_text("Ask the class").click()
    teacher.get_by_role("button", name="Open the poll").click()
    _see(teacher, re.compile(r"Join code: [A-Z0-9]{5}"))
    wait_until_idle(teacher)
    code = re.search(r"Join code: ([A-Z0-9]{5})", _main_text(teacher)).group(1)

    # A learner votes, clears cookies 5 times and votes again each time.
    for i in range(6):
        if i:
            lctx.clear_cookies()
        _go(learner, f"{server}/poll?code={code}")
        learner.locator('[data-testid="stRadio"] [role="radiogroup"] label').first.click()
        wait_until_idle(learner)
        learner.get_by_role("button", name="Send my answer").click()
        _see(learner, "Answer recorded")
        wait_until_idle(learner)
    _shot(learner, "04_learner_voted_after_5_cookie_clears")
    # The phone votes once.
    _go(phone, f"{server}/poll?code={code}")
    phone.locator('[data-testid="stRadio"] [role="radiogroup"] label').nth(1).click()
    wait_until_idle(phone)
    phone.get_by_role("button", name="Send my answer").click()
    wait_until_idle(phone)
    _shot(phone, "05_phone_voted")
    teacher.wait_for_timeout(2500)             # the projector fragment refreshes every 2 s
    teacher.get_by_text("learners who answered").scroll_into_view_if_needed()
    _shot(teacher, "06_projector_distinct_learners")
    metric = teacher.locator('[data-testid="stMetric"]').filter(has_text="learners who answered")
    assert metric.locator('[data-testid="stMetricValue"]').inner_text().strip() == "2"

    # Names: Bea on the laptop, "bea" on the phone is taken; blank/emoji/RTL.
    _go(learner, server + "/")
    learner.get_by_text("Your name, export, reset").click()
    learner.get_by_label("Display name (optional)", exact=True).fill("Bea")
    learner.get_by_role("button", name="Save name").click()
    _see(learner, "Saved as Bea")           # saved before the phone tries the same name
    wait_until_idle(learner)
    _go(phone, server + "/home")
    phone.get_by_text("Your name, export, reset").click()
    box = phone.get_by_label("Display name (optional)", exact=True)
    box.fill("  bea ")
    phone.get_by_role("button", name="Save name").click()
    _see(phone, "already taken")
    wait_until_idle(phone)
    phone.get_by_text("already taken").scroll_into_view_if_needed()
    _shot(phone, "07_phone_name_taken")
    box.fill("")
    box.press_sequentially("x" * 45)
    assert len(box.input_value()) == 40                    # the field holds 40
    box.fill("     ")
    phone.get_by_role("button", name="Save name").click()
    _see(phone, "visible character")
    wait_until_idle(phone)
    box.fill("مريم 🦊")
    phone.get_by_role("button", name="Save name").click()
    _see(phone, "Saved as")
    wait_until_idle(phone)
    phone.get_by_text("Saved as").scroll_into_view_if_needed()
    _shot(phone, "08_phone_rtl_emoji_name")

    # Teacher view at 1280 px, sidebar open: no table sticks out of the main column.
    teacher.locator('[data-testid="stSidebarNav"] a[href$="/teacher"]').click()
    wait_until_idle(teacher)
    main = teacher.locator('[data-testid="stMainBlockContainer"]').bounding_box()
    for i in range(teacher.locator('[data-testid="stDataFrame"]').count()):
        df = teacher.locator('[data-testid="stDataFrame"]').nth(i)
        df.scroll_into_view_if_needed()
        box_ = df.bounding_box()
        assert box_["x"] + box_["width"] <= main["x"] + main["width"] + 1
    teacher.get_by_text("Most-missed questions").scroll_into_view_if_needed()
    _shot(teacher, "09_teacher_view_1280")
    for c in (tctx, lctx, pctx):
        c.close()
