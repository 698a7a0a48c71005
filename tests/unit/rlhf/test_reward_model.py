"""Reward model: Bradley-Terry loss against torch's cross-entropy, softmax = sigmoid of the
difference, and a head that really learns a preference on held-out pairs."""
import random

import pytest
import torch
import torch.nn.functional as F

from lessons import models
from lessons.core.loop import StopReason
from lessons.rlhf import preferences as prefs, reward_model as rmm
from tests.unit.rlhf.toys import toy_gpt


@pytest.fixture(scope="module")
def toy():
    return toy_gpt(seed=0)


def test_bradley_terry_loss_is_two_way_cross_entropy():
    torch.manual_seed(0)
    r_w, r_l = torch.randn(7), torch.randn(7)
    ref = F.cross_entropy(torch.stack([r_w, r_l], 1), torch.zeros(7, dtype=torch.long))
    assert rmm.bradley_terry_loss(r_w, r_l) == pytest.approx(float(ref), abs=1e-6)
    assert torch.allclose(torch.softmax(torch.stack([r_w, r_l], 1), 1)[:, 0], torch.sigmoid(r_w - r_l), atol=1e-6)
    # only differences matter
    assert rmm.bradley_terry_loss(r_w + 3, r_l + 3) == pytest.approx(float(ref), abs=1e-6)


def _lexical_pairs(n, seed):
    """Chosen lines contain a 'good' word, rejected ones a 'bad' word."""
    rng = random.Random(seed)
    good, bad = ["love", "joy", "sweet", "happy", "fair"], ["death", "blood", "cruel", "hate", "grief"]
    fill = ["my lord", "the king", "this night", "our queen", "the world", "upon my word"]
    out = []
    for _ in range(n):
        f1, f2 = rng.choice(fill), rng.choice(fill)
        out.append(prefs.PreferencePair("O", f" {f1} {rng.choice(good)} {f2}", f" {f2} {rng.choice(bad)} {f1}", "t"))
    return out


@pytest.mark.slow
def test_reward_model_learns_held_out_pairs_and_leaves_backbone_alone(toy):
    model, tok = toy
    before = models.state_fingerprint(model)
    rm = rmm.RewardModel(model, tok)
    train, test = _lexical_pairs(120, 0), _lexical_pairs(40, 1)
    seen = []
    res = rmm.train_reward_model(rm, train, test, epochs=150, progress=lambda row, run: seen.append(row["step"]))
    assert res.history[-1]["loss"] < res.history[0]["loss"]
    # the shared run loop: a row per epoch, accuracies measured on the first, every 10th and the last
    assert seen == list(range(1, 151)) and res.stopped is StopReason.STEPS and res.steps_done == 150
    assert [r["step"] for r in res.curve] == [1] + list(range(10, 151, 10))
    assert res.curve[-1]["test_acc"] == res.test_acc
    assert res.test_acc >= 0.9, res.test_acc
    assert models.state_fingerprint(model) == before          # the frozen feature model is untouched
    # standardised scores on the training texts: mean 0, std 1
    texts = [p.chosen for p in train] + [p.rejected for p in train]
    s = rm.score(["O"] * len(texts), texts)
    assert float(s.mean()) == pytest.approx(0.0, abs=1e-4) and float(s.std()) == pytest.approx(1.0, abs=1e-3)


def test_reward_model_stop_keeps_the_epochs_done_and_standardises(toy):
    model, tok = toy
    rm = rmm.RewardModel(model, tok)
    train = _lexical_pairs(30, 4)
    calls = []
    res = rmm.train_reward_model(rm, train, [], epochs=50, should_stop=lambda: calls.append(1) or len(calls) > 4)
    # the curve: epoch 1 (measured) and the epoch it stopped on (measured when finishing)
    assert res.stopped is StopReason.STOPPED and res.steps_done == 4 and [r["step"] for r in res.curve] == [1, 4]
    assert res.curve[-1]["train_acc"] == res.train_acc
    texts = [p.chosen for p in train] + [p.rejected for p in train]
    assert float(rm.score(["O"] * len(texts), texts).mean()) == pytest.approx(0.0, abs=1e-4)


def test_a_reward_model_run_cut_off_from_outside_is_finished(toy):
    """A page's script ended inside ``progress`` (a Stop click): the caller's result still holds
    the epochs done, and finish_training standardises and measures it like a stopped run."""
    model, tok = toy
    rm = rmm.RewardModel(model, tok)
    train = _lexical_pairs(30, 4)

    class Ended(Exception):
        pass

    def progress(row, run):
        if row["step"] == 7:
            raise Ended

    res = rmm.RMTrainResult(50, 30.0)
    with pytest.raises(Ended):
        rmm.train_reward_model(rm, train, [], epochs=50, progress=progress, run=res)
    assert res.steps_done == 7 and res.stopped is None
    rmm.finish_training(rm, res)
    assert res.stopped is StopReason.STOPPED and [r["step"] for r in res.curve] == [1, 7] and res.train_acc > 0.5
    texts = [p.chosen for p in train] + [p.rejected for p in train]
    assert float(rm.score(["O"] * len(texts), texts).mean()) == pytest.approx(0.0, abs=1e-4)
    with pytest.raises(ValueError):
        rmm.finish_training(rm, rmm.RMTrainResult(50, 30.0))     # stopped before its features: nothing to finish


def test_pair_view_logits_probs_and_odd_text(toy):
    model, tok = toy
    rm = rmm.RewardModel(model, tok)
    rmm.train_reward_model(rm, _lexical_pairs(40, 2), [], epochs=30)
    pair = _lexical_pairs(1, 3)[0]
    v = rm.pair_view(pair)
    assert sum(v["probs"]) == pytest.approx(1.0)
    assert v["probs"][0] == pytest.approx(v["p_chosen_sigmoid"], abs=1e-6)
    r = rm.score([pair.prompt] * 2, [pair.chosen, pair.rejected], normalized=False)
    assert v["logits"] == pytest.approx(r.tolist())
    assert v["loss"] == pytest.approx(-float(F.logsigmoid(r[0] - r[1])), abs=1e-6)
    odd = rm.score(["", "", "", ""], ["", "😀🎉", "Привет мир", "<script>alert(1)</script>" * 50])
    assert torch.isfinite(odd).all()
