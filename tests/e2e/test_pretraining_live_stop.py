"""Real browser: the Stop button interrupts a live pretraining run of a fresh tiny GPT and the
partial result (steps done, loss curve, samples) is kept and shown."""
import re

import pytest

from tests.e2e.server import train_live, wait_until_idle

pytestmark = pytest.mark.e2e


def test_stop_interrupts_live_pretraining(page, app_url, shots_dir):
    page.goto(f"{app_url}/pretraining-live")
    wait_until_idle(page)
    page.wait_for_selector("h1")
    train_live(page, ".st-key-pretraining-live-start button", "pretraining-live")
    page.get_by_role("button", name="⏹ Stop").click()   # not the header's Stop
    page.get_by_text(re.compile(r"Stopped at step \d+ of 300")).first.wait_for(timeout=240_000)
    wait_until_idle(page)
    msg = page.get_by_text(re.compile(r"Stopped at step \d+ of 300")).first.inner_text()
    steps = int(re.search(r"step (\d+) of", msg).group(1))
    assert 1 <= steps < 300
    assert page.get_by_text(f"{steps} of 300").count() >= 1          # the 'Steps done' metric
    assert page.get_by_text("Samples during training").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(shots_dir / "1-pretraining-live-stopped.png"), full_page=True)
