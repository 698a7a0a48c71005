"""Real browser: on the PPO page, build the default preference data and reward model, run a
short PPO training to the end (the live charts, metrics and samples appear). Screenshots go to
artifacts/screenshots/. (Stop in the middle of a run: tests/e2e/test_train_stop_every_page.py.)"""
import re

import pytest

from tests.e2e.server import wait_until_idle

pytestmark = pytest.mark.e2e
TITLE = "PPO: RLHF that really trains"


def _set_slider(page, label: str, value: int) -> None:
    """Focus the slider's thumb and step with the keyboard until its shown value is ``value``."""
    s = page.get_by_role("slider", name=label)
    shown = page.get_by_test_id("stSlider").filter(has=s).get_by_test_id("stSliderThumbValue")
    s.focus()
    for _ in range(250):
        now = int(shown.inner_text())
        if now == value:
            break
        s.press("ArrowRight" if now < value else "ArrowLeft")
    wait_until_idle(page)
    assert int(shown.inner_text()) == value


def test_ppo_trains_to_the_end(page, app_url, shots_dir):
    page.goto(app_url)
    wait_until_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(TITLE, exact=True).click()
    wait_until_idle(page)
    page.get_by_role("button", name="Build the default preference data and reward model").click()
    page.get_by_text("Using your reward model: 300 pairs").wait_for()
    wait_until_idle(page)

    _set_slider(page, "PPO steps", 3)
    page.get_by_role("button", name="▶ Train").click()
    page.get_by_text(re.compile(r"Run finished \(all steps done\) after 3 steps")).wait_for()
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot").count() >= 1                    # the 2x2 live chart
    for title in ("mean reward r_φ", "KL to π_ref", "entropy", "labeler win-rate vs π_ref"):
        assert page.locator(".js-plotly-plot").first.get_by_text(title).count() >= 1, title
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1        # samples at start / now
    assert page.get_by_text("π_ref costs here").count() == 1
    page.screenshot(path=str(shots_dir / "3-ppo-trained.png"), full_page=True)

    # Stop during a run: tests/e2e/test_train_stop_every_page.py (every training page, PPO included).
