"""How long the test loops take: `make test-fast` (the developer's loop) and `make test` (CI's).

    .venv/bin/python bench/suite.py --only test-fast          # print one JSON object
    .venv/bin/python bench/suite.py --only test --save        # and write assets/measured/suite.json

Runs each target as the README says, and reports wall time and the CPU time of every process it
started (pytest's workers, the browsers and the app servers they drive), the test count and the
result line (the whole output goes to artifacts/suite-<target>.log; PYTEST_ADDOPTS="--durations=0"
lists every test's time there). --save merges the figures into assets/measured/suite.json, from which the README's
table is written (scripts/readme_measured.py); with --durations=0 it also writes every test file's
time to tests/durations.json, from which tests/conftest.py orders the files for the two workers
(longest first, browser files interleaved with the others). Targets: test-fast under 3 min, test
under 30 min on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._timing import save, stamp  # noqa: E402
TARGETS = ("test-fast", "test")
_SUMMARY = re.compile(r"=+ (?P<line>(?:\d+ \w+(?:, )?)+) in [\d.]+s")
_DURATION = re.compile(r"^([\d.]+)s (?:call|setup|teardown)\s+([^:\s]+)::", re.M)
DURATIONS = ROOT / "tests" / "durations.json"


def file_seconds(out: str) -> dict[str, float]:
    """Each test file's total time (setup, call, teardown of every test) from pytest's --durations=0."""
    files: dict[str, float] = {}
    for sec, path in _DURATION.findall(out):
        files[path] = files.get(path, 0.0) + float(sec)
    return {f: round(t, 1) for f, t in sorted(files.items())}


def measure(target: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(["make", target], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = proc.stdout + proc.stderr
    log = ROOT / "artifacts" / f"suite-{target}.log"      # the whole output: durations, failures
    log.parent.mkdir(exist_ok=True)
    log.write_text(out)
    if target == "test":
        measure.files = file_seconds(out)
    m = None
    for m in _SUMMARY.finditer(out):
        pass
    line = m["line"] if m else f"no pytest summary (exit {proc.returncode})"
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (\w+)", line)}
    return {"tests": sum(v for k, v in counts.items() if k in ("passed", "failed", "error", "errors", "skipped")),
            "result": line, "exit": proc.returncode, "wall_s": round(wall, 1),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1), **stamp()}


measure.files = {}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=TARGETS, default=list(TARGETS))
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args(argv)
    runs = {f"make {t}": measure(t) for t in args.only}
    print(json.dumps(runs, indent=1))
    if args.save:
        for name, r in runs.items():
            save("suite", name, r, "bench/suite.py --save")
        if "test" in args.only and measure.files:        # the full suite's per-file times
            DURATIONS.write_text(json.dumps({"written_by": "bench/suite.py --only test --save (PYTEST_ADDOPTS=--durations=0)",
                                             "date": stamp()["date"], "files": measure.files}, indent=1) + "\n")
    return 0 if all(r["exit"] == 0 for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
