"""Shared test setup: offline, deterministic, repo root importable."""
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GENAI_LAB_DEVICE", "cpu")
# One torch (OpenMP) thread per test process, set before torch is imported. `make test` runs
# several xdist workers on two cores; with torch's default (a thread per core in every worker)
# their OpenMP teams spin against each other and every model test slows down several times. The
# servers the browser tests start inherit it; their jobs set their own budget (ui/jobs.py).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The optional Qwen model (`make qwen`) is switched off for the suite, so pages default to
# SmolLM2 as they do in CI; tests of the Qwen code paths turn it back on themselves.
os.environ.setdefault("GENAI_LAB_QWEN", "off")
# Progress, polls and class runs written by tests go to a throwaway SQLite file, never the
# learner's own: one per test process (each pytest-xdist worker, which inherits the controller's
# environment, makes its own), so the class runs of tests running side by side never meet.
if "GENAI_LAB_DB_URL" not in os.environ or os.environ.get("GENAI_LAB_TEST_DB_OF") not in (None, str(os.getpid())):
    import tempfile

    os.environ["GENAI_LAB_DB_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='genai-lab-test-db-')}/classroom.sqlite"
    os.environ["GENAI_LAB_TEST_DB_OF"] = str(os.getpid())

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Real models shared by many unit tests. Module scope: a test that (wrongly) trained one in
# place could not leak into other files' tests.
@pytest.fixture(scope="module")
def minilm():
    from lessons import models

    return models.load_minilm()


@pytest.fixture(scope="module")
def smol():
    from lessons import models

    return models.load_smollm2()


def pytest_collection_modifyitems(config, items):
    """The markers follow the folders, so a new test lands in the right loop without a decorator:
    tests/e2e/* drive Chromium (`e2e`), tests/claims/* run the pages' experiments and training
    runs end to end (`slow`). `make test-fast` runs what is neither; `make test` runs everything."""
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(ROOT).parts
        if len(parts) > 1 and parts[1] == "e2e":
            item.add_marker(pytest.mark.e2e)
        if len(parts) > 1 and parts[1] == "claims":
            item.add_marker(pytest.mark.slow)
            # A claim's first test also pays for its module's training runs (the RLHF outcomes:
            # several page runs on one torch thread), and on two busy workers that passed 900 s.
            item.add_marker(pytest.mark.timeout(2700))
    items[:] = interleave_browser_files(items)


# A browser test spends most of its time waiting (for the server's run, for Chromium to draw), an
# AppTest or unit test computes. xdist's own order (files by number of tests) started the biggest
# browser files side by side, and the machine sat partly idle (bench/suite.py: the suite's CPU time
# was well below twice its wall time). So the files are ordered for the two workers (the Makefile
# passes --no-loadscope-reorder so that xdist keeps this order): the longest first (a long file
# started last is a long tail with one worker idle), browser files interleaved with the others, so
# that one worker computes while the other waits. A file's length is its time in the last measured
# suite (tests/durations.json, written by `bench/suite.py --only test --save`); a file not in it is
# estimated from its test count and the measured files' average time per test of its kind.
DURATIONS = ROOT / "tests" / "durations.json"


def _file_seconds() -> dict:
    try:
        return json.loads(DURATIONS.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return {}


def interleave_browser_files(items: list) -> list:
    """The same items, whole files kept together and in their own order (``--dist loadfile`` sends a
    file to one worker; a module's tests may rely on their order). Two streams, browser files and
    the others, each longest first; the next file comes from the stream that has run the smaller
    share of its total time, so both streams advance at the same pace."""
    files: dict = {}
    for item in items:
        files.setdefault(str(item.fspath), []).append(item)
    known = _file_seconds()
    browser = {f for f, its in files.items() if its[0].get_closest_marker("e2e")}

    rel = {f: Path(f).resolve().relative_to(ROOT).as_posix() for f in files}
    per_test = {}                    # measured seconds per test, for browser files and the others
    for kind in (True, False):
        measured = [f for f in files if (f in browser) == kind and rel[f] in known]
        per_test[kind] = sum(known[rel[f]] for f in measured) / max(1, sum(len(files[f]) for f in measured)) or 1.0

    def seconds(f: str) -> float:
        return known.get(rel[f], len(files[f]) * per_test[f in browser])

    streams = [sorted((f for f in files if (f in browser) == b), key=lambda f: -seconds(f)) for b in (True, False)]
    total = [sum(seconds(f) for f in s) or 1.0 for s in streams]
    done = [0.0, 0.0]
    order: list = []
    while any(streams):
        i = min((k for k in (0, 1) if streams[k]), key=lambda k: done[k] / total[k])
        f = streams[i].pop(0)
        done[i] += seconds(f)
        order += files[f]
    return order
