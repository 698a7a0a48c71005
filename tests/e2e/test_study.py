"""Real-browser tests of the class features on ONE server (the session's app_url):
a shared link opened in a fresh browser context shows the same numbers, presenter mode
fits a projector (1920x1080 and 1280x720), and a live poll with a teacher and two learners
in three separate browser contexts."""
from __future__ import annotations

import re

import pytest

from tests.e2e.server import wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_METRICS_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')]
    .map(m => m.innerText.replace(/\\s+/g, ' ').trim())"""


def _context(browser, w=1400, h=1000, addr: str | None = None):
    """A fresh browser context; ``addr``: the learner's machine as a proxy reports it
    (X-Forwarded-For; the server's loopback peer is a trusted proxy, as a local HAProxy is), since a
    poll counts one vote per client address (study/access.py)."""
    ctx = browser.new_context(viewport={"width": w, "height": h},
                              extra_http_headers={"X-Forwarded-For": addr} if addr else {})
    page = ctx.new_page()
    page.set_default_timeout(240_000)
    return ctx, page


def test_a_copied_link_shows_the_same_numbers_in_a_fresh_browser(browser, app_url, shots_dir):
    ctx_a, a = _context(browser)
    a.goto(f"{app_url}/lora")
    wait_until_idle(a)
    before = a.evaluate(_METRICS_JS)
    box = a.locator('[data-testid="stMain"] [data-testid="stNumberInput"] input').first
    box.fill("1000")
    box.press("Enter")
    wait_until_idle(a)
    metrics_a = a.evaluate(_METRICS_JS)
    assert metrics_a and metrics_a != before, "changing the setting changed the numbers"
    assert re.search(r"=1000(&|$)", a.url), f"the URL mirrors the setting: {a.url}"
    a.get_by_text("Copy link to this setting").click()
    link = a.locator("code", has_text=f"{app_url}/lora?").first.inner_text().strip()
    assert link.startswith(app_url) and "=1000" in link
    ctx_b, b = _context(browser)
    b.goto(link)
    wait_until_idle(b)
    assert b.evaluate(_METRICS_JS) == metrics_a
    assert b.get_by_text("From the link").count() == 0
    b.screenshot(path=str(shots_dir / "study-link-fresh-context.png"), full_page=False)
    # A stale parameter and a bad value: the defaults, a short note, no traceback.
    b.goto(link.replace("=1000", "=oops") + "&nosuch.setting=1")
    wait_until_idle(b)
    assert b.get_by_text("From the link").count() >= 1
    assert b.locator('[data-testid="stException"]').count() == 0
    assert b.evaluate(_METRICS_JS) == before
    ctx_a.close()
    ctx_b.close()


@pytest.mark.parametrize("url, size", [
    ("lora", (1920, 1080)), ("lora", (1280, 720)),
    ("scaling-laws", (1920, 1080))], ids=["lora-1920x1080", "lora-1280x720", "scaling-laws-1920x1080"])
def test_presenter_mode_fits_the_projector(browser, app_url, shots_dir, url, size):
    ctx, page = _context(browser, *size)
    page.goto(f"{app_url}/{url}?present=1")
    wait_until_idle(page)
    page.screenshot(path=str(shots_dir / f"study-presenter-{url}-{size[0]}x{size[1]}.png"), full_page=False)
    assert page.locator('section[data-testid="stSidebar"]').is_hidden()
    assert page.get_by_text("Text and formulas of this lesson").count() == 1
    assert page.get_by_text("Check your understanding").count() == 0
    chart = page.locator('[data-testid="stMain"] [data-testid="stPlotlyChart"]').first
    box = chart.bounding_box()
    assert box and box["height"] > 150
    assert box["y"] + 0.5 * box["height"] <= size[1], f"chart not visible without scrolling: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 1, f"chart clipped: {box}"
    overflow = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return m.scrollWidth - m.clientWidth; }""")
    assert overflow <= 1, "nothing sticks out sideways"
    ctx.close()


def test_a_live_poll_with_a_teacher_and_two_learners(browser, app_url, shots_dir):
    ctx_t, teacher = _context(browser, 1600, 1000)
    teacher.goto(f"{app_url}/lora")
    wait_until_idle(teacher)
    teacher.get_by_text("Ask the class: a live poll").click()
    teacher.get_by_role("button", name="Open the poll").click()
    wait_until_idle(teacher)
    code_el = teacher.locator("h3", has_text="Join code")
    code = re.search(r"Join code: ([A-Z0-9]{5})", code_el.inner_text()).group(1)
    learners = []
    for answer_index in (0, 1):
        ctx, page = _context(browser, 800, 900, addr=f"10.0.0.{11 + answer_index}")   # two learners' phones
        page.goto(f"{app_url}/poll?code={code}")
        wait_until_idle(page)
        page.locator('[data-testid="stRadio"] [role="radiogroup"] label').nth(answer_index).click()
        wait_until_idle(page)
        page.get_by_role("button", name="Send my answer").click()
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
