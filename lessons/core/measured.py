"""Figures measured by the bench scripts and shipped with the app (assets/measured/), so the
pages can state what the models really do -- as measured, dated -- instead of what the
papers promise. Written by the benches (``bench/week3_apps.py --save``, ``bench/outcomes.py --save``);
plain data, no streamlit. Code and docstrings never quote a run's figures: they read them here."""
from __future__ import annotations

import json
from pathlib import Path

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
    """One sentence per measured model for a page section: 'reasoning', 'react', 'rag' or 'cai'
    (one sentence per model and budget: :func:`cai_line`)."""
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
            lines.append(f"{name}: {r['success']}/{r['n']} ReAct tasks solved ({_pct(r['success_rate'])}); "
                         f"{r['used_a_tool']}/{r['n']} runs used a tool")
        elif section == "rag":
            w, wo = r["with_context"], r["without_context"]
            lines.append(f"{name}: {w['correct']}/{w['n']} right with retrieved context "
                         f"({_pct(w['accuracy'])}), {wo['correct']}/{wo['n']} without ({_pct(wo['accuracy'])})")
        elif section == "cai":
            lines.extend(cai_line(name, run) for run in r.get("runs", []))
    return lines


def cai_line(name: str, run: dict) -> str:
    """One constitutional-AI run of bench/week3_apps.py (its budget, the judge's counts, the cut-off
    share of each stage) as a sentence; a run with more than budget.MAX_CUT_OFF_SHARE of its stages
    cut off says that it carries no conclusion."""
    from lessons.core import budget

    cut = run["cut_off"]
    stages = ", ".join(f"{s} {cut[s]['cut_off']}/{cut[s]['n']}" for s in ("response", "critique", "revision"))
    return (f"{name}, at most {run['budget']['max_new_tokens']} new tokens per stage: revision judged less "
            f"harmful {run['revision_less_harmful']}/{run['n']} (ties {run['ties']}, more harmful "
            f"{run['revision_more_harmful']}), critique names the principle {run['critique_names_principle']}/"
            f"{run['n']}; cut off by the budget: {stages}; stages in all: {budget.text(cut['all'])} "
            f"(code {run['code_version']}, {run['date']})")


def read(name: str) -> dict:
    """assets/measured/<name>.json as its bench wrote it (bench/_timing.save writes {"written_by",
    "runs": {run: figures + date + machine}}), or {} when it was never measured."""
    try:
        return json.loads((MEASURED_DIR / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
