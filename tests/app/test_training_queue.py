"""AppTest: the web process's training queue (ui/jobs.py, ui/runtime.training_slot) on a real
page. Another learner holds the server's only slot; pressing Train waits in the queue and starts
by itself when the slot frees. The reward model of the preferences page trains in the web process
(a learner's own pairs, a second or two of work); the long runs train in class-run worker processes,
whose queue is tested in tests/unit/serving/test_class_runs.py and tests/e2e/test_training_queue.py."""
import threading

import pytest

from tests.app.helpers import assert_no_exception, open_page, private_scheduler

PAGE = "pages/w3_preferences_reward.py"


@pytest.fixture
def one_slot(monkeypatch):
    return private_scheduler(monkeypatch, slots=1)


@pytest.mark.slow
def test_a_queued_run_starts_by_itself_when_the_slot_frees(one_slot):
    at = open_page(PAGE, timeout=300)
    at.button(key="preferences-reward.simulate").click().run()    # the simulated labeler's pairs
    at.slider(key="preferences-reward.rm_epochs").set_value(100)
    holder = one_slot.submit("another learner", label="ppo", expected_s=30)
    freed = threading.Timer(2.5, one_slot.release, args=(holder,))
    freed.start()
    try:
        at.button(key="preferences-reward.rm_train").click().run()
    finally:
        freed.cancel()
    assert_no_exception(at)
    mine = [t for t in list(one_slot.finished) if t.owner != "another learner"]
    assert [t.state for t in mine] == ["done"] and mine[0].label == "reward-model"
    assert holder.finished_at <= mine[0].started_at and mine[0].waited_s > 1.0
    assert at.session_state["preferences-reward.live"].run.steps_done == 100     # the whole run happened
    assert not [e for e in at.info if "Waiting for a training slot" in str(e.value)]
    assert one_slot.snapshot()["running"] == [] and one_slot.snapshot()["queued"] == []


def test_a_job_that_raises_shows_a_message_and_frees_the_slot(one_slot):
    def page():
        import streamlit as st

        from ui import runtime

        with runtime.training_slot(label="boom") as ok:
            if ok:
                raise RuntimeError("out of memory\nsecond line")
        st.write("the page carries on")

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(page).run()
    assert not at.exception
    [err] = [e.value for e in at.error]
    assert err.startswith("Training stopped by an error: out of memory (RuntimeError).")
    assert "slot is free again" in err and "second line" not in err
    assert [m.value for m in at.markdown] == ["the page carries on"]
    assert one_slot.finished[-1].state == "failed" and one_slot.snapshot()["running"] == []
    assert one_slot.submit("next learner").state == "running"


def test_a_failed_jobs_message_never_renders_its_text_as_markdown(one_slot):
    """An error message can quote learner text (#16.5): it is shown escaped."""
    def page():
        from ui import runtime

        with runtime.training_slot(label="boom") as ok:
            if ok:
                raise ValueError("bad token <b>x</b> [y](javascript:alert(1))")

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(page).run()
    [err] = [e.value for e in at.error]
    assert "\\<b\\>x" in err and "](javascript" not in err and "<b>" not in err
    assert one_slot.finished[-1].state == "failed"
