"""Week 3 applications, measured: direct vs chain-of-thought vs PAL accuracy, ReAct success
rate, and RAG accuracy with and without retrieved context, for SmolLM2-135M-Instruct and
(when installed with `make qwen`) Qwen2.5-Coder-0.5B-Instruct.

    heavy .venv/bin/python bench/week3_apps.py                    # both models, every set
    heavy .venv/bin/python bench/week3_apps.py --models smollm2 --only rag
    heavy .venv/bin/python bench/week3_apps.py --save             # also write assets/measured/

Prints ONE JSON object. Everything is greedy (deterministic) and uses the pages' own lesson
functions and prompts on the labelled sets in assets/ (24 word problems, 10 ReAct tasks that
need a tool, 20 RAG questions about a fictional company). Wall and CPU time per model and
per set; torch runs on OMP_NUM_THREADS threads (1 under `heavy`).

Targets (issue #15.2, stronger model): CoT or PAL beats direct by >= 15 points; RAG with
context beats RAG without by >= 30 points. Reported as measured, met or not.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

OUT = ROOT / "assets" / "measured" / "week3_apps.json"


# The files each measured set runs: their sha256 (lessons.core.records.code_version) is saved with
# the set's figures, so a figure names the code that produced it.
CODE = {
    "reasoning": ("bench/week3_apps.py", "lessons/prompting/reasoning.py", "lessons/core/generate.py",
                  "lessons/core/safe_eval.py", "assets/reasoning/problems.json"),
    "react": ("bench/week3_apps.py", "lessons/prompting/react.py", "lessons/core/generate.py",
              "lessons/core/safe_eval.py", "lessons/retrieval/rag.py", "assets/reasoning/react_tasks.json",
              "assets/rag/handbook.json"),
    "rag": ("bench/week3_apps.py", "lessons/retrieval/rag.py", "lessons/core/generate.py",
            "assets/rag/handbook.json", "assets/rag/questions.json"),
}


def provenance(section: str, budget: dict) -> dict:
    """What every measured set carries: its date, the version of the code it ran and its budget
    (max new tokens, steps, seconds)."""
    from lessons.core import records

    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "code_version": records.code_version(CODE[section], ROOT)[:16], "budget": budget}


def _clock():
    return time.perf_counter(), time.process_time()


def _since(t):
    w, c = _clock()
    return {"wall_s": round(w - t[0], 1), "cpu_s": round(c - t[1], 1)}


def bench_reasoning(llm, limit: int | None) -> dict:
    from lessons.prompting import reasoning

    probs = reasoning.problems()[:limit] if limit else reasoning.problems()
    out = {}
    for mode in ("direct", "cot", "pal"):
        t = _clock()
        rows = [reasoning.attempt(llm, p, mode, max_seconds=180) for p in probs]
        ok = sum(r["correct"] for r in rows)
        out[mode] = {"correct": ok, "n": len(rows), "accuracy": round(ok / len(rows), 3),
                     "new_tokens": sum(r["n_new_tokens"] for r in rows),
                     "wrong": [r["problem"] for r in rows if not r["correct"]], **_since(t)}
    best = max(out["cot"]["accuracy"], out["pal"]["accuracy"])
    out["best_of_cot_pal_minus_direct_points"] = round(100 * (best - out["direct"]["accuracy"]), 1)
    return out


def bench_react(llm, tools, limit: int | None) -> dict:
    """Each task once: success, its outcome class (react.classify against the reference trace),
    the steps' cut-off share (a step is one scored generation) and each step's text, so the table
    can be checked against the traces."""
    from lessons.core import budget
    from lessons.prompting import react

    b = {"max_steps": 5, "max_new_tokens_per_step": 60, "max_seconds_per_run": 300}
    tasks = react.tasks()[:limit] if limit else react.tasks()
    t = _clock()
    rows, flags = [], []
    for task in tasks:
        tr = react.run_react(llm, tools, task["question"], max_steps=b["max_steps"],
                             max_new_tokens=b["max_new_tokens_per_step"], max_seconds=b["max_seconds_per_run"])
        outcome = react.classify(tr, task, react.reference_trace(task, tools))
        flags += [s.cut_off for s in tr.steps]
        rows.append({"task": task["id"], "success": outcome == react.SOLVED, "outcome": outcome,
                     "steps": len(tr.steps), "tool_calls": sum(1 for s in tr.steps if s.action),
                     "stopped": tr.stopped, "cut_off_steps": sum(s.cut_off for s in tr.steps),
                     "final": tr.final[:120],
                     "trace": [{"wrote": s.raw[:240], "stopped_by": s.stopped_by, "observation": s.observation[:120]}
                               for s in tr.steps]})
    n_ok = sum(r["success"] for r in rows)
    return {"success": n_ok, "n": len(rows), "success_rate": round(n_ok / len(rows), 3),
            "used_a_tool": sum(r["tool_calls"] > 0 for r in rows),
            "outcomes": {c: sum(r["outcome"] == c for r in rows) for c in react.OUTCOMES},
            "steps_cut_off": budget.summary(flags), "rows": rows, **_since(t),
            **provenance("react", b)}


def bench_rag(llm, index, encoder, limit: int | None, k: int = 3) -> dict:
    from lessons.retrieval import rag

    qs = rag.questions()[:limit] if limit else rag.questions()
    out = {}
    for cond in ("with_context", "without_context"):
        t = _clock()
        rows = []
        for q in qs:
            hits = rag.retrieve(index, encoder, q["q"], k)[0] if cond == "with_context" else None
            g = rag.answer(llm, q["q"], hits, max_new_tokens=32, max_seconds=120)
            rows.append({"q": q["q"], "correct": rag.answer_is_correct(g.completion, q["answer"]),
                         "answer": g.completion[:120]})
        ok = sum(r["correct"] for r in rows)
        out[cond] = {"correct": ok, "n": len(rows), "accuracy": round(ok / len(rows), 3),
                     "wrong": [r["q"] for r in rows if not r["correct"]], **_since(t)}
    out["with_minus_without_points"] = round(
        100 * (out["with_context"]["accuracy"] - out["without_context"]["accuracy"]), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="smollm2,qwen", help="comma list: smollm2, qwen")
    ap.add_argument("--only", default="reasoning,react,rag", help="comma list: reasoning, react, rag")
    ap.add_argument("--limit", type=int, default=None, help="first N items of each set (quick check)")
    ap.add_argument("--n-problems", type=int, default=None, help="first N word problems (default: all)")
    ap.add_argument("--n-react", type=int, default=None, help="first N ReAct tasks (default: all)")
    ap.add_argument("--n-rag", type=int, default=None, help="first N RAG questions (default: all)")
    ap.add_argument("--save", action="store_true", help=f"also write {OUT.relative_to(ROOT)} (merged)")
    a = ap.parse_args()

    import torch

    from lessons import models
    from lessons.prompting import react
    from lessons.retrieval import rag

    t_all = _clock()
    encoder = models.load_minilm("cpu")
    index = rag.build_index(encoder)
    tools = react.make_tools(rag.search_tool(index, encoder, k=1))
    only = set(a.only.split(","))
    result = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
                         f"torch {torch.__version__} on {torch.get_num_threads()} thread(s)",
              "decoding": "greedy; max new tokens: direct 16, CoT 120, PAL 72, ReAct 60 per step "
                          "(5 steps), RAG 32; RAG retrieves k=3 MiniLM chunks (40 words, overlap 10)",
              "models": {}}
    for name in a.models.split(","):
        t = _clock()
        try:
            llm = models.load_qwen("cpu") if name == "qwen" else models.load_smollm2("cpu")
        except models.ModelUnavailable as exc:
            result["models"][name] = {"skipped": str(exc)}
            continue
        row = {"model": llm.name, "load": _since(t)}
        if "reasoning" in only:
            row["reasoning"] = bench_reasoning(llm, a.n_problems or a.limit)
        if "react" in only:
            row["react"] = bench_react(llm, tools, a.n_react or a.limit)
        if "rag" in only:
            row["rag"] = bench_rag(llm, index, encoder, a.n_rag or a.limit)
        row["total"] = _since(t)
        result["models"][llm.name] = row
        del llm
    q = result["models"].get(models.QWEN_NAME, {})
    if "reasoning" in q or "rag" in q:
        result["targets_stronger_model"] = {
            "cot_or_pal_minus_direct_points": q.get("reasoning", {}).get("best_of_cot_pal_minus_direct_points"),
            "cot_or_pal_target_15_met": (q["reasoning"]["best_of_cot_pal_minus_direct_points"] >= 15)
            if "reasoning" in q else None,
            "rag_with_minus_without_points": q.get("rag", {}).get("with_minus_without_points"),
            "rag_target_30_met": (q["rag"]["with_minus_without_points"] >= 30) if "rag" in q else None,
        }
    result["total"] = _since(t_all)
    print(json.dumps(result, indent=1))
    if a.save and not a.limit:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(OUT.read_text()) if OUT.is_file() else {}
        for name, row in result["models"].items():   # merge per model and per set
            if "skipped" in row:
                continue
            old.setdefault("models", {}).setdefault(name, {}).update(row)
        for key in ("date", "machine", "decoding"):
            old[key] = result[key]
        if "targets_stronger_model" in result:
            old["targets_stronger_model"] = result["targets_stronger_model"]
        OUT.write_text(json.dumps(old, indent=1) + "\n")


if __name__ == "__main__":
    main()
