"""A builder for the race test of lessons.models.conversion.build_once, run as its own process
(``python -m tests.unit.models.build_race TARGET GO_FILE``): it imports no torch, so two of them
start in a fraction of a second and really race for the lock. Each waits until GO_FILE exists,
builds TARGET once and prints its progress messages as one JSON line.

A plain subprocess, not multiprocessing: a spawned child re-runs the parent's ``__main__``, which in
a pytest worker that has run an AppTest is the page script AppTest executed."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from lessons.models.conversion import build_once


def slow_build(tmp: Path) -> dict:
    """Writes two files, slowly enough (1 s) that the second process must wait for the lock."""
    (tmp / "config.json").write_text('{"model": "fake"}')
    time.sleep(1.0)
    (tmp / "model.safetensors").write_bytes(b"\x01" * 4096)
    return {"source": "fake"}


def main(target: str, go_file: str) -> None:
    deadline = time.time() + 60
    while not Path(go_file).exists() and time.time() < deadline:
        time.sleep(0.01)
    msgs: list[str] = []
    build_once(Path(target), slow_build, what="a fake model", report=lambda f, m: msgs.append(m))
    print(json.dumps(msgs), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
