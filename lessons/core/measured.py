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
    """One sentence per measured model for a page section: 'reasoning', 'react', 'rag' or 'cai'
    (one sentence per model and budget: :func:`cai_line`)."""
    data = week3_apps()
    lines = []
    for name, row in data.get("models", {}).items():
        r = row.get(section)
        if not r:
            continue
        if section == "reasoning":
            lines.append(reasoning_verdict(name, r))
        elif section == "react":
            line = (f"{name}: {r['success']}/{r['n']} ReAct tasks solved ({_pct(r['success_rate'])}); "
                    f"{r['used_a_tool']}/{r['n']} runs used a tool")
            if "steps_cut_off" in r:
                line += f"; steps: {budget.text(r['steps_cut_off'])}"
            lines.append(line + _react_provenance(r))
        elif section == "rag":
            w, wo = r["with_context"], r["without_context"]
            lines.append(f"{name}: right with retrieved context {_score(w)}; without {_score(wo)}")
        elif section == "cai":
            lines.extend(cai_line(name, run) for run in r.get("runs", []))
    return lines


REASONING_MODES = {"direct": "direct", "cot": "chain-of-thought", "self_consistency": "self-consistency",
                   "pal": "PAL"}


def _score(r: dict) -> str:
    """'7/24 (29 %), 1 cut off' -- an accuracy with its cut-off count; a result whose cut-off share
    is over the limit (lessons.core.budget) says so."""
    s = f"{r['correct']}/{r['n']} ({_pct(r['accuracy'])})"
    if "cut_off" not in r:
        return s + ", cut-off share not measured"
    s += f", {r['cut_off']} cut off"
    return s if r.get("conclusive", True) else s + " (too many cut off to conclude)"


def _compare(a: dict, b: dict, what: str, than: str) -> str:
    """Whether ``a`` beats ``b`` on the same problems, in words: a difference of one or two problems
    out of two dozen is no evidence, so it takes three or more to say 'helps' or 'hurts'."""
    if not (a.get("conclusive") and b.get("conclusive")):
        return f"no conclusion on {what} vs {than} (answers cut off by the budget, or not measured)"
    d = a["correct"] - b["correct"]
    if d >= 3:
        return f"{what} helps ({d:+d} problems over {than})"
    if d <= -3:
        return f"{what} hurts ({d:+d} problems against {than})"
    return f"{what} makes no clear difference over {than} ({d:+d} problems)"


def reasoning_verdict(name: str, r: dict) -> str:
    """One model's line on the reasoning page: each prompt's score with its cut-off count, then what
    the data says about chain-of-thought, self-consistency and PAL (it follows the figures,
    whichever way they go)."""
    scores = ", ".join(f"{label} {_score(r[m])}" for m, label in REASONING_MODES.items() if m in r)
    verdicts = [_compare(r["cot"], r["direct"], "chain-of-thought", "direct")]
    if "self_consistency" in r:
        verdicts.append(_compare(r["self_consistency"], r["cot"],
                                 f"self-consistency (k = {r['self_consistency'].get('k')})", "greedy chain-of-thought"))
    verdicts.append(_compare(r["pal"], r["direct"], "PAL", "direct"))
    caps = r.get("budget", {}).get("max_new_tokens", {})
    room = f" Budget: chain-of-thought {caps['cot']} new tokens." if "cot" in caps else ""
    return f"{name}: {scores}. So: " + "; ".join(verdicts) + "." + room


def cai_line(name: str, run: dict) -> str:
    """One constitutional-AI run of bench/week3_apps.py (its budget, the judge's counts, the cut-off
    share of each stage) as a sentence; a run with more than budget.MAX_CUT_OFF_SHARE of its stages
    cut off says that it carries no conclusion."""
    cut = run["cut_off"]
    stages = ", ".join(f"{s} {cut[s]['cut_off']}/{cut[s]['n']}" for s in ("response", "critique", "revision"))
    return (f"{name}, at most {run['budget']['max_new_tokens']} new tokens per stage: revision judged less "
            f"harmful {run['revision_less_harmful']}/{run['n']} (ties {run['ties']}, more harmful "
            f"{run['revision_more_harmful']}), critique names the principle {run['critique_names_principle']}/"
            f"{run['n']}; cut off by the budget: {stages}; stages in all: {budget.text(cut['all'])} "
            f"(code {run['code_version']}, {run['date']})")


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
