"""A shared lesson URL works from the very first visit to a freshly started server (no
"Page not found" dialog): scripts/serve.py declares the app an st.navigation app up front."""
import pytest

from lessons import course
from tests.e2e.server import streamlit_server, wait_until_idle

pytestmark = pytest.mark.e2e


def test_first_visit_deep_link_opens_the_lesson_without_page_not_found(browser):
    lesson = next(l for l in course.discover() if l.week == 2)
    with streamlit_server() as (url, _proc):
        page = browser.new_page()
        page.goto(f"{url}/{lesson.url}")
        wait_until_idle(page)
        assert page.get_by_text("Page not found").count() == 0
        assert page.locator('[role="dialog"]').count() == 0
        nav_current = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
        assert lesson.title in nav_current.first.inner_text()
        page.close()
