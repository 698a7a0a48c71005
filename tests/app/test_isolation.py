"""Isolation under concurrency (issue #16.4): two learners' sessions train AT THE SAME TIME in
threads of one process (as Streamlit runs them), each its own reward model on its own pairs, on
the shared frozen MiniLM encoder (the preferences page, whose reward model trains in the web
process; the long runs train in class-run worker processes: tests/unit/serving/test_class_runs.py),
while a third thread reads internals of the shared models (attention weights and hidden states of
MiniLM and SmolLM2). Then:

* each session's results (its loss, epoch by epoch) equal the same session run alone;
* the internals read during the runs equal the ones read alone;
* the shared models' fingerprints are unchanged;
* session A's Stop (the same request Streamlit makes when A's Stop button is clicked) ends
  A's run only: B runs to its last step.

Set GENAI_RELIABILITY_REPORT=<file> to append a JSON line with the figures."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
import torch

from lessons import models
from lessons.transformer import attention
from tests.app.helpers import assert_no_exception, open_page, private_scheduler
from ui import loaders

PAGE = "pages/w3_preferences_reward.py"
KEY = "preferences-reward"
LONG, SHORT = 3000, 1500     # epochs: A's run is long (it gets stopped), B's is shorter (it must finish)
TEXT = "The animal didn't cross the street because it was too tired."


@pytest.fixture
def two_slots(monkeypatch):
    return private_scheduler(monkeypatch, slots=2)


@pytest.fixture
def runners(monkeypatch):
    """The script runner of each AppTest, by the thread that runs it (to send it a Stop)."""
    import streamlit.testing.v1.app_test as app_test

    found: dict[int, object] = {}
    base = app_test.LocalScriptRunner

    class Recorded(base):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            found[threading.get_ident()] = self

    monkeypatch.setattr(app_test, "LocalScriptRunner", Recorded)
    return found


def _session(epochs: int, seed: int):
    """A learner on the preferences page with the simulated labeler's pairs (seed ``seed``),
    about to train a reward model for ``epochs`` epochs."""
    at = open_page(PAGE, timeout=600)
    at.number_input(key=f"{KEY}.seed").set_value(seed).run()
    at.button(key=f"{KEY}.simulate").click().run()
    at.slider(key=f"{KEY}.rm_epochs").set_value(epochs).run()
    at.button(key=f"{KEY}.rm_train").click()
    return at


def _curve(at) -> list:
    """The session's loss so far, (epoch, loss) (the page keeps its run in a ui.live.LiveRun)."""
    lv = at.session_state[f"{KEY}.live"] if f"{KEY}.live" in at.session_state else None
    run = (lv.result or {}).get("result") if lv is not None else None
    return [(r["step"], r["loss"]) for r in run.history] if run is not None else []


def _result(at) -> dict:
    return {"curve": _curve(at), "running": at.session_state[f"{KEY}.live"].running}


def _internals() -> list[torch.Tensor]:
    """Attention weights of two shared models (the lesson's own reader)."""
    dev = "cpu"
    out = []
    for lm in (loaders.minilm(dev), loaders.smollm2(dev)):
        run = attention.run_attention(lm, TEXT)
        out += [run.attentions.clone(), run.hidden_states.clone()]
    return out


def _train(at, box: dict, name: str):
    try:
        at.run()
        box[name] = at
    except BaseException as exc:   # reported by the main thread
        box[name + "_error"] = exc


@pytest.mark.slow
def test_two_sessions_train_at_once_like_alone_and_stop_only_their_own(two_slots, runners):
    shared = {"tiny": loaders.tiny_gpt("cpu"), "minilm": loaders.minilm("cpu"), "smollm2": loaders.smollm2("cpu")}
    prints = {k: models.state_fingerprint(v.model) for k, v in shared.items()}
    alone_internals = _internals()

    # ---- B alone, then A alone (stopped after a few steps, like below)
    b = _session(SHORT, seed=2)
    b.run()
    assert_no_exception(b)
    b_alone = _result(b)
    assert b_alone["curve"][-1][0] == SHORT

    # ---- both at once, and a reader of shared internals
    a, b = _session(LONG, seed=1), _session(SHORT, seed=2)
    box: dict = {}
    ta = threading.Thread(target=_train, args=(a, box, "a"), name="session-A")
    tb = threading.Thread(target=_train, args=(b, box, "b"), name="session-B")
    read, reads = threading.Event(), []

    def reader():
        while not read.is_set():
            reads.append(_internals())

    tr = threading.Thread(target=reader, name="reader")
    ta.start()
    tb.start()
    tr.start()
    # Stop A once it has done three steps and while B is still training.
    deadline = time.time() + 600
    stopped_at = None
    while time.time() < deadline and ta.is_alive():
        curve = _curve(a)
        if len(curve) >= 3 and tb.is_alive():
            stopped_at = curve[-1][0]
            runners[ta.ident].request_stop()
            break
        time.sleep(0.002)
    ta.join(600)
    tb.join(600)
    read.set()
    tr.join(120)
    assert "a_error" not in box and "b_error" not in box, box
    assert stopped_at is not None, "B finished before A had done three steps: nothing was tested"

    a_res, b_res = _result(a), _result(b)
    # ---- A alone, stopped after the same number of steps: the same prefix
    a2 = _session(LONG, seed=1)
    t2 = threading.Thread(target=_train, args=(a2, box, "a2"))
    t2.start()
    n = len(a_res["curve"])
    while t2.is_alive():
        if len(_curve(a2)) >= n:
            runners[t2.ident].request_stop()
            break
        time.sleep(0.002)
    t2.join(600)
    a_alone = _result(a2)

    # ---- the figures (written before the checks, so a failure is counted too)
    figures = {
        "kind": "isolation", "sessions_concurrent": 2, "reader_threads": 1, "internal_reads": len(reads),
        "results_differing_from_serial": int(b_res != b_alone)
        + int(a_alone["curve"][:n] != a_res["curve"]),
        "internal_reads_differing": sum(not all(torch.equal(x, y) for x, y in zip(got, alone_internals))
                                        for got in reads),
        "stop_leaked_to_other_session": int(not b_res["curve"] or b_res["curve"][-1][0] != SHORT),
        "stopped_session_ran_to_end": int(a_res["curve"][-1][0] >= LONG),
        "shared_fingerprints_changed": sum(models.state_fingerprint(v.model) != prints[k] for k, v in shared.items()),
    }
    path = os.environ.get("GENAI_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(figures) + "\n")

    # A stopped, B ran to its last step with exactly the results it has alone
    assert a_res["curve"][-1][0] < LONG
    assert_no_exception(b)
    assert b_res == b_alone
    # The page finishes A's stopped run on its next rerun (what the Stop click does)
    a.run()
    assert_no_exception(a)
    assert any(f"Reward model training stopped by you after {len(a_res['curve'])} of {LONG} epochs" in i.value
               for i in a.info)
    # A alone, stopped after the same number of steps: the same prefix
    assert a_alone["curve"][:n] == a_res["curve"]
    # the shared models: read the same internals during the runs, never changed
    assert reads, "the reader thread never finished a read"
    assert figures["internal_reads_differing"] == 0
    assert figures["shared_fingerprints_changed"] == 0
    assert [t.state for t in two_slots.finished].count("done") >= 2
