"""Isolation under concurrency (issue #16.4): two learners' sessions train AT THE SAME TIME, each
its own reward model on its own pairs (the preferences page: a quick class run, so each goes to a
free worker process, lessons/rlhf/preferences_reward_job.py), while the two sessions' page scripts
follow them in threads of this one process (as Streamlit runs them) and a third thread reads
internals of the shared models (attention weights and hidden states of MiniLM and SmolLM2). Then:

* each session's results (its loss and accuracies, epoch by epoch) equal the same session run alone;
* the internals read during the runs equal the ones read alone;
* the shared models' fingerprints are unchanged;
* session A leaving its run (what its Stop or a closed tab does: ui/class_runs.leave) ends A's
  run only: B runs to its last epoch.

Each session adds one pair of its own click to the simulated ones, so its runs are its own
(never shared, never replayed from a record): every run here really trains.

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
from tests.app.helpers import assert_no_exception, open_page
from ui import class_runs, loaders

PAGE = "pages/w3_preferences_reward.py"
KEY = "preferences-reward"
EPOCHS = 3000         # the slider's maximum: a few seconds on 500 pairs, long enough to leave mid-way
B_REPEAT = 4          # B's pairs four times over: B's run lasts several times A's, so A starts and leaves during it
TEXT = "The animal didn't cross the street because it was too tired."


def _session(seed: int, name: str, repeat: int = 1):
    """A learner on the preferences page with the simulated labeler's 500 pairs (seed ``seed``)
    and one click of their own (all ``repeat`` times over: a longer run), about to train a reward
    model for EPOCHS epochs."""
    at = open_page(PAGE, timeout=600)
    at.session_state["_teacher.sid"] = name                 # the session's follower name (ui/teacher.py)
    at.number_input(key=f"{KEY}.seed").set_value(seed).run()
    at.slider(key=f"{KEY}.n_pairs").set_value(500).run()
    at.button(key=f"{KEY}.simulate").click().run()
    at.button(key=f"{KEY}.a").click().run()                 # one pair of the learner's own
    at.session_state["w3_rlhf_state"].pairs *= repeat
    at.slider(key=f"{KEY}.rm_epochs").set_value(EPOCHS).run()
    at.button(key=f"{KEY}.rm_train").click()
    return at


def _result(at) -> dict:
    """The session's reward model run: its measured epochs without the wall-clock seconds."""
    r = at.session_state["w3_rlhf_state"].rm_result
    return {"curve": [{k: v for k, v in row.items() if k != "seconds"} for row in r.curve],
            "stopped": r.stopped.value, "test_acc": r.test_acc}


def _job(at):
    lv = at.session_state[f"{KEY}.live"] if f"{KEY}.live" in at.session_state else None
    return (lv.result or {}).get("job_id") if lv is not None and lv.running else None


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
def test_two_sessions_train_at_once_like_alone_and_leaving_stops_only_their_own():
    shared = {"tiny": loaders.tiny_gpt("cpu"), "minilm": loaders.minilm("cpu"), "smollm2": loaders.smollm2("cpu")}
    prints = {k: models.state_fingerprint(v.model) for k, v in shared.items()}
    alone_internals = _internals()

    # ---- each alone, to the end
    alone = {}
    for name, seed, repeat in (("a", 1, 1), ("b", 2, B_REPEAT)):
        at = _session(seed, f"iso-{name}-alone", repeat)
        at.run()
        assert_no_exception(at)
        alone[name] = _result(at)
        assert alone[name]["curve"][-1]["step"] == EPOCHS and alone[name]["stopped"] == "steps"

    # ---- both at once (A starts while B's run trains), and a reader of shared internals
    a, b = _session(1, "iso-a"), _session(2, "iso-b", B_REPEAT)
    box: dict = {}
    ta = threading.Thread(target=_train, args=(a, box, "a"), name="session-A")
    tb = threading.Thread(target=_train, args=(b, box, "b"), name="session-B")
    read, reads = threading.Event(), []

    def reader():
        while not read.is_set():
            reads.append(_internals())

    tr = threading.Thread(target=reader, name="reader")
    tb.start()
    tr.start()
    deadline = time.time() + 600
    while time.time() < deadline and tb.is_alive() and not (
            _job(b) is not None and class_runs.poll(_job(b)).job.state == class_runs.RUNNING):
        time.sleep(0.01)
    ta.start()
    # A leaves once its run has three rows and while B's run still trains.
    left_at = None
    while time.time() < deadline and ta.is_alive():
        ja, jb = _job(a), _job(b)
        if ja is not None and jb is not None and len(class_runs.poll(ja).rows) >= 3 and \
                class_runs.poll(jb).job.state == class_runs.RUNNING:
            left_at = len(class_runs.poll(ja).rows)
            class_runs.leave(ja, "session:iso-a")
            break
        time.sleep(0.01)
    ta.join(600)
    tb.join(600)
    read.set()
    tr.join(120)
    assert "a_error" not in box and "b_error" not in box, box
    assert left_at is not None, "B's run was not training when A's had three rows: nothing was tested"
    assert_no_exception(a)
    assert_no_exception(b)
    a_res, b_res = _result(a), _result(b)

    # ---- the figures (written before the checks, so a failure is counted too)
    steps_alone = {row["step"]: row for row in alone["a"]["curve"]}
    a_prefix_differs = any(steps_alone.get(row["step"], row) != row for row in a_res["curve"][:-1])
    figures = {
        "kind": "isolation", "sessions_concurrent": 2, "reader_threads": 1, "internal_reads": len(reads),
        "results_differing_from_serial": int(b_res != alone["b"]) + int(a_prefix_differs),
        "internal_reads_differing": sum(not all(torch.equal(x, y) for x, y in zip(got, alone_internals))
                                        for got in reads),
        "stop_leaked_to_other_session": int(b_res["stopped"] != "steps" or b_res["curve"][-1]["step"] != EPOCHS),
        "stopped_session_ran_to_end": int(a_res["curve"][-1]["step"] >= EPOCHS),
        "shared_fingerprints_changed": sum(models.state_fingerprint(v.model) != prints[k] for k, v in shared.items()),
    }
    path = os.environ.get("GENAI_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(figures) + "\n")

    # A stopped mid-way and says so; B ran to its last epoch with exactly the results it has alone
    assert a_res["stopped"] == "stopped" and a_res["curve"][-1]["step"] < EPOCHS
    assert any("the page was left while it trained" in i.value for i in a.info)
    assert b_res == alone["b"]
    # A's epochs before it stopped are A alone's, row for row (the last one is measured where it stopped)
    assert not a_prefix_differs and len(a_res["curve"]) >= 3
    # the shared models: read the same internals during the runs, never changed
    assert reads, "the reader thread never finished a read"
    assert figures["internal_reads_differing"] == 0
    assert figures["shared_fingerprints_changed"] == 0
