"""Real browser: the Stop button interrupts a live LoRA training run and the partial result
(curve, adapter, base-weight hashes) is kept and shown."""
import re

import pytest

from tests.e2e.server import wait_until_idle

pytestmark = pytest.mark.e2e


def test_stop_interrupts_live_lora_training(page, app_url, shots_dir):
    from lessons import models
    from lessons.finetune.adapters import LIVE_DEFAULTS

    total = LIVE_DEFAULTS["steps"]  # the page's default step budget

    if not models.tiny_gpt_available():
        pytest.skip("assets/tiny_gpt is not committed yet")
    page.goto(f"{app_url}/lora-training")
    wait_until_idle(page)
    page.wait_for_selector("h1")
    page.get_by_role("button", name=re.compile("Train 'archaic' adapter")).click()
    page.get_by_text(re.compile(rf"step \d+/{total}")).first.wait_for(timeout=240_000)
    page.locator(".st-key-lora-training-stop button").first.click()  # the toolbar also has a "Stop"
    page.get_by_text(re.compile(rf"stopped at step \d+ of {total}")).first.wait_for(timeout=240_000)
    wait_until_idle(page)
    heading = page.get_by_text(re.compile(rf"Adapter 'archaic' after \d+ of {total} steps: stopped by you")).first.inner_text()
    steps = int(re.search(r"after (\d+) of", heading).group(1))
    assert 1 <= steps < total
    assert page.get_by_text("Identical hashes").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(shots_dir / "2-lora-training-stopped.png"), full_page=True)
