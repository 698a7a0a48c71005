"""Real browsers: two learners (two browser contexts, two Streamlit sessions) press Train on the
PPO page with the same settings: the second joins the first one's class run (ui/class_runs.py)
and both pages follow the same run live ("shared with 1 other learner"), end with the same
numbers, and a third press is shown at once from the finished run's record. Screenshots of both
browsers go to artifacts/screenshots/class-run-*.png."""
import re

import pytest

from tests.e2e.server import wait_until_idle
from tests.e2e.test_rlhf_pages import _set_slider

pytestmark = pytest.mark.e2e
STEPS = 24


def _learner(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(240_000)
    page.goto(f"{app_url}/ppo")
    wait_until_idle(page)
    page.get_by_role("button", name="Build the default preference data and reward model").click()
    page.get_by_text("Using your reward model: 300 pairs").wait_for()
    wait_until_idle(page)
    _set_slider(page, "PPO steps", STEPS)
    _set_slider(page, "time limit (s)", 900)      # the run is defined by its steps, whatever the machine
    return ctx, page


def _numbers(page) -> str:
    line = page.get_by_text(re.compile(r"^Run finished")).first.inner_text()
    return re.sub(r"\b\d+ s\b", "N s", line)


def test_two_browsers_with_the_same_settings_follow_one_run(browser, app_url, shots_dir):
    (ca, a), (cb, b) = _learner(browser, app_url), _learner(browser, app_url)
    try:
        a.get_by_role("button", name="▶ Train").click()
        bar = '[data-testid="stProgress"]'
        a.locator(bar).get_by_text(re.compile(r"PPO step [1-9]\d*/")).first.wait_for()
        b.get_by_role("button", name="▶ Train").click()
        # both follow one run: each page says it is shared with the other learner
        b.locator(bar).get_by_text(re.compile(r"PPO step \d+/\d+ · shared with 1 other learner")).first.wait_for()
        a.locator(bar).get_by_text(re.compile(r"shared with 1 other learner")).first.wait_for()
        a.screenshot(path=str(shots_dir / "class-run-a-live.png"), full_page=False)
        b.screenshot(path=str(shots_dir / "class-run-b-live.png"), full_page=False)
        done = re.compile(rf"Run finished \(all steps done\) after {STEPS} steps")
        a.get_by_text(done).wait_for()
        b.get_by_text(done).wait_for()
        wait_until_idle(a)
        wait_until_idle(b)
        for p in (a, b):
            assert p.locator('[data-testid="stException"]').count() == 0
        assert _numbers(a) == _numbers(b)
        a.screenshot(path=str(shots_dir / "class-run-a-done.png"), full_page=True)
        b.screenshot(path=str(shots_dir / "class-run-b-done.png"), full_page=True)
        # a learner who presses Train with these settings now sees the run at once, from its record
        cc, c = _learner(browser, app_url)
        try:
            c.get_by_role("button", name="▶ Train").click()
            c.get_by_text("These settings ran before").wait_for()
            wait_until_idle(c)
            assert _numbers(c) == _numbers(a)
            assert c.get_by_role("button", name="↻ Run it again live").count() == 1
            c.screenshot(path=str(shots_dir / "class-run-c-record.png"), full_page=False)
        finally:
            cc.close()
    finally:
        ca.close()
        cb.close()
