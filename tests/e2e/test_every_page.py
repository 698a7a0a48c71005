"""Visit every page of the navigation in real headless Chromium at 1920 x 1080 (a wide
projector): it renders, shows no Streamlit exception, nothing sticks out or overlaps
(tests/e2e/layout.py, the same checks test_layout.py makes at 1280 x 720), and a screenshot
is saved to artifacts/screenshots/."""
import pytest

from lessons import course
from tests.e2e.layout import layout_problems
from tests.e2e.server import wait_until_idle

pytestmark = pytest.mark.e2e
LESSONS = course.discover()


def test_sidebar_lists_every_page(page, app_url):
    assert len(LESSONS) > 1, "Streamlit shows no navigation for a single page"
    page.goto(app_url)
    wait_until_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for lesson in LESSONS:
        assert nav.get_by_text(lesson.title, exact=True).count() >= 1, lesson.title


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url for l in LESSONS])
def test_page_renders_without_exception(wide_screen, app_url, shots_dir, lesson):
    page = wide_screen
    page.goto(f"{app_url}/{lesson.url}" if lesson.week else app_url)
    wait_until_idle(page)
    page.wait_for_selector("h1", timeout=240_000)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()
    assert page.locator("h1").first.inner_text().strip()
    page.screenshot(path=str(shots_dir / f"{lesson.week}-{lesson.url}.png"), full_page=True)
    assert layout_problems(page) == []
