"""The server's runtime glue around every script run: the torch thread budget of an ordinary
rerun (ui/jobs.py), and the memory janitor that frees what learners who left had trained.
(Training runs and long generations run in class-run worker processes: ui/class_runs.py.)"""
from __future__ import annotations

import sys
import threading
import time


def use_interactive_threads() -> None:
    """Called at the start of every script run: an ordinary rerun computes on the
    interactive thread budget (torch's count is per thread and seeded by the last setter)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        from ui import jobs

        n = jobs.budget().interactive_threads
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


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
