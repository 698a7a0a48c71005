"""Presenter mode on EVERY lesson of the navigation, in real headless Chromium, at a small
projector (1280 x 720) and a full-HD one (1920 x 1080): what the back of a room must see
(issue 22 point 1). The lessons come from lessons.course.discover(): a new lesson is checked
with no new test code, and it fails until it marks its main figure (ui/charts.main_figure).

At each size, with ?present=1 and without scrolling:
* the lesson's main figure (exactly one) starts above the fold and at least 80 % of it is on
  screen;
* no text on screen in the lesson is under 20 px, and no chart text in the figure under 16 px;
* no element box is drawn over another (tests/e2e/presenter.py);
* the sidebar is folded away, the prose sits in one collapsed expander, no questions box.
Measured by tests/e2e/presenter.measure, which bench/presenter.py prints as a table (and saves for the README).
One visit serves both sizes (the page is resized, as a teacher maximising the window)."""
from __future__ import annotations

import pytest

from lessons import course
from tests.e2e.layout import layout_problems
from tests.e2e.presenter import measure
from tests.e2e.server import wait_until_idle
from tests.e2e.test_every_page import settle_after_resize

pytestmark = pytest.mark.e2e
LESSONS = [l for l in course.discover() if l.week > 0]
SIZES = [(1280, 720), (1920, 1080)]
MIN_SHARE, MIN_TEXT_PX, MIN_CHART_PX = 0.8, 20.0, 16.0


def presenter_problems(m: dict, height: int) -> list[str]:
    """What a projector audience would miss, from one measure() of the first screen."""
    out = []
    fig = m["figure"]
    if m["count"] != 1 or fig is None:
        return [f"{m['count']} main figures (want exactly 1: ui/charts.main_figure)"]
    if fig["top"] >= height:
        out.append(f"main figure starts below the fold at y = {fig['top']} px")
    if fig["share"] < MIN_SHARE:
        out.append(f"only {fig['share']:.0%} of the main figure on screen ({fig['top']}-{fig['bottom']} px)")
    if m["min_text"]["px"] < MIN_TEXT_PX - 0.01:
        out.append(f"text at {m['min_text']['px']} px: {m['min_text']}")
    if m["min_chart"]["px"] < MIN_CHART_PX - 0.01:
        out.append(f"chart text at {m['min_chart']['px']} px: {m['min_chart']}")
    out += m["overlaps"]
    return out


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url for l in LESSONS])
def test_presenter_mode_shows_the_main_figure_readably_at_both_sizes(small_screen, app_url, shots_dir, lesson):
    page = small_screen
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    page.goto(f"{app_url}/{lesson.url}?present=1")
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()
    assert page.locator('section[data-testid="stSidebar"]').is_hidden()
    assert page.get_by_text("Check your understanding").count() == 0
    problems = {}
    for w, h in SIZES:
        if (w, h) != SIZES[0]:
            page.set_viewport_size({"width": w, "height": h})
            settle_after_resize(page)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots_dir / f"presenter-{w}-{lesson.url}.png"))
        found = presenter_problems(measure(page), h) + layout_problems(page)
        if found:
            problems[f"{w}x{h}"] = found
    assert not problems, problems


@pytest.mark.parametrize("query", ["present=garbage", "present=1&unknown=%3Cb%3Ex%3C%2Fb%3E", "present="])
def test_odd_presenter_links_give_a_clear_page(page, app_url, query):
    """?present= with a value that is not 1/true/yes is the normal page; an unknown parameter is
    ignored with a note; nothing is a traceback or rendered as HTML."""
    lesson = LESSONS[0]
    page.goto(f"{app_url}/{lesson.url}?{query}")
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").count() >= 1
    presenting = query.startswith("present=1")
    assert page.locator('section[data-testid="stSidebar"]').is_hidden() == presenting
    assert page.locator("[data-testid='stMain'] b").count() == 0     # the link's text is never HTML


def test_presenter_mode_on_a_small_window_still_lays_out(browser, app_url):
    """800 x 600 (a classroom's old beamer): the figure comes first and nothing sticks out."""
    ctx = browser.new_context(viewport={"width": 800, "height": 600})
    page = ctx.new_page()
    page.set_default_timeout(240_000)
    try:
        page.goto(f"{app_url}/{LESSONS[0].url}?present=1")
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        m = measure(page)
        assert m["count"] == 1 and m["figure"]["top"] < 600, m
        assert layout_problems(page) == []
    finally:
        ctx.close()


def test_presenter_mode_on_an_unknown_lesson_lands_on_a_page_that_works(page, app_url):
    """/no-such-lesson?present=1 (a mistyped link on the projector): Streamlit's "page not found"
    is shown over the Home page, not a traceback, and presenter mode stays usable from there."""
    page.goto(f"{app_url}/no-such-lesson?present=1")
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").count() >= 1
    assert "not found" in page.locator("body").inner_text().lower()
