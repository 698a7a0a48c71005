"""Recorded runs on a page (lessons/core/records.py): :func:`find` looks up the record of the
page's current settings (cached once per process), :func:`note` labels it: what was run, when,
by which code, at what cost, and that the live run is one click away.

In presenter mode only the label's first line is shown (the projector's screen belongs to the
figure); otherwise the page's own sentence follows it."""
from __future__ import annotations

import json
import sys
from typing import Any, Callable

import streamlit as st

from lessons.core import records
from ui import charts


def note(rec: records.Record, detail: str, *, where: Any = None) -> None:
    """An info box: "**Recorded run**, made by this code on <date> (<CPU-s>, one thread)." and,
    except in presenter mode, ``detail`` (what the run was, and the button that runs it live)."""
    head = (f"**Recorded run**, made by this code on {rec.recorded} "
            f"({rec.cpu_s:.0f} CPU-seconds, one thread).")
    (where if where is not None else st).info(head if charts.presenting() else f"{head} {detail}")


def find(module: Any, kind: str, settings: dict, device: str,
         lab: Callable[[str], Any]) -> records.Record | None:
    """The current record of a lessons record module (``module.RUNS``, ``module.recorded``) for
    ``kind`` and ``settings``, or None: settings that are not among the module's RUNS (a learner's
    own) are never looked up, and a missing or stale record is None. ``lab(device)`` builds the Lab
    whose shared models' fingerprints key the record: a top-level function of the page, called
    once per process and device. Records and labs are shared by every session and read-only."""
    if (kind, records.plain(settings)) not in [(k, records.plain(s)) for k, s in module.RUNS]:
        return None
    lab_name = f"{lab.__code__.co_filename}:{lab.__qualname__}"     # the page's own lab
    return _find(module.__name__, kind, json.dumps(settings, sort_keys=True), device, lab_name, lab)


def lab(module: Any, device: str, make: Callable[[str], Any]) -> Any:
    """The page's Lab (``make(device)``) that :func:`find` keys ``module``'s records with, made once
    per process and device with its shared models' fingerprints hashed: also what a class run's
    spec names, so a page hashes its models once for both."""
    return _lab(module.__name__, device, f"{make.__code__.co_filename}:{make.__qualname__}", make)


@st.cache_resource(show_spinner="Checking the recorded runs ...")
def _lab(module_name: str, device: str, lab_name: str, _make: Callable[[str], Any]) -> Any:
    made = _make(device)
    made.fingerprints({})          # hash the shared models once per process
    return made


@st.cache_resource(show_spinner=False, max_entries=256)
def _find(module_name: str, kind: str, settings_json: str, device: str, lab_name: str,
          _make: Callable[[str], Any]) -> records.Record | None:
    module = sys.modules[module_name]
    return module.recorded(_lab(module_name, device, lab_name, _make), kind, json.loads(settings_json))
