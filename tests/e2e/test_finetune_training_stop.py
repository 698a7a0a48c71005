"""Real browser: the Stop button stops a live LoRA training run (a class run: it trains in a worker
process, which stops after its current step and scores the adapter learned so far) and the
partial result (curve, adapter, base-weight hashes) is shown in ONE consistent state (issue #11):
once the result's message is there no progress bar is left (no greyed-out bar of the run showing
an older step), and the message, the heading and the loss curve all say the same step."""
import re

import pytest

from tests.e2e.server import wait_until_idle

pytestmark = pytest.mark.e2e

BARS_JS = """() => [...document.querySelectorAll('[data-testid="stMainBlockContainer"] [data-testid="stProgress"]')]
    .map(b => ({text: b.innerText.trim(), stale: !!b.closest('[data-stale="true"]')}))"""
# From the Stop click on, a snapshot at every change of the page that shows the result's note
# ("... stopped at step N of T ..."): the bars present with it.
WATCH_JS = """() => {
  window.__afterStop = [];
  const snap = () => {
    const alerts = [...document.querySelectorAll('[data-testid="stAlert"]')].map(a => a.innerText);
    const note = alerts.find(t => /stopped at step/.test(t));
    if (note) window.__afterStop.push({note: note, bars: (""" + BARS_JS + """)()});
  };
  new MutationObserver(snap).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
# the number of points on the results' loss chart (plotly keeps the data on its div)
CURVE_JS = """() => [...document.querySelectorAll('.st-key-lora-training-loss_fig .js-plotly-plot')]
    .map(p => p.data[0].x.length)"""


def test_stop_interrupts_live_lora_training(page, app_url, shots_dir):
    from lessons import models
    from lessons.finetune.lora_training import LIVE_DEFAULTS

    total = LIVE_DEFAULTS["steps"]  # the page's default step budget

    if not models.tiny_gpt_available():
        pytest.skip("assets/tiny_gpt is not committed yet")
    page.goto(f"{app_url}/lora-training")
    wait_until_idle(page)
    page.wait_for_selector("h1")
    page.get_by_role("button", name=re.compile("Train 'archaic' adapter")).click()
    page.get_by_text(re.compile(rf"step \d+/{total}")).first.wait_for(timeout=240_000)
    bars = page.evaluate(BARS_JS)
    assert len(bars) == 1 and not bars[0]["stale"], bars    # the live bar
    page.evaluate(WATCH_JS)
    page.locator(".st-key-lora-training-stop button").first.click()  # the toolbar also has a "Stop"
    page.get_by_text(re.compile(rf"stopped at step \d+ of {total}")).first.wait_for(timeout=240_000)
    wait_until_idle(page)
    heading = page.get_by_text(re.compile(rf"Adapter 'archaic' after \d+ of {total} steps: stopped by you")).first.inner_text()
    steps = int(re.search(r"after (\d+) of", heading).group(1))
    assert 1 <= steps < total
    message = page.get_by_text(re.compile(rf"stopped at step \d+ of {total}")).first.inner_text()
    assert int(re.search(r"step (\d+) of", message).group(1)) == steps
    # every state the page went through after the Stop: the live bar gone at once, one step count
    seen = page.evaluate("() => window.__afterStop")
    assert any(s["note"] for s in seen), "the rerun after Stop was not observed"
    assert all(s["bars"] == [] for s in seen), [s for s in seen if s["bars"]][:3]
    counts = {int(m.group(1) or m.group(2)) for s in seen
              if (m := re.search(r"after (\d+) steps|stopped at step (\d+) of", s["note"]))}
    assert counts == {steps}, counts
    assert page.evaluate(CURVE_JS) == [steps]            # the curve ends at the same step
    assert page.evaluate(BARS_JS) == []
    assert page.locator('[data-testid="stMainBlockContainer"] [data-stale="true"]').count() == 0
    assert page.get_by_text("Identical hashes").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(shots_dir / "2-lora-training-stopped.png"), full_page=True)
