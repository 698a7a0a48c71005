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


def stamp(when: str = "at the end") -> dict:
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine(when)}


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
