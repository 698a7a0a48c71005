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

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
