"""The live pretraining page's recorded default run (lessons/pretraining/recorded_live.py): a
record made by the current code exists, nothing stale lies beside it, and the start of the run
trained now equals the record step by step (a record is a cache of what the code does, never a
substitute)."""
import math

import pytest

from lessons import models
from lessons.core import records
from lessons.pretraining import pretraining_live, recorded_live


@pytest.fixture(scope="module")
def lab():
    return recorded_live.Lab(models.load_tiny_gpt("cpu"))


def test_the_pretraining_live_record_is_current(lab):
    """The page's default run has a record made by this code, this tokenizer and text and this
    torch, and assets/recorded/pretraining-live/ holds nothing else (scripts/record_runs.py)."""
    store = records.FileStore()
    _, _, key = recorded_live.key(lab, recorded_live.KIND, recorded_live.settings())
    assert store.get(recorded_live.KIND, key) is not None, "no current record: run scripts/record_runs.py"
    assert store.keys(recorded_live.KIND) == [key], "stale records: run scripts/record_runs.py"
    assert recorded_live.settings() == pretraining_live.DEFAULTS


def test_the_pretraining_live_record_is_what_the_code_does(lab):
    """The run's first 8 steps, trained now from the same seed, equal the record's first 8 losses,
    and its first sample (random weights, step 0) is the record's."""
    s = recorded_live.settings()
    rec = recorded_live.recorded(lab, recorded_live.KIND, s)
    assert rec is not None, "no current record of the live pretraining page's default run (scripts/record_runs.py)"
    assert rec.result["steps_done"] == s["steps"] and rec.result["steps"] == list(range(1, s["steps"] + 1))
    assert [st for st, _ in rec.result["samples"]] == list(range(0, s["steps"] + 1, s["every"]))
    now = recorded_live.run(lab, recorded_live.KIND, s, stop_after=8).result
    assert now["steps_done"] == 8 and now["steps"] == list(range(1, 9))
    for a, b in zip(now["losses"], rec.result["losses"][:8]):
        assert math.isclose(a, b, rel_tol=1e-5), (a, b)
    assert now["samples"][0] == rec.result["samples"][0]
