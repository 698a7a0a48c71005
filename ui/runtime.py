"""The server's runtime glue for long work: the fair training queue around a job (ui/jobs.py),
the torch thread budget of an ordinary rerun, the Stop check a training loop asks before each
update, and the memory janitor that frees what learners who left had trained."""
from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from lessons import course
from ui.inputs import md_escape


# --------------------------------------------------------------------------- training queue
# One fair FIFO queue per server (ui/jobs.py): nobody is refused, everybody sees their place.
def training_slot(label: str | None = None, expected_s: float | None = None):
    """Use around any training job or long generation: ``with training_slot() as ok: if ok:``.

    Waits in the server's queue (position, ETA and a Leave-the-queue button on the page), then
    runs the body with the job's torch thread budget. Any rerun while waiting (a widget, the
    page's Stop button) gives up the place. ``ok`` is always True once the body runs. A body
    that raises an Exception frees the slot and shows "Training stopped by an error" (no
    traceback); the page carries on below the ``with``.
    ``label`` names the kind of job for the ETA (default: the calling page's file name);
    ``expected_s`` is the caller's own estimate of the run's length, if it has one."""
    if label is None:   # the calling page's url name (its widget-key prefix), e.g. "ppo"
        caller = Path(sys._getframe(1).f_code.co_filename)
        lesson = course.parse_header(caller) if caller.suffix == ".py" and caller.exists() else None
        label = lesson.url if lesson is not None else caller.stem
    return _queued(label, expected_s)


@contextmanager
def _queued(label: str, expected_s: float | None):
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from ui import jobs

    ctx = get_script_run_ctx()
    owner = ctx.session_id if ctx is not None else f"thread-{threading.get_ident()}"
    sched, budget = jobs.scheduler(), jobs.budget()
    ui: dict = {}

    def on_wait(place: jobs.Place) -> None:
        if not ui:   # drawn on the first wait only: a free slot shows nothing at all
            holder = st.empty()
            with holder.container(border=True):
                ui["msg"] = st.empty()
                st.button("✖ Leave the queue", key=f"{label}.leave-queue",
                          help="Gives up your place; press Train again to rejoin at the back.")
            ui["holder"] = holder
        ahead = place.position - 1
        ui["msg"].info(
            f"⏳ **Waiting for a training slot: you are number {place.position} in the queue** "
            f"({ahead} ahead of you, {place.running} running; this server runs "
            f"{budget.describe()}). Expected start: {jobs.format_eta(place.eta_s)}. "
            "Your run starts by itself; moving a widget here gives up your place."
        )

    try:
        with sched.slot(owner, label, expected_s, on_wait=on_wait):
            if ui:
                ui["holder"].empty()
            yield True
    except Exception as exc:  # noqa: BLE001 - the job failed: say so, free the slot, keep the page
        # (Streamlit's Stop/rerun are BaseExceptions and pass through untouched.)
        # The message may quote learner text: escaped, never rendered as markdown. The full
        # traceback goes to the server log for the teacher.
        logging.getLogger("genai_lab.jobs").error("training job %r failed", label, exc_info=exc)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        st.error(f"Training stopped by an error: {md_escape(first)} ({type(exc).__name__}). "
                 "Its training slot is free again: change a setting and try again.")


def use_interactive_threads() -> None:
    """Called at the start of every script run: an ordinary rerun computes on the
    interactive thread budget (torch's count is per thread and seeded by the last setter)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        from ui import jobs

        n = jobs.budget().interactive_threads
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


def stop_requested() -> bool:
    """True once the learner clicked something (the Stop button included) while this script
    run is still going: Streamlit will end the run at its next element call. A training loop
    asks this before each weight update, so that no step is applied after Stop."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
        state = getattr(getattr(ctx, "script_requests", None), "_state", None)
        return state is not None and getattr(state, "name", "CONTINUE") != "CONTINUE"
    except Exception:  # a Streamlit without these internals: fall back to the next element call
        return False


# --------------------------------------------------------------------------- memory
def release_memory() -> None:
    """Hand freed heap memory back to the OS after a script run (glibc keeps it otherwise:
    a lesson that builds big temporary tensors would leave the server's RSS high). Also starts,
    once per process, the janitor that frees what learners who LEFT had trained."""
    _malloc_trim()
    _start_janitor()


def _malloc_trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows): nothing to do
        pass


JANITOR_EVERY_S = 30.0
_JANITOR: list = []
_JANITOR_LOCK = threading.Lock()


def expire_closed_sessions() -> int | None:
    """Drop the sessions whose browser left more than server.disconnectedSessionTTL (120 s) ago.

    Streamlit keeps a closed session for a reconnect, in a TTL cache that removes expired
    entries only when it is next written or its length is asked; with nobody arriving, what
    the leavers trained stayed in memory. A length query reaps them (streamlit 1.67's
    runtime/caching/ttl_cache.py). Returns the sessions still kept, None if unavailable."""
    try:
        from streamlit.runtime import Runtime

        return len(Runtime.instance()._session_mgr._session_storage._cache)
    except Exception:  # noqa: BLE001 - internals of another Streamlit version: skip, never fail
        return None


def _janitor() -> None:
    import gc

    kept_before = None
    while True:
        time.sleep(JANITOR_EVERY_S)
        kept = expire_closed_sessions()
        gc.collect()          # sessions hold reference cycles (callbacks, widgets)
        _malloc_trim()
        if kept != kept_before:   # one line in the server log when the count changes
            print(f"[genai-lab janitor] closed sessions kept for reconnect: {kept}", file=sys.stderr, flush=True)
            kept_before = kept


def _start_janitor() -> None:
    with _JANITOR_LOCK:
        if not _JANITOR:
            t = threading.Thread(target=_janitor, name="genai-lab-janitor", daemon=True)
            t.start()
            _JANITOR.append(t)
