"""The forgetting page's recorded default run (lessons/finetune/recorded_forgetting.py): a record
made by the current code exists, nothing stale lies beside it, and the start of the run trained
now equals the record step by step for both methods (a record is a cache of what the code does,
never a substitute)."""
import math

import pytest

from lessons import models
from lessons.core import records
from lessons.finetune import forgetting, recorded_forgetting as rf
from tests.floats import same


@pytest.fixture(scope="module")
def lab():
    return rf.Lab(models.load_tiny_gpt("cpu"), models.load_instruction_tuned("mood", "cpu"))


def test_the_forgetting_record_is_current(lab):
    """The page's default run has a record made by this code, these models and this torch, and
    assets/recorded/forgetting/ holds nothing else (scripts/record_runs.py)."""
    store = records.FileStore()
    _, _, key = rf.key(lab, rf.KIND, rf.settings())
    assert store.get(rf.KIND, key) is not None, "no current record: run scripts/record_runs.py"
    assert store.keys(rf.KIND) == [key], "stale records: run scripts/record_runs.py"
    s = rf.settings()
    assert {k: s[k] for k in ("steps", "mix", "r", "seed")} == {k: forgetting.DEMO_DEFAULTS[k]
                                                                  for k in ("steps", "mix", "r", "seed")}


def test_the_forgetting_record_is_what_the_code_does(lab):
    """Both methods' first 4 steps, trained now, equal the record's first 4 losses (constant
    learning rate, seeded batches and LoRA matrices), and the start model's scores are the record's."""
    rec = rf.recorded(lab, rf.KIND, rf.settings())
    assert rec is not None, "no current record of the forgetting page's default run (scripts/record_runs.py)"
    now = rf.run(lab, rf.KIND, rf.settings(), steps=4).result
    assert same(now["before"], rec.result["before"]) and same(now["pretrained_ppl"], rec.result["pretrained_ppl"])
    for method in ("full", "lora"):
        got, want = now[method]["train"]["history"], rec.result[method]["train"]["history"][:4]
        assert [r["step"] for r in got] == [1, 2, 3, 4]
        for a, b in zip(got, want):
            assert math.isclose(a["loss"], b["loss"], rel_tol=1e-5), (method, a, b)
        assert now[method]["trainable"] == rec.result[method]["trainable"]
    assert rec.result["shared_unchanged"] and not rec.result["lora"]["base_changed"]
