"""AppTest helpers. Pages are opened through app.py so st.navigation and the sidebar run
exactly as in the real app. Model pages need a generous timeout (first load, CPU)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as _app_test
from streamlit.testing.v1 import local_script_runner as _local_runner

APP = str(Path(__file__).resolve().parents[2] / "app.py")


class SharedScriptCache(ScriptCache):
    """One cache of compiled scripts per process, as the real server keeps one (its Runtime's).

    AppTest builds a new ScriptCache on every run, so every AppTest rerun compiled app.py and the
    page again (Streamlit's magic rewrites each script's syntax tree first), a cost that no learner
    ever pays (bench/rerun_profile.py shows its share). The rerun benches (bench/interaction_*.py)
    measure what the server does, and the suite runs faster. Keyed by the file's mtime and size,
    so an edited script is compiled again."""

    _compiled: dict[tuple, object] = {}
    _guard = threading.Lock()

    def get_bytecode(self, script_path: str):
        path = os.path.abspath(script_path)
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size)
        with self._guard:
            code = self._compiled.get(key)
        if code is None:
            code = ScriptCache().get_bytecode(path)   # Streamlit's own compile (magic included)
            with self._guard:
                self._compiled[key] = code
        return code


_app_test.ScriptCache = SharedScriptCache
_local_runner.ScriptCache = SharedScriptCache


def open_page(page: str, timeout: float = 240) -> AppTest:
    """Start the app and switch to `page` ('pages/x.py'). Asserts no exception shown."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    at.switch_page(page)
    at.run()
    assert_no_exception(at)
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    """Everything the page shows as text (markdown, captions, metrics, alerts), joined."""
    parts = []
    for kind in ("markdown", "caption", "text", "code", "latex", "info", "warning", "error",
                 "success", "title", "header", "subheader"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def main_figure_charts(at: AppTest) -> list:
    """The plotly charts inside the lesson's main figure (ui/charts.main_figure, key
    ``lesson-figure``); asserts the page drew at most one main figure."""
    from streamlit.testing.v1.element_tree import Block

    from ui.charts import MAIN_KEY

    found: list = []

    def walk(node) -> None:
        if isinstance(node, Block) and getattr(node, "key", None) == MAIN_KEY:   # the root has no key
            found.append(node)
        for child in getattr(node, "children", {}).values():
            walk(child)
    walk(at._tree)
    assert len(found) <= 1, f"{len(found)} main figures on one page"
    return list(found[0].get("plotly_chart")) if found else []


# --------------------------------------------------------------------------- class runs
def follow_until_rows(job_id: int, follower: str, n: int, timeout: float = 120) -> None:
    """Keep ``follower``'s heartbeat alive (as its open page does) until the class run ``job_id``
    has ``n`` progress rows (ui/class_runs.py): a test's stand-in for a page that follows it."""
    import time

    from ui import class_runs

    t = time.time()
    while len(class_runs.poll(job_id).rows) < n:
        class_runs.heartbeat(job_id, follower)
        assert time.time() - t < timeout, f"class run {job_id}: fewer than {n} rows in {timeout} s"
        time.sleep(0.2)


def follow_as_this_session(at, url: str, kind: str, spec: dict, *, steps: int, max_seconds: float,
                           settings: dict, rows: int = 3):
    """A class run that only the AppTest session ``at`` follows, under way: ``spec`` of ``kind``
    queued for a worker, followed (heartbeats) until it has ``rows`` progress rows, and put in
    the page's LiveRun (``<url>.live``) as the page keeps a run it follows, so that the session's
    next click (a Stop) acts on it. Returns the job."""
    from lessons.core.loop import Run
    from ui import class_runs, live

    me = at.session_state["_teacher.sid"] = "stop-test"      # the session's follower name (ui/teacher.py)
    class_runs.ensure_workers()
    job = class_runs.request(kind, spec, f"session:{me}", shareable=True, max_seconds=max_seconds).job
    follow_until_rows(job.id, f"session:{me}", rows)
    at.session_state[f"{url}.live"] = live.LiveRun(url, "running", Run(steps, max_seconds),
                                                   {"job_id": job.id, "rows": []}, settings)
    return job


class TeacherTab:
    """``with TeacherTab(job_id):`` the teacher's open page, heartbeating its broadcast run (the
    follower "teacher-tab") in a thread until the block ends."""

    def __init__(self, job_id: int, follower: str = "teacher-tab"):
        self.job_id, self.follower, self.done = job_id, follower, threading.Event()

    def __enter__(self) -> "TeacherTab":
        from ui import class_runs

        def beat():
            while not self.done.wait(2):
                class_runs.heartbeat(self.job_id, self.follower)
        threading.Thread(target=beat, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
