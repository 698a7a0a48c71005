"""Presenter mode with links a projector may be given: ?present= with odd values, an unknown
lesson, a small old beamer (800 x 600). Every lesson in presenter mode at 1280 x 720 and
1920 x 1080 is checked in tests/e2e/test_every_page.py, on the same visit as its other checks
(tests/e2e/presenter.py: the main figure's share on screen, text and chart text sizes, overlaps)."""
from __future__ import annotations

import pytest

from lessons import course
from tests.e2e.layout import layout_problems
from tests.e2e.presenter import measure
from tests.e2e.server import wait_until_idle

pytestmark = pytest.mark.e2e
LESSONS = [l for l in course.discover() if l.week > 0]


def test_odd_presenter_links_give_a_clear_page(page, app_url):
    """?present= with a value that is not 1/true/yes is the normal page; an unknown parameter is
    ignored with a note; a mistyped lesson shows Streamlit's "page not found" over Home. Nothing
    is a traceback or rendered as HTML."""
    lesson = LESSONS[0]
    for query, presenting in (("present=garbage", False), ("present=", False),
                              ("present=1&unknown=%3Cb%3Ex%3C%2Fb%3E", True)):
        page.goto(f"{app_url}/{lesson.url}?{query}")
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, query
        assert page.locator("h1").count() >= 1, query
        assert page.locator('section[data-testid="stSidebar"]').is_hidden() == presenting, query
        assert page.locator("[data-testid='stMain'] b").count() == 0, query     # the link's text is never HTML
    page.goto(f"{app_url}/no-such-lesson?present=1")
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").count() >= 1
    assert "not found" in page.locator("body").inner_text().lower()


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

