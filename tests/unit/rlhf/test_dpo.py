"""DPO: the loss against its definition (log 2 at the start), sequence log-probs against a
plain forward, and one step moves pi_theta towards y_w without touching pi_ref."""
import math

import pytest
import torch
import torch.nn.functional as F

from lessons import models
from lessons.core.loop import StopReason
from lessons.rlhf import dpo, policy, preferences as prefs
from tests.unit.rlhf.toys import toy_gpt


def test_dpo_loss_formula():
    torch.manual_seed(0)
    pw, pl, rw, rl = (torch.randn(5) for _ in range(4))
    loss, r_w, r_l = dpo.dpo_loss(pw, pl, rw, rl, beta=0.3)
    z = 0.3 * ((pw - rw) - (pl - rl))
    assert float(loss) == pytest.approx(float(F.softplus(-z).mean()), abs=1e-6)   # -log sigma(z) = softplus(-z)
    assert torch.allclose(r_w, 0.3 * (pw - rw)) and torch.allclose(r_l, 0.3 * (pl - rl))
    loss0, _, _ = dpo.dpo_loss(pw, pl, pw, pl, beta=0.3)       # pi_theta == pi_ref
    assert float(loss0) == pytest.approx(math.log(2), abs=1e-6)


@pytest.fixture(scope="module")
def toy():
    return toy_gpt(seed=3)


def test_sequence_logp_matches_plain_forward(toy):
    model, tok = toy
    ids, att, act, P = policy.encode_pairs(tok, ["O", "My lord,"], [" good day", " x"], tok.eos_token_id)
    lp = dpo.sequence_logp(model, ids, att, act, P)
    for i in range(2):
        row = ids[i][att[i].bool()][None]
        n_prompt = int(att[i, :P].sum())
        logits = model(input_ids=row).logits[0]
        ref = F.log_softmax(logits[n_prompt - 1:-1], -1).gather(-1, row[0, n_prompt:, None]).sum()
        assert lp[i].item() == pytest.approx(ref.item(), abs=1e-4)


@pytest.mark.slow
def test_dpo_steps_raise_margin_and_leave_reference(toy):
    model, tok = toy
    before = models.state_fingerprint(model)
    pol = policy.from_shared(model, tok)
    pairs = [prefs.PreferencePair("O", " a good and happy day", " a bad and cruel day", "t"),
             prefs.PreferencePair("My lord,", " joy", " grief", "t")]
    opt = torch.optim.Adam([p for p in pol.lm.parameters()], lr=1e-3)
    first = dpo.dpo_step(pol, opt, pairs, beta=0.1)
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-5) and first["margin"] == pytest.approx(0, abs=1e-6)
    rows = [dpo.dpo_step(pol, opt, pairs, beta=0.1) for _ in range(5)]
    assert rows[-1]["loss"] < first["loss"] and rows[-1]["margin"] > 0
    assert models.state_fingerprint(model) == before


@pytest.mark.slow
def test_train_dpo_is_bounded(toy):
    model, tok = toy
    pairs = [prefs.PreferencePair("O", f" good {i}", f" bad {i}", "t") for i in range(10)]
    seen = []
    res = dpo.train_dpo(policy.from_shared(model, tok), pairs, dpo.DPOConfig(batch_size=4, epochs=5, max_steps=3),
                        progress=lambda row, run: seen.append((row["step"], run.steps_planned)))
    assert [r["step"] for r in res.history] == [1, 2, 3] and res.stopped is StopReason.STEPS
    assert seen == [(1, 3), (2, 3), (3, 3)] and 0 < res.train_seconds <= res.seconds
    res = dpo.train_dpo(policy.from_shared(model, tok), pairs, dpo.DPOConfig(batch_size=4, max_seconds=1e-6))
    assert res.stopped is StopReason.TIME and len(res.history) == 1
    calls = []
    res = dpo.train_dpo(policy.from_shared(model, tok), pairs, dpo.DPOConfig(batch_size=4, epochs=5),
                        should_stop=lambda: calls.append(1) or len(calls) > 2)
    assert res.stopped is StopReason.STOPPED and len(res.history) == 2
    with pytest.raises(ValueError):
        dpo.train_dpo(policy.from_shared(model, tok), [], dpo.DPOConfig())
