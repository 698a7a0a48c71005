"""Real browser, every training page: press its Train button, wait until the run shows
progress, press its Stop button, and check what a learner must see: the run says it was
stopped, its partial result (a chart) stays on screen, no stale progress bar, no exception,
and the server keeps serving (another page opens). Pages are found from the source: any page
with a `<url>.stop` button (its own or ui/live.py's `live.buttons("<url>", ...)`) must be listed here, so a new training page cannot be forgotten."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.server import train_live, wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
RLHF_BUILD = "Build the default preference data and reward model"

# url -> (start button key, what to do first: False nothing, True build the RLHF reward model).
# The preferences page's reward model has no Stop: its run is a few seconds (a quick class run).
TRAINING = {
    "domain-adaptation": ("domain-adaptation.train", False),
    "pretraining-live": ("pretraining-live.start", False),
    "lora-training": ("lora-training.train", False),
    "prompt-tuning": ("prompt-tuning.train", False),
    "dpo": ("dpo.run", True),
    "ppo": ("ppo.train", True),
    "reward-hacking": ("reward-hacking.run", True),
    "distillation": ("distillation.train", False),
    "forgetting": ("forgetting.run", False),
}


def _css(key: str) -> str:
    return ".st-key-" + key.replace(".", "-") + " button"


def test_every_page_with_a_stop_button_is_covered():
    stops = set()
    for f in (ROOT / "pages").glob("*.py"):
        src = f.read_text(encoding="utf-8")
        stops |= set(re.findall(r"""key=["']([a-z0-9-]+)\.stop["']""", src))
        stops |= set(re.findall(r"""live\.buttons\(\s*["']([a-z0-9-]+)["']""", src))   # ui/live.py's Stop
    assert stops == set(TRAINING), f"pages with a Stop button: {sorted(stops)}"


@pytest.mark.parametrize("url", sorted(TRAINING))
def test_train_then_stop_keeps_the_partial_result(url, page, app_url, shots_dir):
    start, first = TRAINING[url]
    page.goto(f"{app_url}/{url}")
    wait_until_idle(page)
    if first is True:
        page.get_by_role("button", name=RLHF_BUILD).click()
        page.get_by_text(re.compile(r"Using your reward model")).first.wait_for()
        wait_until_idle(page)
    # the run is live and has finished a step: every page's bar reads "... step i/n ..."
    train_live(page, _css(start), url)
    page.locator(_css(f"{url}.stop")).first.click()
    wait_until_idle(page)
    main = page.locator('[data-testid="stMain"]')
    assert re.search(r"stopped", main.inner_text(), flags=re.I), f"{url}: no word that the run was stopped"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert main.locator(".js-plotly-plot").count() >= 1, f"{url}: the partial result's chart is gone"
    assert "Recorded run" not in main.inner_text(), f"{url}: the recorded run is shown instead of the learner's"
    assert main.locator('[data-testid="stProgress"]').count() == 0, f"{url}: a stale progress bar stayed"
    page.screenshot(path=str(shots_dir / f"stop-{url}.png"), full_page=True)
    page.goto(f"{app_url}/tokens")                                               # the server still serves
    wait_until_idle(page)
    assert page.locator("h1").count() >= 1 and page.locator('[data-testid="stException"]').count() == 0
