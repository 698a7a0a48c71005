"""The class runs' training queue in a real browser (AppTest cannot see a run that waits): on a
server with ONE training worker (GENAI_LAB_JOB_SLOTS=1), on the DPO page (its run trains in a
worker process, lessons/rlhf/dpo_job.py), learner A trains, learner B presses Train with other
settings and sees their place in the queue on the page's bar, leaves it with Stop, rejoins, and
B's run starts by itself when A's ends; A's Stop and A's closed tab free the worker for B. The
web process's own queue (the reward model, the long generations) is tested with AppTest in
tests/app/test_training_queue.py; the class runs' engine in tests/unit/serving/test_class_runs.py."""
from __future__ import annotations

import pytest

from tests.e2e.server import ROOT, streamlit_server, wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUEUE_TEXT = "Waiting for a training worker"
PROGRESS = '[data-testid="stProgress"]'


@pytest.fixture(scope="module")
def one_slot_url():
    with streamlit_server(timeout=180, env={"GENAI_LAB_JOB_SLOTS": "1"}) as (url, _proc):
        yield url


DPO = "dpo"
RLHF_BUILD = "Build the default preference data and reward model"
LONG = dict(epochs=10, ppo_steps=200)               # DPO's longest run, then a 200-step PPO comparison
# one DPO epoch, no PPO; each test's B has its own seed: a run of settings that finished before on
# this server is shown at once from its record, and would not queue
SHORT = dict(epochs=1, with_ppo="false")
# Long enough that B can queue, leave and rejoin while it runs (a few seconds of the browser's time;
# the test fails, not passes, if A ended first: B's rejoin would not queue), short enough that a
# loaded CI machine ends it well within the wait: 10 DPO epochs, then a 40-step PPO comparison.
MEDIUM = dict(epochs=10, ppo_steps=40)


def _open(browser, url, lesson: str = DPO, **settings):
    """``lesson``'s page in a fresh browser, its ``settings`` set through the page's link (e.g.
    ``epochs``: a short run keeps the test short), with the one-click preference pairs and reward
    model built (the DPO page trains on them)."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(240_000)
    page.goto(url + f"/{lesson}" + ("?" + "&".join(f"{lesson}.{k}={v}" for k, v in settings.items())
                                    if settings else ""))
    wait_until_idle(page)
    page.get_by_role("button", name=RLHF_BUILD).click()
    page.get_by_text("Using your reward model", exact=False).first.wait_for()
    wait_until_idle(page)
    return ctx, page


def _train(page):
    page.locator(".st-key-dpo-run button").click()


def _queued(page):
    """The page's bar while its run waits for the worker."""
    return page.locator(PROGRESS, has_text=QUEUE_TEXT).first


DONE = ".st-key-dpo-done-curve"     # the curve of a run of this session, judged (not the recorded run's)


def _done(page):
    """The run was judged: its curve and comparison are on the page."""
    page.locator(DONE).first.wait_for(timeout=240_000)


def test_a_second_learner_queues_sees_their_place_and_starts_by_itself(one_slot_url, browser):
    import time

    ctx_a, a = _open(browser, one_slot_url, **MEDIUM)
    ctx_b, b = _open(browser, one_slot_url, **SHORT, seed=11)
    _train(a)
    a.locator(PROGRESS, has_text="step ").first.wait_for()             # A's run is under way
    started = time.monotonic()
    _train(b)
    _queued(b).wait_for()
    text = _queued(b).inner_text()
    assert "number 1 in the queue" in text and "1 running" in text and "expected start" in text
    shots = ROOT / "artifacts"
    if shots.is_dir():
        b.screenshot(path=str(shots / "training_queue_waiting.png"))
    # Leaving the queue (Stop while waiting) removes the bar and starts nothing.
    b.locator(".st-key-dpo-stop button").first.click()
    _queued(b).wait_for(state="detached")
    wait_until_idle(b)
    assert b.locator(DONE).count() == 0                                # no run of B's has finished
    # Rejoin; when A's run ends, B's starts by itself and finishes.
    _train(b)
    _queued(b).wait_for()
    rejoined = time.monotonic() - started
    wait_until_idle(a, timeout_ms=420_000)
    print(f"queue: B rejoined {rejoined:.0f} s into A's run, which lasted {time.monotonic() - started:.0f} s")
    _done(b)
    wait_until_idle(b)
    assert _queued(b).count() == 0
    ctx_a.close()
    ctx_b.close()


def test_a_stopped_run_hands_its_worker_to_the_learner_waiting(one_slot_url, browser):
    """The queue's other way out: A presses Stop mid-run, and B's queued run starts at once
    (it does not wait for A's run to have finished its steps: A's run lasts far longer than
    this test waits). B's settings differ from A's by the seed: the same settings would join A's run."""
    ctx_a, a = _open(browser, one_slot_url, **LONG)
    ctx_b, b = _open(browser, one_slot_url, **LONG, seed=1)
    _train(a)
    a.locator(PROGRESS, has_text="step ").first.wait_for()             # A's run is under way
    _train(b)
    _queued(b).wait_for()
    a.locator(".st-key-dpo-stop button").first.click()
    _queued(b).wait_for(state="detached", timeout=90_000)
    b.locator(PROGRESS, has_text="step ").first.wait_for(timeout=60_000)
    a.get_by_text("DPO stopped by you", exact=False).first.wait_for()
    b.locator(".st-key-dpo-stop button").first.click()
    wait_until_idle(b)
    ctx_a.close()
    ctx_b.close()


def test_a_learner_who_closes_the_tab_mid_run_frees_the_worker(one_slot_url, browser):
    """Bad input (issue 25): A starts a long run (DPO's 10 epochs, then a 200-step PPO comparison;
    the test measures that its steps would outlast the wait) and closes the tab while B waits in
    the queue. A closed tab stops heartbeating; after ui.class_runs.FOLLOWER_TTL_S the run has no
    follower, stops after its current step and frees the worker: B's run starts long before A's
    steps would have run out."""
    import re
    import time

    from ui.class_runs import FOLLOWER_TTL_S

    ctx_a, a = _open(browser, one_slot_url, **LONG, seed=2)
    ctx_b, b = _open(browser, one_slot_url, **SHORT, seed=12)
    _train(a)
    bar = a.locator(PROGRESS, has_text="step ").first
    bar.wait_for()
    _train(b)
    _queued(b).wait_for()
    t0, (first, n) = time.monotonic(), map(int, re.search(r"step (\d+)/(\d+)", bar.inner_text()).groups())
    a.wait_for_timeout(3000)
    now = int(re.search(r"step (\d+)/\d+", bar.inner_text())[1])
    pace = (now - first) / (time.monotonic() - t0)                   # A's DPO steps per second
    # every step left at the DPO pace: a PPO step samples every token first and is slower than a
    # DPO step, so this underrates what is left (the closed tab's wait is FOLLOWER_TTL_S and a step)
    left_s = (n - now) / max(pace, 1e-9)
    assert left_s > FOLLOWER_TTL_S + 15, f"A's run would end in {left_s:.0f} s: too short to tell a stop from a finish"
    closed = time.monotonic()
    ctx_a.close()                                                      # the tab is gone mid-run
    _queued(b).wait_for(state="detached", timeout=int((FOLLOWER_TTL_S + 60) * 1000))
    b.locator(PROGRESS, has_text="step ").first.wait_for(timeout=60_000)
    waited = time.monotonic() - closed
    print(f"closed tab: B started {waited:.1f} s after A's tab closed; A's run had at least {left_s:.0f} s left")
    assert waited < min(FOLLOWER_TTL_S + 60, left_s - 5), (waited, left_s)
    wait_until_idle(b)
    _done(b)                                                           # B's policy is trained and judged
    ctx_b.close()
