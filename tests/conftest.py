"""Shared test setup: offline, deterministic, repo root importable."""
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
# Progress and polls written by tests go to a throwaway SQLite file, never the learner's own.
if "GENAI_LAB_DB_URL" not in os.environ:
    import tempfile

    os.environ["GENAI_LAB_DB_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='genai-lab-test-db-')}/classroom.sqlite"

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
