"""Reliability figures (issue #16.6) as one JSON object.

Runs the reliability suite with pytest -- the input fuzz over every page, the two-session
isolation test, the hub-id, CSV-file and missing-model tests -- with GENAI_RELIABILITY_REPORT
pointing at a scratch file that the tests append their figures to, and prints the totals:

  inputs_tried, pages_covered, input_widgets, exceptions, html_rendered, missing_messages,
  sessions_run_concurrently, results_differing_from_serial, stop_leaked_to_other_session,
  shared_fingerprints_changed, tests_failed

Every count of failures must be 0. Usage: `.venv/bin/python bench/reliability.py` (about
5 minutes on 2 CPU cores; pass `--fuzz-only` for the fuzz alone)."""
from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ["tests/app/test_fuzz_inputs.py", "tests/app/test_isolation.py", "tests/unit/models/test_hub.py",
         "tests/app/test_hub_id_field.py", "tests/app/test_csv_files.py", "tests/app/test_missing_models.py"]


def main(argv: list[str]) -> dict:
    tests = SUITE[:1] if "--fuzz-only" in argv else SUITE
    with tempfile.TemporaryDirectory(prefix="genai-reliability-") as tmp:
        report = Path(tmp) / "report.jsonl"
        env = dict(os.environ, GENAI_RELIABILITY_REPORT=str(report), HF_HUB_OFFLINE="1",
                   TRANSFORMERS_OFFLINE="1")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    fuzz = [r for r in rows if r["kind"] == "fuzz"]
    iso = [r for r in rows if r["kind"] == "isolation"]
    problems = [p for r in fuzz for p in dict.fromkeys(r["problems"])]
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    failed = int(m.group(1)) if (m := re.search(r"(\d+) failed", tail)) else 0
    errors = int(m.group(1)) if (m := re.search(r"(\d+) error", tail)) else 0
    out = {
        "inputs_tried": sum(r["tried"] for r in fuzz),
        "pages_covered": len(fuzz),
        "pages_with_inputs": sum(r["inputs"] > 0 for r in fuzz),
        "input_widgets": sum(r["inputs"] for r in fuzz),
        "fuzz_reruns": sum(r["runs"] for r in fuzz),
        "exceptions": sum("exception element" in p or "raw traceback" in p for p in problems),
        "html_rendered": sum("as markdown/HTML" in p or "unsafe_allow_html" in p or "plotly" in p for p in problems),
        "missing_messages": sum("no message" in p or "without an error message" in p for p in problems),
        "sessions_run_concurrently": max((r["sessions_concurrent"] for r in iso), default=0),
        "shared_model_reads_during_training": sum(r["internal_reads"] for r in iso),
        "results_differing_from_serial": sum(r["results_differing_from_serial"] + r["internal_reads_differing"]
                                             for r in iso),
        "stop_leaked_to_other_session": sum(r["stop_leaked_to_other_session"] for r in iso),
        "shared_fingerprints_changed": sum(r["shared_fingerprints_changed"] for r in iso),
        "tests_failed": failed + errors,
        "pytest": tail,
        "fuzz_cpu_s": round(sum(r["cpu_s"] for r in fuzz), 1),
        "fuzz_wall_s": round(sum(r["wall_s"] for r in fuzz), 1),
        "suite_wall_s": round(wall, 1),
        "suite_cpu_s": round(cpu.ru_utime + cpu.ru_stime, 1),
    }
    if not iso and "--fuzz-only" not in argv:
        out["tests_failed"] = max(out["tests_failed"], 1)   # the isolation test wrote nothing
    if problems:
        out["problems"] = problems[:20]
    return out


if __name__ == "__main__":
    figures = main(sys.argv[1:])
    print(json.dumps(figures, indent=1))
    if "--save" in sys.argv[1:]:      # assets/measured/reliability.json: the README's reliability table
        sys.path.insert(0, str(ROOT))
        from bench._timing import save

        save("reliability", "fuzz only" if "--fuzz-only" in sys.argv else "suite", figures, "bench/reliability.py --save")
