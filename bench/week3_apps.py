"""Week 3 applications, measured: direct vs chain-of-thought vs PAL accuracy, ReAct success
rate, RAG accuracy with and without retrieved context, and constitutional AI judged by a stated
keyword rubric (lessons/rlhf/cai_judge.py: is the revision less harmful than the response, does the
critique name the principle, which stages were cut off by their budget), for SmolLM2-135M-Instruct and
(when installed with `make qwen`) Qwen2.5-Coder-0.5B-Instruct.

    heavy .venv/bin/python bench/week3_apps.py                    # both models, every set
    heavy .venv/bin/python bench/week3_apps.py --models smollm2 --only rag
    heavy .venv/bin/python bench/week3_apps.py --only cai --save  # one set, merged into the file
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
    "cai": ("bench/week3_apps.py", "lessons/rlhf/constitutional_ai.py", "lessons/rlhf/cai_judge.py",
            "lessons/core/generate.py", "lessons/core/budget.py", "lessons/models/prompts.py"),
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


FINISH_CURVE = (16, 32, 48, 64, 96, 128, 160, 192, 256)   # CoT budgets the finish curve is read at


def finish_curve(rows: list[dict], max_new_tokens: int) -> dict:
    """{budget: share of the answers that end by themselves within that many new tokens}. Greedy
    decoding writes the same first B tokens whatever the cap, so one run at ``max_new_tokens``
    tells how a run at any smaller budget B would have ended."""
    from lessons.prompting import reasoning

    done = [r["n_new_tokens"] for r in rows if reasoning.finished(r)]
    return {b: round(sum(n <= b for n in done) / len(rows), 3) for b in FINISH_CURVE if b <= max_new_tokens}


def bench_reasoning(llm, limit: int | None, sc_k: int | None = None) -> dict:
    """Direct, chain-of-thought and PAL (greedy, the page's budgets), then self-consistency (k
    sampled chain-of-thought paths and their vote) on the same problems. Every accuracy comes
    with its cut-off share; chain-of-thought also with its finish curve."""
    from lessons.prompting import reasoning

    probs = reasoning.problems()[:limit] if limit else reasoning.problems()
    out = {}
    for mode in ("direct", "cot", "pal"):
        t = _clock()
        rows = [reasoning.attempt(llm, p, mode, max_seconds=600) for p in probs]
        ok = sum(r["correct"] for r in rows)
        out[mode] = {"correct": ok, "n": len(rows), "accuracy": round(ok / len(rows), 3),
                     "budget_tokens": reasoning.MAX_TOKENS[mode], **reasoning.budget_of(rows),
                     "new_tokens": sum(r["n_new_tokens"] for r in rows),
                     "wrong": [r["problem"] for r in rows if not r["correct"]],
                     "cut_off_problems": [r["problem"] for r in rows if not reasoning.finished(r)], **_since(t)}
        if mode == "cot":
            out[mode]["finish_curve"] = finish_curve(rows, reasoning.MAX_TOKENS["cot"])
            out[mode]["answers"] = {r["problem"]: reasoning.fmt(r["value"]) if r["value"] is not None else None
                                    for r in rows}
    sc = dict(reasoning.SC_DEFAULTS, k=sc_k or reasoning.SC_DEFAULTS["k"])
    t = _clock()
    runs = [reasoning.self_consistency(llm, p, sc["k"], sc["temperature"], sc["seed"], max_seconds=600) for p in probs]
    ok = sum(r["correct"] for r in runs)
    paths = [path for r in runs for path in r["paths"]]
    out["self_consistency"] = {   # the paths' cut-off counts first: "n" is the number of problems voted on
        **reasoning.budget_of(paths), "correct": ok, "n": len(runs), "accuracy": round(ok / len(runs), 3), **sc,
        "budget_tokens": reasoning.MAX_TOKENS["cot"],
        "paths_correct": sum(p["correct"] for p in paths), "paths": len(paths),
        "votes": {r["problem"]: {"votes": r["votes"], "vote": reasoning.fmt(r["value"]) if r["value"] is not None
                                 else None, "correct": r["correct"]} for r in runs}, **_since(t)}
    best = max(out["cot"]["accuracy"], out["pal"]["accuracy"])
    out["best_of_cot_pal_minus_direct_points"] = round(100 * (best - out["direct"]["accuracy"]), 1)
    out.update(provenance("reasoning", {"max_new_tokens": dict(reasoning.MAX_TOKENS), "self_consistency_k": sc["k"],
                                        "seconds_cap_per_generation": 600}))
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
    from lessons.core import budget
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
                         "answer": g.completion[:120], "cut_off": budget.was_cut_off(g.stopped_by)})
        ok = sum(r["correct"] for r in rows)
        out[cond] = {"correct": ok, "n": len(rows), "accuracy": round(ok / len(rows), 3),
                     **budget.summary(r["cut_off"] for r in rows),
                     "wrong": [r["q"] for r in rows if not r["correct"]], **_since(t)}
    out["with_minus_without_points"] = round(
        100 * (out["with_context"]["accuracy"] - out["without_context"]["accuracy"]), 1)
    out.update(provenance("rag", {"max_new_tokens": 32, "seconds_cap_per_generation": 120, "k": k}))
    return out


def _cai_at(llm, tokens: int) -> dict:
    """The page's constitutional-AI run (default principle) of every red-team prompt at ``tokens``
    max new tokens per stage, judged by lessons/rlhf/cai_judge.py."""
    from lessons.core import budget
    from lessons.rlhf import cai_judge
    from lessons.rlhf import constitutional_ai as cai

    principle = cai.DEFAULT_CONSTITUTION[0]
    t = _clock()
    rows = []
    for prompt in cai.RED_TEAM_PROMPTS:
        res = cai.critique_and_revise(llm.model, llm.tokenizer, prompt, principle, tokens)
        v = cai_judge.judge_run(res)
        rows.append({"prompt": prompt, "response_harm": v["response"]["harm_score"],
                     "revision_harm": v["revision"]["harm_score"], "response_markers": v["response"]["markers"],
                     "revision_markers": v["revision"]["markers"], "response_refuses": v["response"]["refuses"],
                     "revision_refuses": v["revision"]["refuses"], "verdict": v["verdict"],
                     "critique_names_principle": v["critique_names_principle"], "stopped_by": v["stopped_by"],
                     "n_tokens": {s.name: s.n_tokens for s in res.stages},
                     "texts": {s.name: s.output[:300] for s in res.stages}})
    stages = ("response", "critique", "revision")
    cut = {name: budget.summary(budget.was_cut_off(r["stopped_by"][name]) for r in rows) for name in stages}
    cut["all"] = budget.summary(budget.was_cut_off(r["stopped_by"][n]) for r in rows for n in stages)
    count = {v: sum(r["verdict"] == v for r in rows) for v in ("less harmful", "tie", "more harmful")}
    return {"n": len(rows), "revision_less_harmful": count["less harmful"], "ties": count["tie"],
            "revision_more_harmful": count["more harmful"],
            "critique_names_principle": sum(r["critique_names_principle"] for r in rows),
            "cut_off": cut, "conclusive": cut["all"]["conclusive"], "rows": rows,
            **provenance("cai", {"max_new_tokens": tokens, "max_seconds": None, "principle": principle}),
            **_since(t)}


def bench_cai(llm, long_tokens: int) -> dict:
    """Constitutional AI judged by the stated rubric, at the page's token budget and, when more than
    budget.MAX_CUT_OFF_SHARE of its stages were cut off, again at ``long_tokens``."""
    from lessons.rlhf import constitutional_ai as cai

    runs = [_cai_at(llm, cai.DEFAULT_TOKENS)]
    if not runs[0]["conclusive"] and long_tokens > cai.DEFAULT_TOKENS:
        runs.append(_cai_at(llm, long_tokens))
    return {"judge": "lessons/rlhf/cai_judge.py (keyword rubric)", "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="smollm2,qwen", help="comma list: smollm2, qwen")
    ap.add_argument("--only", default="reasoning,react,rag,cai", help="comma list: reasoning, react, rag, cai")
    ap.add_argument("--limit", type=int, default=None, help="first N items of each set (quick check)")
    ap.add_argument("--n-problems", type=int, default=None, help="first N word problems (default: all)")
    ap.add_argument("--sc-k", type=int, default=None, help="self-consistency paths per problem (default: the page's)")
    ap.add_argument("--n-react", type=int, default=None, help="first N ReAct tasks (default: all)")
    ap.add_argument("--n-rag", type=int, default=None, help="first N RAG questions (default: all)")
    ap.add_argument("--cai-long-tokens", type=int, default=320,
                    help="constitutional AI: the longer budget measured when the page's cuts off > 10 %%")
    ap.add_argument("--save", action="store_true", help=f"also write {OUT.relative_to(ROOT)} (merged)")
    a = ap.parse_args()

    import torch

    from lessons import models
    from lessons.prompting import react, reasoning
    from lessons.retrieval import rag

    t_all = _clock()
    encoder = models.load_minilm("cpu")
    index = rag.build_index(encoder)
    tools = react.make_tools(rag.search_tool(index, encoder, k=1))
    only = set(a.only.split(","))
    result = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
                         f"torch {torch.__version__} on {torch.get_num_threads()} thread(s)",
              "decoding": f"greedy (self-consistency: sampled at T = {reasoning.SC_DEFAULTS['temperature']}); max new "
                          f"tokens: direct {reasoning.MAX_TOKENS['direct']}, CoT {reasoning.MAX_TOKENS['cot']}, "
                          f"PAL {reasoning.MAX_TOKENS['pal']}, ReAct 60 per step "
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
            row["reasoning"] = bench_reasoning(llm, a.n_problems or a.limit, a.sc_k)
        if "react" in only:
            row["react"] = bench_react(llm, tools, a.n_react or a.limit)
        if "rag" in only:
            row["rag"] = bench_rag(llm, index, encoder, a.n_rag or a.limit)
        if "cai" in only:
            row["cai"] = bench_cai(llm, a.cai_long_tokens)
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
        for name, row in result["models"].items():   # merge per model and per set: each set keeps its
            if "skipped" in row:                       # own date and code version (provenance); a
                continue                               # model's time is the sum over its sets
            dest = old.setdefault("models", {}).setdefault(name, {})
            dest.update({k: v for k, v in row.items() if k != "total"})
            dest.pop("total", None)
        for key in ("date", "machine", "decoding"):
            old[key] = result[key]
        if not (a.n_problems or a.n_react or a.n_rag):     # every set on all its items: no subset note
            old.pop("note", None)
            for row in old.get("models", {}).values():
                row.pop("same_subset_as_qwen", None)
        if "targets_stronger_model" in result:
            old["targets_stronger_model"] = result["targets_stronger_model"]
        OUT.write_text(json.dumps(old, indent=1) + "\n")


if __name__ == "__main__":
    main()
