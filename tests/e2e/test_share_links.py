"""Share links in a real browser, generated from the pages (issue 24, point 5). For every lesson
of the navigation (a new lesson is covered with no new test code):

1. every keyed setting of the page is moved off its default in a session (AppTest, with the
   mover of tests/app/share_moves.py), which gives the link "Copy link to this setting" shows;
2. that link is opened in a FRESH browser context (no cookie, no session: a classmate's laptop);
3. the page there must show no "From the link" note and no exception, hold every setting of the
   link (a page writes what its widgets hold back into the address bar after each run, so the
   browser's URL must carry the link's settings, unchanged), and print the same figures (every
   st.metric that is not a timing) as the session that made the link.

One browser context per lesson; one server for the module."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from lessons import course
from tests.app.share_moves import move_every_setting
from tests.e2e.server import wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LESSONS = [l for l in course.discover() if l.week > 0]
_TIMING = re.compile(r"\d\s*(ms|s|µs|min)$")

_METRICS_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')].map(m => [
    (m.querySelector('[data-testid="stMetricLabel"]') || {innerText: ''}).innerText.trim(),
    (m.querySelector('[data-testid="stMetricValue"]') || {innerText: ''}).innerText.trim()])"""


def _figures(pairs) -> list[str]:
    """The values of every metric that is not a timing (a time per step differs run to run), in
    page order. (Labels are markdown: the browser shows them rendered, AppTest as written.)"""
    return [v for l, v in pairs if not _TIMING.search(v) and "time" not in l.lower()]


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url for l in LESSONS])
def test_a_copied_link_opens_with_every_setting_and_the_same_figures(browser, app_url, shots_dir, lesson):
    m = move_every_setting(lesson)
    assert m.moved or not m.before, "the page's settings really were moved"
    missing = sorted(k for k in m.values if k not in m.link)
    assert not missing, f"settings missing from the link: {missing}"
    expected = _figures([(x.label, x.value) for x in m.at.metric])
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(240_000)
        page.goto(f"{app_url}/{lesson.url}?{urlencode(m.link)}")
        wait_until_idle(page)
        page.wait_for_selector("h1")
        main = page.locator('[data-testid="stMain"]')
        assert page.locator('[data-testid="stException"]').count() == 0, \
            page.locator('[data-testid="stException"]').first.inner_text()
        assert "From the link" not in main.inner_text()
        shown = {k: v for k, v in parse_qsl(urlsplit(page.url).query, keep_blank_values=True) if k != "present"}
        differ = {k: (v, shown.get(k)) for k, v in m.link.items() if shown.get(k) != v}
        assert not differ, f"settings the page does not hold after opening the link (link, page): {differ}"
        got = _figures(page.evaluate(_METRICS_JS))
        assert got == expected, f"figures differ (browser, session that made the link): {got} != {expected}"
        page.screenshot(path=str(shots_dir / f"link-{lesson.url}.png"))
    finally:
        ctx.close()
