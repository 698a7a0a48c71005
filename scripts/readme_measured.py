"""The README's measured figures, written from assets/measured/*.json (never typed by hand).

    .venv/bin/python scripts/readme_measured.py           # rewrite the blocks in README.md
    .venv/bin/python scripts/readme_measured.py --check   # exit 1 when a block differs from its file

A block sits between ``<!-- measured:NAME -->`` and ``<!-- /measured:NAME -->`` in README.md; its
text is rendered from the file that the bench which measures it writes (see BLOCKS).
tests/unit/test_readme_measured.py fails when a block and its file disagree, so a bench that is
run again with --save updates the README with one command and a stale figure cannot stay.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
README = ROOT / "README.md"


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _frac(r: dict) -> str:
    """'7/24 (29 %), 0 cut off': an accuracy with how many of its answers hit their budget."""
    s = f"{r['correct']}/{r['n']} ({_pct(r['accuracy'])})"
    if "cut_off" not in r:
        return s
    s += f", {r['cut_off']} cut off"
    return s if r.get("conclusive", True) else f"{s} (too many to conclude)"


SETS = ("reasoning", "react", "rag", "cai")


def _seconds(m: dict) -> str:
    """A model's wall / CPU seconds over its measured sets (each set may come from another run):
    a set's own figures, or the sum over its parts."""
    wall = cpu = 0.0
    for name in SETS:
        s = m.get(name)
        if not isinstance(s, dict):
            continue
        parts = [s] if "wall_s" in s else [v for v in [*s.values(), *s.get("runs", [])]
                                           if isinstance(v, dict) and "wall_s" in v]
        wall += sum(p["wall_s"] for p in parts)
        cpu += sum(p["cpu_s"] for p in parts)
    return f"{wall:.0f} s / {cpu:.0f} s"


def week3_apps(data: dict) -> str:
    """bench/week3_apps.py --save: the table of direct / CoT / self-consistency / PAL, ReAct and RAG
    per model (each accuracy with its cut-off count), then each model's verdict on the reasoning
    prompts (lessons.core.measured.reasoning_verdict, the sentence the page shows) and its
    chain-of-thought finish curve."""
    from lessons.core.budget import text as budget_text
    from lessons.core.measured import cai_line, reasoning_verdict

    lines = [f"Measured {data['date']} ({data['machine']}); decoding: {data['decoding']}.", "",
             "| Model | Direct | Chain-of-thought | Self-consistency | PAL | ReAct solved | RAG with context | "
             "RAG without | wall / CPU |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, m in data["models"].items():
        r, a, g = m["reasoning"], m["react"], m["rag"]
        sc = _frac(r["self_consistency"]) + f", k = {r['self_consistency']['k']}" if "self_consistency" in r else "-"
        lines.append(f"| {name} | {_frac(r['direct'])} | {_frac(r['cot'])} | {sc} | {_frac(r['pal'])} | "
                     f"{a['success']}/{a['n']} ({_pct(a['success_rate'])}) | {_frac(g['with_context'])} | "
                     f"{_frac(g['without_context'])} | {_seconds(m)} |")
    lines.append("")
    for name, m in data["models"].items():
        r = m["reasoning"]
        lines.append(f"- {reasoning_verdict(name, r)}")
        if "finish_curve" in r["cot"]:
            curve = ", ".join(f"{b}: {_pct(v)}" for b, v in r["cot"]["finish_curve"].items())
            lines.append(f"  Chain-of-thought answers that end by themselves within B new tokens: {curve}.")
    lines.append("")
    for name, m in data["models"].items():
        a = m["react"]
        if "outcomes" in a:
            counts = ", ".join(f"{k} {v}" for k, v in a["outcomes"].items())
            lines.append(f"- ReAct, {name}, each run's outcome read from its trace (`react.classify`): {counts}; "
                         f"steps: {budget_text(a['steps_cut_off'])}.")
    for name, m in data["models"].items():
        for run in m.get("cai", {}).get("runs", []):
            lines.append(f"- Constitutional AI (judge: {m['cai']['judge']}), {cai_line(name, run)}.")
    if data.get("note"):
        lines += ["", data["note"]]
    lines.append("")
    name, m = next(iter(data["models"].items()))           # the stronger model is measured first
    r, g = m["reasoning"], m["rag"]
    pts = {k: round(100 * (r[k]["accuracy"] - r["direct"]["accuracy"])) for k in ("cot", "pal")}
    rag = round(100 * (g["with_context"]["accuracy"] - g["without_context"]["accuracy"]))
    lines.append(f"Targets for the stronger model ({name}): chain-of-thought or PAL beats direct by >= 15 points: "
                 f"**{'met' if max(pts.values()) >= 15 else 'not met'}** (PAL {pts['pal']:+d}, chain-of-thought "
                 f"{pts['cot']:+d} points); RAG with context beats without by >= 30 points: "
                 f"**{'met' if rag >= 30 else 'not met'}** ({rag:+d}). ReAct: " + "; ".join(
                     f"{n} {x['react']['success']}/{x['react']['n']} solved, a tool called in "
                     f"{x['react']['used_a_tool']} of {x['react']['n']} runs" for n, x in data["models"].items()) + ".")
    return "\n".join(lines).rstrip()


def suite(data: dict) -> str:
    """bench/suite.py --save: the wall and CPU time of `make test-fast` and `make test`."""
    rows = ["| Command | Tests | Result | Wall | CPU (all processes) | Measured |", "|---|---|---|---|---|---|"]
    for name, r in data["runs"].items():
        result = r["result"] + (f" ({r['note']})" if r.get("note") else "")
        rows.append(f"| `{name}` | {r['tests']:,} | {result} | {r['wall_s'] / 60:.1f} min | "
                    f"{r['cpu_s'] / 60:.1f} min | {r['date']}, {r['machine']} |")
    return "\n".join(rows)


def _when(run: dict) -> str:
    return f"{run['date']}, {run['machine']}"


def _num(x, fmt: str = "g") -> str:
    return "—" if x is None else format(x, fmt)


# (file, run, figure, what it is, target, format, unit) for the benchmark table, in its order.
# A figure that a run did not report shows "—" (a bench that failed names its error in the file).
BENCHMARKS = [
    ("startup", "default", "render_ratio", "Home's first render vs a hello-world app", "≤ 1.5", ".2f", ""),
    ("startup", "default", "smollm2_cached_load_s", "SmolLM2 load from the converted cache", "≤ 5 s", ".2f", " s"),
    ("startup", "default", "smollm2_convert_s", "SmolLM2's first-run conversion (once per machine)", "—", ".0f", " s"),
    ("startup", "default", "rss_mb_all_pages", "server memory after every page was opened", "≤ 1500 MB", ".0f", " MB"),
    ("interaction", "all", "sampling_page_baseline_ms_p50", "Home: a rerun (what every page pays)", "≤ 30 ms", ".0f", " ms"),
    ("interaction", "all", "sampling_rerun_ms_p50", "sampling: rerun after a slider move", "≤ 100 ms", ".0f", " ms"),
    ("interaction", "all", "next_token_new_prompt_ms_p50", "next token: a new prompt", "≤ 1000 ms", ".0f", " ms"),
    ("interaction", "all", "attention_rerun_ms_p50", "attention maps: layer/head change, 64 tokens", "≤ 150 ms", ".0f", " ms"),
    ("interaction", "all", "rouge_bleu_page_rerun_ms", "ROUGE/BLEU: rerun after a new candidate text", "—", ".0f", " ms"),
    ("interaction", "all", "rouge_bleu_300_words_ms", "ROUGE and BLEU of 300 words", "≤ 100 ms", ".1f", " ms"),
    ("interaction", "all", "corpus_1000_rows_s", "scoring a 1,000-row test set", "≤ 10 s", ".2f", " s"),
    ("interaction", "all", "lora_train_default_s", "the live LoRA demo at its defaults (wall)", "≤ 60 s", ".0f", " s"),
    ("interaction", "all", "lora_train_default_cpu_s", "the same, CPU", "—", ".0f", " s"),
]


def benchmarks(files: dict) -> str:
    """bench/startup.py, bench/interaction.py and bench/rlhf.py with --save: one row per figure."""
    rows = ["| Figure | What | Target | Measured | Met | When |", "|---|---|---|---|---|---|"]
    for file, run, key, what, target, fmt, unit in BENCHMARKS:
        r = files.get(file, {}).get("runs", {}).get(run)
        if r is None:
            rows.append(f"| `{key}` | {what} | {target} | not measured: run `bench/{file}.py --save` | — | — |")
            continue
        v = r.get(key)
        bound = re.match(r"≤ ([\d.]+)", target)
        met = "—" if bound is None or v is None else ("yes" if v <= float(bound[1]) else "**no**")
        rows.append(f"| `{key}` | {what} | {target} | {_num(v, fmt)}{unit if v is not None else ''} | {met} | {_when(r)} |")
    for run, r in files.get("rlhf", {}).get("runs", {}).items():
        steps = r.get("steps_to_target")
        rows.append(f"| `bench/rlhf.py` | default PPO run ({run}, β {r['default_beta']}, {r['steps']} of "
                    f"{r['default_steps']} steps): labeler win-rate start → end, KL at the end | ≥ 0.8 within 60 s, "
                    f"KL ≤ {r['kl_bound']} nats | {r['start_score']:.3f} → **{r['end_score']:.3f}**, "
                    + (f"0.8 at step {steps} after {r['seconds_to_target']:.1f} s" if steps else "0.8 not reached")
                    + f", KL {r['final_kl']:.1f} nats; {r['seconds']:.1f} s wall / {r['cpu_seconds']:.1f} s CPU "
                    f"| {'yes' if r.get('meets_target') else '**no**'} | {_when(r)} |")
        if "beta0_end_score" in r:
            rows.append(f"| `bench/rlhf.py` | the same with β = 0 ({r['beta0_steps']} steps): reward hacking | — | "
                        f"win-rate {r['beta0_start_score']:.3f} → {r['beta0_end_score']:.3f}, KL {r['beta0_final_kl']:.0f}, "
                        f"distinct-2 {r['beta0_start_distinct_2']:.2f} → {r['beta0_end_distinct_2']:.2f}, perplexity under "
                        f"π_ref {r['beta0_start_ppl_ref']:.0f} → {r['beta0_end_ppl_ref']:.0f} | — | {_when(r)} |")
    return "\n".join(rows)


def reliability(data: dict) -> str:
    """bench/reliability.py --save: the reliability suite's counts (every failure count must be 0)."""
    r = data["runs"].get("suite") or next(iter(data["runs"].values()))
    rows = ["| Figure | Measured |", "|---|---|",
            f"| pages covered / pages with inputs | {r['pages_covered']} / {r['pages_with_inputs']} |",
            f"| inputs tried (text boxes × the fuzz corpus, number inputs at min and max, hostile files per uploader) | "
            f"{r['inputs_tried']:,} over {r['input_widgets']} input widgets, {r['fuzz_reruns']:,} page reruns |",
            f"| exceptions / learner text rendered as HTML or markdown / refusals without a message | "
            f"{r['exceptions']} / {r['html_rendered']} / {r['missing_messages']} |"]
    if r.get("sessions_run_concurrently"):
        rows += [f"| sessions training concurrently (+ reads of shared-model internals during training) | "
                 f"{r['sessions_run_concurrently']} ({r['shared_model_reads_during_training']} reads) |",
                 f"| results differing from the serial run / Stop leaking to the other session / shared fingerprints "
                 f"changed | {r['results_differing_from_serial']} / {r['stop_leaked_to_other_session']} / "
                 f"{r['shared_fingerprints_changed']} |"]
    rows += [f"| tests failed / pytest | {r['tests_failed']} / {r['pytest']} |",
             f"| cost | fuzz: {r['fuzz_wall_s'] / 60:.1f} min wall, {r['fuzz_cpu_s'] / 60:.1f} CPU-min; the whole run "
             f"{r['suite_wall_s'] / 60:.1f} min wall, {r['suite_cpu_s'] / 60:.1f} CPU-min |",
             f"| measured | {_when(r)} |"]
    return "\n".join(rows)


def p95_target_s(learners: int) -> int:
    """The interaction p95 a class of this size must stay under (issue 25): 1 s up to 30 learners, else 2 s."""
    return 1 if learners <= 30 else 2


def classroom(data: dict) -> str:
    """bench/classroom.py --save: one row per configuration that was run."""
    rows = ["| Learners (training) | server | interactions | interaction p50 / p95 / max | exceptions | "
            "training jobs reaching their outcome | queue wait p95 | RSS: start / peak / after all left | "
            "server CPU in wall | measured |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["runs"].values():
        if r.get("together"):
            continue              # the whole-class Train runs have their own table (classroom_together)
        server = f"{r.get('replicas', 1)} process" + ("es behind HAProxy" if r.get("replicas", 1) > 1 else "")
        if r.get("label"):
            server += f", {r['label']}"
        jobs = (f"{round(r['train_outcomes_reached'] * r['train_finished'])} of {r['train_jobs']}"
                if r.get("train_jobs") else "— (no training)")
        rows.append(f"| {r['learners']} ({r['trainers']}) | {server} | {r['interactions']} | "
                    f"{r['interaction_p50_s']:.2f} / **{r['interaction_p95_s']:.2f}** / {r['interaction_max_s']:.1f} s | "
                    f"{r['exceptions']} | {jobs} | {_num(r['train_wait_p95_s'], '.0f')} s | "
                    f"{_num(r['rss_start_mb'], '.0f')} / {_num(r['server_rss_mb'], '.0f')} / "
                    f"{_num(r['rss_after_leave_mb'], '.0f')} MB | {_num(r.get('server_cpu_s'), '.0f')} s in "
                    f"{r['wall_s']:.0f} s | {_when(r)} |")
    for run, r in data["runs"].items():
        if r["learners"] < 30 or r.get("together"):
            continue
        jobs_ok = not r.get("train_jobs") or (r["train_finished"] == r["train_jobs"] and r["train_outcomes_reached"] == 1)
        bound = p95_target_s(r["learners"])
        checks = {f"p95 ≤ {bound} s": r["interaction_p95_s"] <= bound, "no exceptions": r["exceptions"] == 0,
                  "every training job finished and reached its outcome": jobs_ok,
                  "RSS ≤ 3000 MB": (r["server_rss_mb"] or 0) <= 3000}
        rows += ["", f"{run}: " + "; ".join(f"{k}: **{'met' if ok else 'not met'}**" for k, ok in checks.items()) + "."]
    return "\n".join(rows)


TOGETHER_DONE_P95_S = 300      # issue 26: every run finished within 5 minutes of its press, at p95


def classroom_together(data: dict) -> str:
    """bench/classroom.py --together N --save: a whole class presses Train (sharing on and off)."""
    rows = ["| Learners: presses in 60 s / settings | identical runs shared | press → run's end p50 / p95 / max | "
            "refused / failed | same numbers for the same settings | interaction p95 | exceptions | RSS peak | "
            "CPU: web process / workers | measured |", "|---|---|---|---|---|---|---|---|---|---|"]
    runs = {k: r for k, r in data["runs"].items() if r.get("together")}
    for r in runs.values():
        rows.append(f"| {r['learners']}: {r['together']} / {r['settings']} | {r['share']} | "
                    f"{r['train_done_p50_s']:.0f} / **{r['train_done_p95_s']:.0f}** / {r['train_done_max_s']:.0f} s | "
                    f"{r['train_refused']} / {r['train_failed']} | {'yes' if r['final_numbers_equal'] else '**no**'} | "
                    f"{r['interaction_p95_s']:.2f} s | {r['exceptions']} | {_num(r['server_rss_mb'], '.0f')} MB | "
                    f"{_num(r.get('server_cpu_s'), '.0f')} / {_num(r.get('workers_cpu_s'), '.0f')} s in "
                    f"{r['wall_s']:.0f} s | {_when(r)} |")
    for run, r in runs.items():
        checks = {f"every run ended within {TOGETHER_DONE_P95_S} s of its press (p95)":
                  r["train_done_p95_s"] <= TOGETHER_DONE_P95_S,
                  "none refused or failed": r["train_refused"] == r["train_failed"] == 0,
                  "no exceptions": r["exceptions"] == 0, "same numbers for the same settings": r["final_numbers_equal"],
                  "interaction p95 ≤ 2 s": r["interaction_p95_s"] <= 2, "RSS ≤ 3000 MB": (r["server_rss_mb"] or 0) <= 3000}
        rows += ["", f"{run}: " + "; ".join(f"{k}: **{'met' if ok else 'not met'}**" for k, ok in checks.items()) + "."]
    return "\n".join(rows)


def presenter(data: dict) -> str:
    """bench/presenter.py --save: every lesson in presenter mode, per screen size (the targets are
    tests/e2e/test_presenter.py's)."""
    rows = ["| Screen | Lessons | Without a main figure | Smallest share of the main figure on screen (target 80 %) | "
            "Under 80 % | Smallest text (target 20 px) | Smallest chart text (target 16 px) | With overlaps | Measured |",
            "|---|---|---|---|---|---|---|---|---|"]
    for size, r in data["runs"].items():
        share = "—" if r["min_share"] is None else f"{r['min_share']:.0%} ({r['min_share_lesson']})"
        rows.append(f"| {size} | {r['lessons']} | {r['no_main_figure']} | {share} | {r['under_80']} | "
                    f"{_num(r['min_text_px'])} px | {_num(r['min_chart_px'])} px | {r['with_overlaps']} | {_when(r)} |")
    return "\n".join(rows)


BLOCKS = {"week3-apps": ("week3_apps.json", week3_apps), "suite": ("suite.json", suite),
          "presenter": ("presenter.json", presenter),
          "benchmarks": (("startup.json", "interaction.json", "rlhf.json"), benchmarks),
          "reliability": ("reliability.json", reliability), "classroom": ("classroom.json", classroom),
          "classroom-together": ("classroom.json", classroom_together)}
_BLOCK = re.compile(r"(<!-- measured:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(\n<!-- /measured:(?P=name) -->)", re.S)


def render(name: str) -> str:
    import json

    from lessons.core.measured import MEASURED_DIR

    file, fn = BLOCKS[name]
    if isinstance(file, tuple):             # a block from several files: {name: data}, absent ones left out
        return fn({f.removesuffix(".json"): json.loads((MEASURED_DIR / f).read_text(encoding="utf-8"))
                   for f in file if (MEASURED_DIR / f).is_file()})
    return fn(json.loads((MEASURED_DIR / file).read_text(encoding="utf-8")))


def rewrite(text: str) -> tuple[str, list[str]]:
    """(the text with every block rendered, the names of the blocks that changed)."""
    changed = []

    def sub(m: re.Match) -> str:
        new = render(m["name"])
        if new != m["body"]:
            changed.append(m["name"])
        return m.group(1) + new + m.group(4)
    return _BLOCK.sub(sub, text), changed


def blocks(text: str) -> list[str]:
    return [m["name"] for m in _BLOCK.finditer(text)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new, changed = rewrite(text)
    if args.check:
        print("stale blocks: " + ", ".join(changed) if changed else "README blocks agree with assets/measured")
        return 1 if changed else 0
    README.write_text(new, encoding="utf-8")
    print("rewrote: " + (", ".join(changed) or "nothing"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
