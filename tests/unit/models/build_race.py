"""A builder for the race test of lessons.models.conversion.build_once, in a module that imports
no torch: each spawned process starts in a fraction of a second, so the two really do race for
the lock instead of for the import of torch."""
from __future__ import annotations

import time
from pathlib import Path

from lessons.models.conversion import build_once


def slow_build(tmp: Path) -> dict:
    """Writes two files, slowly enough (1 s) that the second process must wait for the lock."""
    (tmp / "config.json").write_text('{"model": "fake"}')
    time.sleep(1.0)
    (tmp / "model.safetensors").write_bytes(b"\x01" * 4096)
    return {"source": "fake"}


def race(target: str, go, q) -> None:
    """Wait for the start signal, then build ``target`` once; put this process's messages on ``q``."""
    msgs: list[str] = []
    go.wait(60)
    build_once(Path(target), slow_build, what="a fake model", report=lambda f, m: msgs.append(m))
    q.put(msgs)
