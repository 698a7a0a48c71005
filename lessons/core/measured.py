"""Figures measured by the bench scripts and shipped with the app (assets/measured/), so the
pages can state what the models really do -- as measured, dated -- instead of what the
papers promise. Written by the benches (``bench/week3_apps.py --save``, ``bench/outcomes.py --save``);
plain data, no streamlit. Code and docstrings never quote a run's figures: they read them here."""
from __future__ import annotations

import json
from pathlib import Path

from lessons.core import budget

MEASURED_DIR = Path(__file__).resolve().parents[2] / "assets" / "measured"


def week3_apps() -> dict:
    """{"date", "machine", "decoding", "models": {model name: {"reasoning", "react", "rag"}}}
    or {} when nothing was measured."""
    return read("week3_apps")


def outcomes() -> dict:
    """{"date", "threads", "demos": {demo name: figures}} from bench/outcomes.py, or {}."""
    return read("outcomes")


def outcome(demo: str) -> dict:
    """One demo's measured figures (e.g. "ppo-lora": start, value, kl_nats, lr), or {}."""
    return outcomes().get("demos", {}).get(demo, {})


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def week3_lines(section: str) -> list[str]:
    """One sentence per measured model for a page section: 'reasoning', 'react' or 'rag'."""
    data = week3_apps()
    lines = []
    for name, row in data.get("models", {}).items():
        r = row.get(section)
        if not r:
            continue
        if section == "reasoning":
            lines.append(f"{name}: direct {r['direct']['correct']}/{r['direct']['n']} "
                         f"({_pct(r['direct']['accuracy'])}), chain-of-thought {r['cot']['correct']}/"
                         f"{r['cot']['n']} ({_pct(r['cot']['accuracy'])}), PAL {r['pal']['correct']}/"
                         f"{r['pal']['n']} ({_pct(r['pal']['accuracy'])})")
        elif section == "react":
            line = (f"{name}: {r['success']}/{r['n']} ReAct tasks solved ({_pct(r['success_rate'])}); "
                    f"{r['used_a_tool']}/{r['n']} runs used a tool")
            if "steps_cut_off" in r:
                line += f"; steps: {budget.text(r['steps_cut_off'])}"
            lines.append(line + _react_provenance(r))
        elif section == "rag":
            w, wo = r["with_context"], r["without_context"]
            lines.append(f"{name}: {w['correct']}/{w['n']} right with retrieved context "
                         f"({_pct(w['accuracy'])}), {wo['correct']}/{wo['n']} without ({_pct(wo['accuracy'])})")
    return lines


def _react_provenance(r: dict) -> str:
    b = r.get("budget")
    if not b:
        return ""
    return (f" (budget: {b['max_steps']} steps of {b['max_new_tokens_per_step']} new tokens, "
            f"{b['max_seconds_per_run']:g} s per run; code {r['code_version']}, {r['date']})")


def react_outcomes() -> dict:
    """The ReAct failure table from the bench: {"by_task": [{"task", model: outcome, ...}],
    "counts": [{"model", outcome class: runs, ..., "steps cut off": budget line}]}, the classes of
    lessons.prompting.react.classify in its order; empty lists when no run was classified yet."""
    by_task: dict[str, dict] = {}
    counts = []
    for name, row in week3_apps().get("models", {}).items():
        r = row.get("react") or {}
        if "outcomes" not in r:
            continue
        counts.append({"model": name, **r["outcomes"], "steps cut off": budget.text(r["steps_cut_off"])})
        for t in r["rows"]:
            by_task.setdefault(t["task"], {"task": t["task"]})[name] = t["outcome"]
    return {"by_task": list(by_task.values()), "counts": counts}


def read(name: str) -> dict:
    """assets/measured/<name>.json as its bench wrote it (bench/_timing.save writes {"written_by",
    "runs": {run: figures + date + machine}}), or {} when it was never measured."""
    try:
        return json.loads((MEASURED_DIR / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
