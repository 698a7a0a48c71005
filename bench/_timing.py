"""Small helpers shared by the bench scripts: timing, and saving figures to assets/measured/."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable


def p50_ms(fn: Callable[[], object], repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of fn() in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def machine(when: str = "at the end") -> str:
    """The machine in words, with its load (this machine is shared: a figure says how busy it was)."""
    return f"{os.cpu_count()} cores {platform.machine()}, load average {os.getloadavg()[0]:.1f} {when}"


# What runs on EVERY rerun of EVERY page, whatever the lesson: the navigation, the page layer's
# class features (questions, share links, presenter bar, polls), the chart helper and the server's
# configuration. A change here changes what every learner waits for, so the figures a learner
# feels (rerun times, the classroom's p95) are measured again (tests/unit/test_readme_measured.py).
EVERY_PAGE_CODE = ("app.py", ".streamlit/config.toml", "lessons/course.py", "study", "ui/common.py", "ui/runtime.py",
                   "ui/jobs.py", "ui/share.py", "ui/study.py", "ui/poll.py", "ui/identity.py", "ui/inputs.py",
                   "ui/charts.py")


def every_page_code() -> str:
    """sha256 of EVERY_PAGE_CODE (lessons.core.records.code_version), first 12 hex digits."""
    from lessons.core.records import code_version

    return code_version(EVERY_PAGE_CODE)[:12]


def stamp(when: str = "at the end") -> dict:
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine(when),
            "every_page_code": every_page_code()}


def save(name: str, run: str, figures: dict, written_by: str) -> Path:
    """Merge one run's figures (plus its date and machine, unless given) into
    assets/measured/<name>.json as ``{"written_by": ..., "runs": {run: figures}}``: the file the
    README's tables are written from (scripts/readme_measured.py). Another run with the same
    name replaces it; runs with other names stay."""
    from lessons.core.measured import MEASURED_DIR

    path = MEASURED_DIR / f"{name}.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data = {"written_by": written_by, "runs": data.get("runs", {})}
    data["runs"][run] = {**stamp(), **figures}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
