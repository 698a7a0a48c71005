"""ui/live.py, the live-run protocol's page half, on a tiny script (no model): Start and Stop side
by side, Start can be disabled, Reset clears a run (and calls the page's own reset), a stopped
run's note, the counter's bar and the live chart's throttle (ui/class_run_page.follow uses it)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lessons.core.loop import Run, StopReason
from tests.app.helpers import assert_no_exception, texts
from ui import live


def _script():
    import streamlit as st

    from lessons.core.loop import Run, StopReason
    from ui import live

    start = live.buttons("toy", "▶ Train", reset_label="Reset", disabled=st.session_state.get("toy.off", False),
                         on_reset=lambda: st.session_state.setdefault("toy.resets", []).append(1))
    if start:     # a run that a Stop ended after 2 of 5 steps (a class run's page keeps it so)
        st.session_state["toy.live"] = live.LiveRun("toy", "finished", Run(5, 60.0, history=[{"step": 1}, {"step": 2}],
                                                                         stopped=StopReason.STOPPED), {}, {"steps": 5})
    lv = live.state("toy")
    if lv.stopped:
        live.stopped_note(lv.run)
    st.write(f"status {lv.status}")


def _app() -> AppTest:
    at = AppTest.from_function(_script, default_timeout=30)
    at.run()
    assert_no_exception(at)
    return at


def test_a_stopped_run_says_where_it_stopped_and_reset_clears_it():
    at = _app()
    assert "status idle" in texts(at)
    assert [b for b in at.button if b.key == "toy.reset"] == []     # nothing to reset yet
    assert at.button(key="toy.stop")                                 # Stop beside Start
    at.button(key="toy.train").click().run()
    assert_no_exception(at)
    lv = at.session_state["toy.live"]
    assert lv.status == "finished" and lv.stopped and lv.run.stopped is StopReason.STOPPED
    assert "Stopped at step 2 of 5" in texts(at)
    at.run()                                                      # the buttons are drawn before the run starts
    at.button(key="toy.reset").click().run()                      # Reset: back to idle
    assert at.session_state["toy.live"].status == "idle" and "status idle" in texts(at)
    assert at.session_state["toy.resets"] == [1]                  # the page's own reset ran once
    assert [b for b in at.button if b.key == "toy.reset"] == []   # and Reset is gone at once
    assert "Stopped at step" not in texts(at)


def test_start_can_be_disabled():
    at = _app()
    assert not at.button(key="toy.train").disabled
    at.session_state["toy.off"] = True
    at.run()
    assert at.button(key="toy.train").disabled and not at.button(key="toy.stop").disabled


def test_a_finished_run_is_not_stopped_and_a_running_one_is_running():
    done = live.LiveRun("x", "finished", Run(3, 60.0, history=[{"step": 1}] * 3, stopped=StopReason.STEPS))
    assert not done.stopped and not done.running
    assert live.LiveRun("x", "running", Run(3, 60.0)).running


class _Bar:
    def __init__(self):
        self.calls = []

    def progress(self, value, text=None):
        self.calls.append((value, text))


def test_a_slow_chart_is_redrawn_less_often_so_it_takes_at_most_its_share_of_the_time():
    """A chart that costs 0.5 s per redraw waits 0.5 * (1 - 0.2) / 0.2 = 2 s before the next, so it
    takes 0.5 of every 2.5 s (DRAW_SHARE), not a redraw every ``every_s``; a cheap one redraws
    every ``every_s``; with 3 loops drawing in one process, each waits 3 times as long."""
    assert live.DRAW_SHARE == 0.2
    assert live._redraw_gap(0.5, every_s=0.4) == 2.0
    assert live._redraw_gap(0.01, every_s=0.4) == 0.4
    assert live._redraw_gap(0.5, every_s=0.4, sharing=3) == 6.0
    assert live.time_left(30) == "about 30 s left" and live.time_left(2) == "a few seconds left"


def test_counter_reports_items_and_the_time_left_at_the_pace_so_far():
    clock = iter([100.0, 104.0, 110.0, 120.0])
    bar = _Bar()
    report = live.counter(bar, "summaries", clock=lambda: next(clock))
    report(1, 5, "dialogue 1")      # the first item (warm-up included) only starts the clock
    report(2, 5, "dialogue 2")      # 4 s per item -> 3 left
    report(3, 5)                    # (110 - 100) / 2 = 5 s per item -> 2 left
    report(5, 5)                    # done
    assert bar.calls == [(0.2, "1/5 summaries · dialogue 1"),
                         (0.4, "2/5 summaries · dialogue 2 · about 10 s left"),
                         (0.6, "3/5 summaries · about 10 s left"),
                         (1.0, "5/5 summaries")]


def test_live_charts_label_steps_as_whole_numbers_from_the_first_steps():
    """A live chart after 3 steps: one tick per step (plotly alone would label 1.5, 2.5);
    after 40 steps plotly spaces the ticks itself, still as whole numbers."""
    from ui import figures, rlhf

    row = {"reward": 0.1, "kl": 0.0, "entropy": 4.0, "win_rate": 0.5}
    early = rlhf.runs_figure({"β = 0.2": [dict(row, step=i) for i in (1, 2, 3)]})
    late = rlhf.runs_figure({"β = 0.2": [dict(row, step=i) for i in range(1, 41)]})
    early_axes = [early.layout[a] for a in early.layout if a.startswith("xaxis")]
    late_axes = [late.layout[a] for a in late.layout if a.startswith("xaxis")]
    assert len(early_axes) == 4 and all(ax.dtick == 1 and ax.tickformat == "d" for ax in early_axes)
    assert all(ax.dtick is None and ax.tickformat == "d" for ax in late_axes)
    assert [ax.title.text for ax in early_axes if ax.title.text] == ["PPO step", "PPO step"]   # bottom row only
    assert figures.step_axis(10) == {"tickformat": "d", "title_text": "step", "tick0": 0, "dtick": 1}
    assert figures.step_axis(11, "DPO step") == {"tickformat": "d", "title_text": "DPO step"}
