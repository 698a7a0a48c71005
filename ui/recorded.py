"""How a page labels a recorded run (lessons/core/records.py): what was run, when, by which
code, at what cost, and that the live run is one click away.

In presenter mode only the first line is shown (the projector's screen belongs to the figure);
otherwise the page's own sentence follows it."""
from __future__ import annotations

from typing import Any

import streamlit as st

from lessons.core import records
from ui import charts


def note(rec: records.Record, detail: str, *, where: Any = None) -> None:
    """An info box: "**Recorded run**, made by this code on <date> (<CPU-s>, one thread)." and,
    except in presenter mode, ``detail`` (what the run was, and the button that runs it live)."""
    head = (f"**Recorded run**, made by this code on {rec.recorded} "
            f"({rec.cpu_s:.0f} CPU-seconds, one thread).")
    (where if where is not None else st).info(head if charts.presenting() else f"{head} {detail}")
