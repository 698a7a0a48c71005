"""Per-page CPU of a running Streamlit server, for ``bench/classroom.py --page-cpu``.

Python imports ``sitecustomize`` at start-up from any folder on PYTHONPATH; the bench puts this
folder there for the server it starts (and only with --page-cpu). In the server's process a
thread waits for Streamlit's modules, then wraps ``StreamlitPage.run`` (one page's script) and
``ScriptRunner._run_script`` (the whole run: app.py, the page, the study features) with the
calling thread's CPU clock, and writes the totals to $GENAI_LAB_PAGE_CPU every 2 s as JSON:
{"process_cpu_s", "by": {"page:<url>" or "script_total": {"n", "cpu_s", "cpu_ms_p50", "cpu_ms_p95"}}}.
The thread clock counts this script thread's own work (Python, and torch ops run on it), not
torch's helper threads."""
import os
import sys

OUT = os.environ.get("GENAI_LAB_PAGE_CPU")

if OUT and any(a.endswith(("serve.py", "streamlit")) for a in sys.argv[:1]):
    import json
    import threading
    import time

    _stats: dict[str, list] = {}
    _lock = threading.Lock()

    def _add(key: str, cpu: float) -> None:
        with _lock:
            _stats.setdefault(key, []).append(cpu)

    def _dump() -> None:
        with _lock:
            by = {k: {"n": len(v), "cpu_s": round(sum(v), 2),
                      "cpu_ms_p50": round(1000 * sorted(v)[len(v) // 2], 1),
                      "cpu_ms_p95": round(1000 * sorted(v)[int(0.95 * len(v))], 1)}
                  for k, v in sorted(_stats.items(), key=lambda kv: -sum(kv[1]))}
        t = os.times()
        tmp = OUT + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"process_cpu_s": round(t.user + t.system, 1), "by": by}, f)
        os.replace(tmp, OUT)

    def _timed(fn, key):
        def wrapper(self, *args):
            c0 = time.thread_time()
            try:
                return fn(self, *args)
            finally:
                _add(key(self, *args), time.thread_time() - c0)
        return wrapper

    def _patch() -> None:
        names = ("streamlit.navigation.page", "streamlit.runtime.scriptrunner.script_runner")
        while not all(n in sys.modules for n in names):
            time.sleep(0.02)
        time.sleep(0.2)                                   # the modules finish importing
        page, runner = (sys.modules[n] for n in names)
        page.StreamlitPage.run = _timed(page.StreamlitPage.run, lambda p: "page:" + (p.url_path or "home"))
        runner.ScriptRunner._run_script = _timed(runner.ScriptRunner._run_script, lambda r, data: "script_total")
        while True:
            time.sleep(2)
            _dump()

    threading.Thread(target=_patch, daemon=True, name="page-cpu").start()
