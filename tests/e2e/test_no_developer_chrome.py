"""Learners and the projector see no Streamlit developer chrome (issue 22, point 3): the shipped
.streamlit/config.toml sets client.toolbarMode = "viewer", so the app started as `make run`
starts it (scripts/serve.py, which the e2e server uses) shows no Deploy button and its menu has
no developer items (Rerun, Auto rerun, Clear cache). With Streamlit's default ("auto") a
browser on localhost - every teacher's laptop - sees all of them."""
import tomllib

import pytest

from tests.e2e.server import ROOT, wait_until_idle

pytestmark = pytest.mark.e2e
DEVELOPER_ITEMS = ("Rerun", "Auto rerun", "Clear cache", "Deploy")


def test_shipped_config_hides_the_developer_options():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["client"]["toolbarMode"] == "viewer"


@pytest.mark.parametrize("path", ["", "tokens?present=1"], ids=["home", "lesson-presenting"])
def test_no_deploy_button_and_no_developer_menu(page, app_url, path):
    page.goto(f"{app_url}/{path}")
    wait_until_idle(page)
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0
    menu = page.locator('[data-testid="stMainMenu"] button')
    if menu.count():                         # viewer options (print, record) may keep a menu
        menu.first.click()
        items = page.locator('[data-testid="stMainMenuList"]')
        items.wait_for()
        shown = items.inner_text()
        assert not [w for w in DEVELOPER_ITEMS if w in shown], shown
        page.keyboard.press("Escape")
