"""Start the app: `python scripts/serve.py [streamlit run options]` (what `make run` does).

Same as `streamlit run app.py`, with one fix: Streamlit treats an app whose folder holds a
`pages/` directory as an old-style (v1) multipage app until app.py first calls
st.navigation. In a freshly started server the very first visit to a deep link such as
/scaling-laws therefore shows a "Page not found" dialog before the right page renders. We
declare up front that this app uses st.navigation, so every link works from the first visit.
"""
import os
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    # torch's default thread count for every thread of the server: the interactive budget
    # (ui/jobs.py); training jobs set their own count per thread when the queue starts them.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, os.environ.get("GENAI_LAB_INTERACTIVE_THREADS", "1"))
    PagesManager.uses_pages_directory = False
    # No full garbage collection after every script run (Streamlit's default): with the models,
    # thirty sessions and their figures in one process, each took ~0.37 CPU-s while holding the
    # GIL, so every learner's rerun also paused everyone else's (a yappi profile of a class on one
    # server: 57 of ~280 CPU-s in gc.collect). The app's janitor collects every 30 s instead
    # (ui/runtime.py), so what leavers left behind is still freed. Pass the flag to override.
    gc_flag = [] if any(a.startswith("--runner.postScriptGC") for a in sys.argv[1:]) else ["--runner.postScriptGC=false"]
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *gc_flag, *sys.argv[1:]]
    # The class-run workers start with the app (ui/class_runs.py): training runs in them, out of
    # this process, and the first Train does not wait for a worker to start.
    sys.path.insert(0, str(ROOT))
    from ui import class_runs

    class_runs.ensure_workers()
    sys.exit(cli.main())
