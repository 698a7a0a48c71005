"""Projector check (issue #11, point 4): every page at 1280 x 720 in real Chromium, one server.
Nothing sticks out of the main column, the page never scrolls sideways, no formula is cut,
tick labels of a chart do not overlap, lesson titles are not cut with "..." in the sidebar.
Screenshots of the top of every page go to artifacts/screenshots/layout-1280-<page>.png."""
import pytest

from lessons import course
from tests.e2e.layout import layout_problems
from tests.e2e.server import wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LESSONS = course.discover()


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url or "home" for l in LESSONS])
def test_page_fits_a_1280x720_projector(small_screen, app_url, shots_dir, lesson):
    page = small_screen
    page.goto(f"{app_url}/{lesson.url}" if lesson.week else app_url)
    wait_until_idle(page)
    page.screenshot(path=str(shots_dir / f"layout-1280-{lesson.url or 'home'}.png"))
    assert layout_problems(page) == []
