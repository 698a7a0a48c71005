"""The reward model's class-run job (lessons/rlhf/preferences_reward_job.py), run in this process:
its default pipeline gives the shipped record of the preferences page's defaults; a run on a
session's pairs gives what reward_model.fit_on_pairs gives, twice alike; a run stopped mid-way
keeps the partly trained r_phi, standardised; one stopped before its first epoch has none."""
import pytest
import torch

from lessons import models
from lessons.core import records
from lessons.rlhf import preferences, preferences_reward_job as job, recorded, recorded_pages, reward_model


@pytest.fixture(scope="module")
def lab():
    return recorded.Lab(models.load_tiny_gpt("cpu"), models.load_minilm("cpu"))


def _spec(lab, settings, pairs):
    return job.spec(settings, pairs, lab.fingerprints({}), 1)


def _run(spec, stop_after_rows=None):
    rows = []

    def progress(row):
        rows.append(row)
    with _one_thread():                  # as a worker runs it (ui/jobs.budget: one torch thread per job)
        out = job.run(spec, progress, lambda: stop_after_rows is not None and len(rows) >= stop_after_rows)
    return out, rows


def _no_clock(obj):
    """``obj`` without its wall-clock seconds (the only thing two runs of one key may differ in)."""
    if isinstance(obj, dict):
        return {k: _no_clock(v) for k, v in obj.items() if k != "seconds"}
    return [_no_clock(v) for v in obj] if isinstance(obj, list) else obj


class _one_thread:
    def __enter__(self):
        self.n = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.n)


def test_the_default_pipeline_gives_the_shipped_record_of_the_page_defaults(lab):
    rec = records.FileStore().get(recorded_pages.REWARD,
                                  recorded_pages.key(lab, recorded_pages.REWARD, recorded_pages.REWARD_MODEL)[2])
    assert rec is not None, "no current record (scripts/record_runs.py)"
    out, rows = _run(_spec(lab, recorded_pages.REWARD_MODEL, "simulate"))
    assert len(out["pairs"]) == rec.result["n_pairs"] and out["stopped"] == "steps"
    assert [r["step"] for r in rows] == [r["step"] for r in rec.result["curve"]] == [r["step"] for r in out["curve"]]
    for a, b in zip(rows, rec.result["curve"]):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert (a["train_acc"], a["test_acc"]) == (b["train_acc"], b["test_acc"])
    assert (out["test_acc"], out["n_train"], out["n_test"]) == (rec.result["test_acc"], rec.result["n_train"],
                                                                rec.result["n_test"])
    assert out["labeling"]["groups"] > 0 and out["pairs_used"] == len(out["pairs"])


def test_a_run_on_own_pairs_is_fit_on_pairs_and_gives_the_same_twice(lab):
    pairs = list(lab.pairs[:60]) + [preferences.PreferencePair("x", "a good day", "a bad night", "you")]
    spec = _spec(lab, {"epochs": 200, "seed": 3}, pairs)
    assert spec["pairs"][-1] == ["x", "a good day", "a bad night", "you"]
    one, rows = _run(spec)
    two, _ = _run(spec)
    assert _no_clock(one) == _no_clock(two) and "pairs" not in one and one["pairs_used"] == 61
    with _one_thread():
        ref, res = reward_model.fit_on_pairs(lab.encoder.model, lab.encoder.tokenizer, pairs, seed=3, epochs=200)
    assert one["steps_done"] == 200 and _no_clock(rows) == _no_clock(res.curve) and one["test_acc"] == res.test_acc
    rm, got = job.load(one, lab.encoder.model, lab.encoder.tokenizer)
    for k, v in ref.state_dict().items():
        assert torch.equal(rm.state_dict()[k], v), k
    assert _no_clock(got.curve) == _no_clock(res.curve) and got.steps_planned == 200 and got.test_acc == res.test_acc
    texts = ["O happy day", "I hate this cruel night"]
    # the same numbers; a word vector encoded in another padded batch differs in the last bits only
    assert torch.allclose(rm.score(["", ""], texts), ref.score(["", ""], texts), atol=1e-5)


def test_a_stopped_run_keeps_the_partly_trained_reward_model_and_one_stopped_at_once_has_none(lab):
    spec = _spec(lab, {"epochs": 3000, "seed": 0}, lab.pairs)
    out, rows = _run(spec, stop_after_rows=3)           # rows at epochs 1, 10, 20: asked before epoch 21
    assert out["stopped"] == "stopped" and out["steps_done"] == 20 and out["curve"][-1]["step"] == 20
    rm, res = job.load(out, lab.encoder.model, lab.encoder.tokenizer)
    assert res.stopped.value == "stopped" and res.curve[-1]["test_acc"] == out["test_acc"]
    train, _ = preferences.split_pairs(list(lab.pairs), 0.2, 0)
    r = rm.score([""] * 2 * len(train), [p.chosen for p in train] + [p.rejected for p in train])
    assert float(r.mean()) == pytest.approx(0, abs=1e-4) and float(r.std()) == pytest.approx(1, abs=1e-3)   # standardised
    none, no_rows = _run(spec, stop_after_rows=0)
    assert none["state"] is None and none["steps_done"] == 0 and no_rows == []
    assert job.load(none, lab.encoder.model, lab.encoder.tokenizer) == (None, None)
