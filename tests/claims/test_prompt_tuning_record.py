"""The prompt-tuning page's recorded default run (lessons/finetune/recorded_prompt_tuning.py): a
record made by the current code exists, nothing stale lies beside it, and the start of the run
trained now equals the record step by step (a record is a cache of what the code does, never a
substitute)."""
import math

import pytest

from lessons import models
from lessons.core import records
from lessons.finetune import prompt_tuning, recorded_prompt_tuning as rp


@pytest.fixture(scope="module")
def lab():
    return rp.Lab(models.load_instruction_tuned(prompt_tuning.DEMO_DEFAULTS["model"], "cpu"))


def test_the_prompt_tuning_record_is_current(lab):
    """The page's default run has a record made by this code, this model and this torch, and
    assets/recorded/prompt-tuning/ holds nothing else (scripts/record_runs.py)."""
    store = records.FileStore()
    _, _, key = rp.key(lab, rp.KIND, rp.settings())
    assert store.get(rp.KIND, key) is not None, "no current record: run scripts/record_runs.py"
    assert store.keys(rp.KIND) == [key], "stale records: run scripts/record_runs.py"
    s = rp.settings()
    assert {k: s[k] for k in ("task", "n_virtual", "steps", "lr")} == {
        k: prompt_tuning.DEMO_DEFAULTS[k] for k in ("task", "n_virtual", "steps", "lr")}


def test_the_prompt_tuning_record_is_what_the_code_does(lab):
    """The first 4 steps trained now equal the record's first 4 losses (constant learning rate,
    seeded batches, the instruction's embeddings as the start), and the frozen model's scores
    before training are the record's."""
    rec = rp.recorded(lab, rp.KIND, rp.settings())
    assert rec is not None, "no current record of the prompt-tuning page's default run (scripts/record_runs.py)"
    now = rp.run(lab, rp.KIND, rp.settings(), steps=4).result
    assert now["before"] == rec.result["before"] and now["at_init"] == rec.result["at_init"]
    got, want = now["history"], rec.result["history"][:4]
    assert [r["step"] for r in got] == [1, 2, 3, 4]
    for a, b in zip(got, want):
        assert math.isclose(a["loss"], b["loss"], rel_tol=1e-5), (a, b)
    assert not rec.result["grad_on_model"] and rec.result["trainable"] == now["trainable"]
