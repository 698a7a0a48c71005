"""The page half of a class run (ui/class_runs.py: the run trains in a worker process, and a
learner with the same settings joins it): Train (:func:`train_together`), Stop (:func:`leave`),
following the run while the page's LiveRun (ui/live.py) runs (:func:`follow`), the teacher's
broadcast, and the notes above a shared or recorded run. A rerun does not stop anything here (the
job goes on in its worker), so the next script run simply follows it again.

A page (pages/w1_pretraining_live.py)::

    start = live.buttons("pretraining-live", "▶ Start pretraining", start="start")
    on_air = class_run_page.teacher_broadcast("pretraining-live", KIND, describe, watch)
    if st.session_state.get("pretraining-live.stop"):
        class_run_page.leave("pretraining-live", see_it_end=True)
    if start:
        class_run_page.train_together("pretraining-live", KIND, spec, shareable=True, max_seconds=...,
                                      steps=..., broadcast=on_air)
    if live.state("pretraining-live").running:
        class_run_page.follow("pretraining-live", st.progress(0.0), draw)
    class_run_page.class_run_note("pretraining-live", note)    # once finished: a record, a shared run
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import streamlit as st

from lessons.core.loop import Run, StopReason
from ui.jobs import format_eta
from ui.live import Finisher, LiveRun, _redraw_gap, _slot, state, time_left


def _session_id() -> str:
    """This browser session's follower name: ui.teacher's random per-session token (not
    Streamlit's session id, which AppTest gives every session alike)."""
    from ui import teacher

    return teacher.session_name()


# A training page whose job runs in a worker process (ui/class_runs.py). The LiveRun then holds
# the job id and the rows the page has drawn; the job goes on whatever the script does, so a
# rerun (a widget, a new tab of the same session) simply follows it again. Only Stop leaves it.
def train_together(key: str, kind: str, spec: dict, *, shareable: bool, max_seconds: float, steps: int,
                   settings: dict | None = None, use_record: bool = True, broadcast: bool = False,
                   rows_of: Callable[[dict], list] = lambda result: result["run"]["history"]) -> LiveRun:
    """Train pressed: show the finished record of these settings at once, or join the run of
    these settings that is queued or running, or queue a new one (ui/class_runs.request). The
    LiveRun is ``running`` while the page follows a job (:func:`follow`). ``rows_of(result)``: the
    progress rows of a finished run's result (what the page would have drawn live)."""
    from ui import class_runs

    class_runs.ensure_workers()
    who = _session_id()
    lv = st.session_state[_slot(key)] = LiveRun(key, "idle", None, {}, dict(settings or {}))
    try:
        got = class_runs.request(kind, spec, who, shareable=shareable and class_runs.sharing_enabled(),
                                 max_seconds=max_seconds, use_record=use_record, broadcast=broadcast)
    except class_runs.QueueFull as exc:
        st.error(str(exc))
        return lv
    lv.run = Run(steps, max_seconds)
    if got.record is not None:
        lv.status, lv.result = "finished", {"job": got.record.result, "record": got.record, "rows": []}
        lv.run.history = list(rows_of(got.record.result))
        lv.run.stopped = StopReason(got.record.result["stopped"])
    else:
        lv.status, lv.result = "running", {"job_id": got.job.id, "rows": [], "joined": got.joined, "followers": 1,
                                           "broadcast": broadcast}
    return lv


def watch_broadcast(key: str, job_id: int, *, steps: int, max_seconds: float, settings: dict) -> LiveRun:
    """Follow the teacher's broadcast run ``job_id`` on this page (from its first step; the
    teacher controls Stop, this learner's Stop only leaves it)."""
    from ui import class_runs

    class_runs.follow_broadcast(job_id, _session_id())
    lv = st.session_state[_slot(key)] = LiveRun(key, "running", Run(steps, max_seconds),
                                                {"job_id": job_id, "rows": [], "followers": 1, "watching": True},
                                                dict(settings))
    return lv


def class_run_note(key: str, where) -> None:
    """Above a finished class run's figure (``where``: a placeholder), where the run came from: a
    record of the same settings (with **Run it again live**, key ``<key>.again``), the teacher's
    broadcast, or a run shared with other learners."""
    res = state(key).result or {}
    rec = res.get("record")
    if rec is not None:
        with where.container():
            st.info(f"**These settings ran before** (a class run that finished on {rec.recorded}, "
                    f"{rec.wall_s:.0f} s): shown at once, step for step what a new run on this server computes.")
            st.button("↻ Run it again live", key=f"{key}.again", help="Runs these settings again, live.")
    elif res.get("watching"):
        where.caption("📡 Your teacher's run, followed live from its first step.")
    elif (res.get("followers") or 0) > 1 or res.get("joined"):
        where.caption(f"A class run: you followed the same run as {max(res.get('followers', 1) - 1, 1)} "
                      "other learner(s) with these settings.")


def watch_spec(spec: dict, *, keys=None, steps_per_setting: int = 1, extra_s: float = 0.0) -> dict:
    """How a page follows a broadcast run from the run's spec (:func:`watch_broadcast`'s steps,
    max_seconds and settings): the settings' "steps" (times ``steps_per_setting`` when the run
    trains several phases of that many steps), the spec's seconds cap (plus ``extra_s``), and the
    settings as the page keeps them (``keys``: only those, when the spec holds more)."""
    s = spec["settings"]
    return dict(steps=steps_per_setting * s["steps"], max_seconds=steps_per_setting * spec["max_seconds"] + extra_s,
                settings=s if keys is None else {k: s[k] for k in keys})


def teacher_broadcast(key: str, kind: str, describe: Callable[[dict], str],
                      watch: Callable[[dict], dict] = watch_spec) -> bool:
    """A class-run page's teacher broadcast (the projector's run, followed live by the learners
    on their own pages). For a teacher: the "📡 Broadcast my run to the class" switch (key
    ``<key>.broadcast``); its value is returned, for ``train_together(..., broadcast=...)``. For a
    learner, while the teacher's run of ``kind`` is on: "Your teacher is training live:
    <describe(spec)>" and "📡 Follow the teacher's run" (key ``<key>.follow_teacher``), whose click
    makes this page follow that run (``watch(spec)``: watch_broadcast's steps, max_seconds and
    settings; :func:`watch_spec` by default). Only the teacher stops the run; a learner's Stop ends
    their watching."""
    from ui import class_runs, teacher

    on = teacher.is_teacher() and st.toggle(
        "📡 Broadcast my run to the class", key=f"{key}.broadcast",
        help="Learners see a 'Follow the teacher's run' button on this page and watch your run live; only you can stop it.")
    air = class_runs.broadcasts(kind)
    if air is not None and st.session_state.get(f"{key}.follow_teacher"):
        watch_broadcast(key, air.id, **watch(class_runs.spec_of(air.id)))
    lv = state(key)
    watching = lv.running and (lv.result or {}).get("job_id") == air.id if air is not None else False
    if air is not None and not (watching and not st.session_state.get(f"{key}.stop")):   # again after a Stop
        st.info(f"📡 **Your teacher is training live**: {describe(class_runs.spec_of(air.id))}.")
        st.button("📡 Follow the teacher's run", key=f"{key}.follow_teacher",
                  help="Watch the same run live here, from its first step. Your Stop only stops your watching.")
    return bool(on)


def left_note(key: str, where=None) -> None:
    """Under a class run this learner left with Stop while others went on (no result of its own):
    what happened to the run, and that the steps shown are the ones they saw."""
    (where or st).info(("You stopped watching: your teacher's run goes on" if (state(key).result or {}).get("watching")
                        else "You left the run: it goes on for the learners who follow it (and ends when nobody does)")
                       + "; the steps above are the ones you saw.")


def leave(key: str, see_it_end: bool = False) -> Optional[LiveRun]:
    """Stop pressed while following a class run: this learner leaves it (the run goes on for
    the others, and stops when nobody follows); the steps seen so far stay on the page.

    ``see_it_end``: when nobody else follows the run, this Stop ends it, so the page keeps
    following it for the moment it takes to stop after its current step (the bar says so) and
    gets the worker's result of the stopped run (what a page computes from a stopped model,
    e.g. its validation perplexity). With others still on it, the learner leaves as above."""
    from ui import class_runs

    lv = state(key)
    if not lv.running or "job_id" not in (lv.result or {}):
        return None
    jid = lv.result["job_id"]
    class_runs.leave(jid, _session_id())
    if lv.run is not None:
        lv.run.stopped = StopReason.STOPPED
    if see_it_end and class_runs.followers(jid, controlling=True) == 0 and \
            class_runs.poll(jid, since=len(lv.result["rows"])).job.state == class_runs.RUNNING:
        lv.result["stopping"] = True     # still running: follow() waits for the stopped run's result
        return lv
    lv.status = "finished"
    return lv


def presses(key: str, started: bool, start: Callable[[bool], None], *, see_it_end: bool = True) -> None:
    """A class-run page's buttons, handled in one order on every page: Stop (``<key>.stop``)
    leaves the run (:func:`leave`; ``see_it_end``: a Stop that ends it waits for the stopped run's
    result); Train (``started``) calls ``start(True)``: the page joins or queues the run of its
    settings, or shows a finished one at once; *Run it again live* (``<key>.again``) calls
    ``start(False)``: the same settings trained again, live."""
    if st.session_state.get(f"{key}.stop"):
        leave(key, see_it_end=see_it_end)
    if started:
        start(True)
    if st.session_state.get(f"{key}.again"):
        start(False)


def generation_result(key: str, label: str, draw: Callable[[list, LiveRun], None] | None = None,
                      what: str = "The run") -> Optional[dict]:
    """A page whose class run is a generation (a plain button: no Stop, no broadcast): follow it while
    it runs, on a bar that is emptied when it ends (no finished bar stays on the page), say why a
    failed run stopped (``what`` names it), and return the finished job's result (None while there
    is none)."""
    from ui.inputs import md_escape

    lv = state(key)
    if lv.running:
        bar = st.empty()
        follow(key, bar, draw, label=label)
        bar.empty()
    if lv.result and lv.result.get("error"):
        st.error(f"{what} stopped: {md_escape(lv.result['error'])}. Press the button to try again.")
    return None if lv.running else (lv.result or {}).get("job")


@dataclass(frozen=True)
class TrainingPage:
    """A page whose training is a class run, as its source says: its Train and Stop are
    ``live.buttons`` and it trains through ``class_run_page.train_together``."""
    url: str
    path: str             # pages/<file>.py, from the repository root
    train: str            # its Train button's key: "<url>.<start>"
    first: Optional[str]  # a button to press before Train shows (the RLHF pages' one-click reward model)


def training_pages(root: Path | None = None) -> list[TrainingPage]:
    """Every class-run training page, found from the pages' source (no hand-kept list): the
    teacher-broadcast test and scripts/record_class_defaults.py walk them all."""
    import re

    from ui.class_runs import ROOT

    root = root or ROOT
    out = []
    for f in sorted((root / "pages").glob("*.py")):
        src = f.read_text(encoding="utf-8")
        call = re.search(r"""live\.buttons\(\s*["']([a-z0-9-]+)["']""", src)
        if "class_run_page.train_together(" not in src or call is None:
            continue
        start = re.search(r"""start=["'](\w+)["']""", src[call.end():call.end() + 300])   # the call's own start=
        first = re.search(r"""ensure_reward_model\([^)]*key=["']([\w.-]+)["']""", src)
        out.append(TrainingPage(call[1], str(f.relative_to(root)), f"{call[1]}.{start[1] if start else 'train'}",
                                first[1] if first else None))
    return out


_FOLLOWING = [0]                 # follow loops running in this process (every session's)
_FOLLOWING_LOCK = threading.Lock()


def follow(key: str, bar, draw: Callable[[list, LiveRun], None] | None = None, *, label: str = "step",
           poll_s: float = 0.5, every_s: float = 0.4, finisher: Finisher = None) -> LiveRun:
    """Follow the session's class run until it ends: its place in the queue while it waits; the
    bar ("<label> i/n · shared with N learners · about N s left") and the throttled live chart
    ``draw(rows, lv)`` while it runs; then the job's outcome in ``lv.result["job"]`` (a failed
    job's reason in ``["error"]``) and ``finisher(lv)``. A rerun interrupts the loop; the next script run calls this again and picks
    up where it was (the rows already drawn are in the LiveRun).

    The charts of ALL the follow loops of this process together take at most DRAW_SHARE of one
    core: a loop waits ``cost * (1 - share) / share`` times the number of loops running between
    its redraws. Why: when a class shares a run, every follower draws the same chart in this one
    process; throttled each on its own (as :func:`progress` is), the followers of one PPO run
    together drew its four-panel chart (holding the GIL) for more than a core's worth of time, and
    every other learner's rerun waited (found with bench/classroom.py, 60 learners). The bar still
    moves at every poll: it is cheap."""
    with _FOLLOWING_LOCK:
        _FOLLOWING[0] += 1
    try:
        return _follow(key, bar, draw, label, poll_s, every_s, finisher)
    finally:
        with _FOLLOWING_LOCK:
            _FOLLOWING[0] -= 1


def _follow(key: str, bar, draw, label: str, poll_s: float, every_s: float, finisher: Finisher) -> LiveRun:
    from ui import class_runs

    lv = state(key)
    jid, who = lv.result["job_id"], _session_id()
    last_beat, last_draw, cost = 0.0, float("-inf"), 0.0
    n = max(lv.run.steps_planned if lv.run is not None else 1, 1)
    while True:
        now = time.monotonic()
        if now - last_beat >= class_runs.HEARTBEAT_S and not lv.result.get("stopping"):
            class_runs.heartbeat(jid, who)
            last_beat = now
        try:
            p = class_runs.poll(jid, since=len(lv.result["rows"]))
        except class_runs.Gone:   # came back long after the run ended: it is no longer kept
            lv.result["error"] = ("this run ended long ago and is no longer kept (press Train: a run that "
                                  "finished all its steps shows at once)")
            lv.status = "finished"
            return lv
        lv.result["rows"].extend(p.rows)
        lv.result["followers"] = p.followers
        if lv.run is not None:
            lv.run.history = lv.result["rows"]
        others = p.followers - 1
        shared = "" if others < 1 else (f"watched by {others} learner{'s' if others != 1 else ''}"
                                        if lv.result.get("broadcast") else
                                        f"shared with {others} other learner{'s' if others != 1 else ''}")
        if p.job.state == class_runs.QUEUED:
            eta = class_runs.typical_seconds(p.job.kind) * ((p.position or 1) - 1 + p.running) / max(
                1, class_runs.ensure_workers().workers_for(p.job.kind))
            bar.progress(0.0, text=" · ".join(x for x in (
                f"⏳ Waiting for a training worker: number {p.position} in the queue, {p.running} running",
                shared, f"expected start: {format_eta(eta)}") if x))
        elif p.job.state == class_runs.RUNNING or p.rows:
            rows = lv.result["rows"]
            i = rows[-1]["step"] if rows else 0
            parts = [f"{label} {i}/{n}" if rows else "Starting: the worker is getting ready (the first run of a model loads it) ..."]
            if lv.result.get("stopping"):
                parts.append("⏹ stopping after this step ...")
            elif shared:
                parts.append(shared)
            if rows and i < n:
                per = rows[-1]["seconds"] / max(i, 1)
                parts.append(time_left(per * (n - i)))
            bar.progress(min(i / n, 1.0), text=" · ".join(parts))
            t = time.perf_counter()
            gap = _redraw_gap(cost, every_s, sharing=_FOLLOWING[0])
            if draw is not None and rows and p.rows and (t - last_draw >= gap or not p.job.active):
                draw(rows, lv)
                last_draw = time.perf_counter()
                cost = last_draw - t
        if not p.job.active:
            lv.result["job"] = p.job.result
            lv.result["outcome"] = p.job
            lv.result["error"] = p.job.error if p.job.state == class_runs.FAILED else None   # the page says why
            if lv.run is not None:
                lv.run.stopped = StopReason(p.job.stopped_by) if p.job.stopped_by in ("steps", "time", "stopped") else None
            if finisher is not None:
                finisher(lv)
            lv.status = "finished"
            return lv
        time.sleep(poll_s)
