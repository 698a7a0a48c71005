"""ui/live.py, the live-run protocol, on a tiny script (no model): Start runs to the end and
calls the finisher, the rerun after a Stop marks the run stopped and keeps its partial result,
Start again drops an interrupted run, Reset clears it (and calls the page's own reset), Start
can be disabled, and the progress callback throttles
the chart but updates the bar on every step."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lessons.core.loop import Run, StopReason
from tests.app.helpers import assert_no_exception, texts
from ui import live


def _script():
    import streamlit as st

    from lessons.core.loop import run_loop
    from ui import live

    def finisher(lv):
        lv.result["finished_with"] = lv.run.steps_done

    start = live.buttons("toy", "▶ Train", reset_label="Reset", disabled=st.session_state.get("toy.off", False),
                         on_reset=lambda: st.session_state.setdefault("toy.resets", []).append(1))
    if live.finish_interrupted("toy", finisher, restarting=start):
        live.stopped_note(live.state("toy").run)
    if start:
        lv = live.begin("toy", None, {"seen": []}, {"steps": 5})
        bar = st.progress(0.0)
        tick = live.progress(bar, lambda row, run: lv.result["seen"].append(row["step"]),
                             text=lambda row, run: f"loss {row['loss']:.1f}", every_s=3600)
        lv.run = run_loop(lambda i: {"loss": 10.0 / i}, steps=5, max_seconds=60, progress=tick)
        live.end(lv, finisher)
    st.write(f"status {live.state('toy').status}")


def _app() -> AppTest:
    at = AppTest.from_function(_script, default_timeout=30)
    at.run()
    assert_no_exception(at)
    return at


def test_start_runs_to_the_end_and_calls_the_finisher():
    at = _app()
    assert "status idle" in texts(at)
    assert [b for b in at.button if b.key == "toy.reset"] == []     # nothing to reset yet
    at.button(key="toy.train").click().run()
    assert_no_exception(at)
    lv = at.session_state["toy.live"]
    assert lv.status == "finished" and lv.run.stopped is StopReason.STEPS
    assert lv.result["finished_with"] == 5 and lv.settings == {"steps": 5}
    # throttled: with every_s = 1 h only the first and the last step drew the chart
    assert lv.result["seen"] == [1, 5]
    assert "status finished" in texts(at)


def test_the_rerun_after_stop_keeps_the_partial_result():
    at = _app()
    partial = Run(5, 60.0, history=[{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.0}])
    at.session_state["toy.live"] = live.LiveRun("toy", "running", partial, {"seen": [1]})
    at.button(key="toy.stop").click().run()
    assert_no_exception(at)
    lv = at.session_state["toy.live"]
    assert lv.status == "finished" and lv.stopped and lv.run.stopped is StopReason.STOPPED
    assert lv.result["finished_with"] == 2                       # the finisher saw the partial run
    assert "Stopped at step 2 of 5" in texts(at)
    at.button(key="toy.reset").click().run()                      # Reset: back to idle
    assert at.session_state["toy.live"].status == "idle" and "status idle" in texts(at)
    assert at.session_state["toy.resets"] == [1]                  # the page's own reset ran once
    assert [b for b in at.button if b.key == "toy.reset"] == []   # and Reset is gone at once


def test_start_can_be_disabled():
    at = _app()
    assert not at.button(key="toy.train").disabled
    at.session_state["toy.off"] = True
    at.run()
    assert at.button(key="toy.train").disabled and not at.button(key="toy.stop").disabled


def test_start_again_drops_an_interrupted_run_without_finishing_it():
    at = _app()
    old = live.LiveRun("toy", "running", Run(5, 60.0, history=[{"step": 1}]), {"seen": []})
    at.session_state["toy.live"] = old
    at.button(key="toy.train").click().run()
    assert_no_exception(at)
    assert "finished_with" not in old.result and old.run.stopped is StopReason.STOPPED
    assert "Stopped at step" not in texts(at)
    assert at.session_state["toy.live"].result["finished_with"] == 5


class _Bar:
    def __init__(self):
        self.calls = []

    def progress(self, value, text=None):
        self.calls.append((value, text))


def test_progress_updates_the_bar_every_step_and_draws_when_due():
    bar, drawn = _Bar(), []
    tick = live.progress(bar, lambda row, run: drawn.append(row["step"]), label="PPO step", every_s=0.0,
                         clock=lambda: 0.0)   # a chart that costs no time is drawn at every step
    run = Run(3, 60.0)
    for i in (1, 2, 3):
        tick({"step": i}, run)
    assert bar.calls == [(1 / 3, "PPO step 1/3"), (2 / 3, "PPO step 2/3"), (1.0, "PPO step 3/3")]
    assert drawn == [1, 2, 3]


def test_a_slow_chart_is_redrawn_less_often_so_it_takes_at_most_its_share_of_the_run():
    """A chart that costs 0.5 s per redraw, steps of 0.125 s (binary-exact times): after each
    redraw the next waits 0.5 * (1 - 0.2) / 0.2 = 2 s, i.e. 16 steps, so the chart takes 0.5 of
    every 2.5 s (DRAW_SHARE), not a redraw every `every_s`; the last step always draws."""
    assert live.DRAW_SHARE == 0.2
    t = [0.0]
    drawn = []

    def slow_draw(row, run):
        drawn.append(row["step"])
        t[0] += 0.5

    tick = live.progress(_Bar(), slow_draw, every_s=0.4, clock=lambda: t[0])
    run = Run(60, 600.0)
    for i in range(1, 61):
        t[0] += 0.125   # the step itself
        tick({"step": i}, run)
    assert drawn == [1, 17, 33, 49, 60]


def test_progress_keeps_the_run_in_the_live_run_from_the_first_step():
    lv = live.LiveRun("demo", "running")
    tick = live.progress(_Bar(), keep=lv)
    run = Run(3, 60.0)
    run.history.append({"step": 1})
    tick(run.history[-1], run)
    assert lv.run is run          # a Stop after this step keeps it


def test_progress_says_how_long_is_left_at_the_recent_pace():
    bar = _Bar()
    tick = live.progress(bar, label="step")
    run = Run(4, 600.0)
    for i, secs in ((1, 10.0), (2, 20.0), (3, 50.0), (4, 60.0)):
        run.history.append({"step": i, "seconds": secs})
        tick(run.history[-1], run)
    texts = [t for _, t in bar.calls]
    assert texts[0] == "step 1/4 · about 30 s left"      # 3 steps at 10 s
    assert texts[1] == "step 2/4 · about 20 s left"      # 2 steps at 10 s
    assert texts[2] == "step 3/4 · about 20 s left"      # 1 step at (50 - 10) / 2 = 20 s
    assert texts[3] == "step 4/4"                         # done: no ETA


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


def test_the_rerun_waits_for_the_interrupted_thread():
    """fastReruns: the rerun starts while the old script thread is still inside its step. The
    finisher must see that step too (finish_interrupted joins the old thread first)."""
    import threading

    at = _app()
    partial = Run(5, 60.0, history=[{"step": 1, "loss": 3.0}])
    go = threading.Event()

    def old_script_thread():
        go.wait(30)
        partial.history.append({"step": 2, "loss": 2.0})   # the step in flight when Stop came

    t = threading.Thread(target=old_script_thread)
    t.start()
    at.session_state["toy.live"] = live.LiveRun("toy", "running", partial, {"seen": []}, thread=t)
    threading.Timer(0.2, go.set).start()
    at.button(key="toy.stop").click().run()
    assert_no_exception(at)
    assert at.session_state["toy.live"].result["finished_with"] == 2
    assert "Stopped at step 2 of 5" in texts(at)


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
