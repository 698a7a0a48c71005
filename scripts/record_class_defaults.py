"""Before class: run every class-run training page's default settings once on this server's
progress database, so that a learner who presses Train with the defaults is shown the finished run
at once ("These settings ran before", with *Run it again live* one click away) instead of waiting
for it.

    python scripts/record_class_defaults.py            # every page (some minutes on a laptop CPU)
    python scripts/record_class_defaults.py --only ppo --only dpo

Run it on the server's machine, with the server's environment (GENAI_LAB_DB_URL, GENAI_LAB_CACHE,
GENAI_LAB_JOB_THREADS, ...), after scripts/prepare_models.py; the app may be running meanwhile.

How: each page (ui/class_run_page.training_pages: found from the pages' source, no hand-kept list) is
opened in a headless session of the real app (Streamlit's AppTest), its one-click reward model built
first where it has one, and its Train pressed with the page's own defaults; the run trains in a
class-run worker process like any learner's. Because the page itself builds the run's key (its
settings, the shared models' fingerprints, the code version, the torch threads, the device and the
processor), a learner's press on this machine finds the same key. A run is kept only when it is the
same for everyone (shareable) and ran all its steps; a record is made again when the code, the models
or the processor change, so run this again after an update. Prints one JSON object: per page, what
happened and the seconds it took. Exits non-zero when a page's default run is not recorded.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TIMEOUT_S = 1800.0     # one page's run at most (a busy machine): the page follows it to its end


def record_page(page, timeout: float = TIMEOUT_S) -> dict:
    """Press ``page``'s Train with its defaults in a headless session; what came of it."""
    from streamlit.testing.v1 import AppTest

    t0 = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page.path)
    at.run()
    if page.first:
        at.button(key=page.first).click().run()
    at.button(key=page.train).click().run()
    problems = [e.value for e in at.exception] + [e.value for e in at.error]
    lv = at.session_state[f"{page.url}.live"]
    res = lv.result or {}
    out = {"seconds": round(time.perf_counter() - t0, 1)}
    if res.get("record") is not None:
        out["status"] = "was recorded"
    elif (job := res.get("outcome")) is not None and job.state == "done":
        out["status"] = ("not recordable: the page's default run is not the same for everyone" if not job.shareable
                         else "recorded" if job.stopped_by == "steps"
                         else f"not kept: it ended by its {job.stopped_by} limit before its last step (a busy machine?)")
    else:
        out["status"] = "failed"
        out["why"] = (res.get("error") or (problems[0] if problems else f"the run ended as {lv.status}"))[:300]
    return out


def main(argv: list[str] | None = None) -> int:
    from ui import class_run_page

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="URL", help="only this page (repeatable)")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds one page's run may take")
    args = ap.parse_args(argv)
    pages = class_run_page.training_pages()
    unknown = set(args.only) - {p.url for p in pages}
    if unknown:
        ap.error(f"not a class-run training page: {', '.join(sorted(unknown))} "
                 f"(these are: {', '.join(p.url for p in pages)})")
    report = {}
    for page in pages:
        if args.only and page.url not in args.only:
            continue
        print(f"... {page.url}", file=sys.stderr, flush=True)
        report[page.url] = record_page(page, args.timeout)
    print(json.dumps(report, indent=1))
    return int(any(r["status"] != "recorded" and r["status"] != "was recorded" for r in report.values()))


if __name__ == "__main__":
    sys.exit(main())
