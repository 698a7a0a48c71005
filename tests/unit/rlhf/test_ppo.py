"""PPO: GAE and the clipped objective against direct (brute-force) formulas; one PPO step
changes pi_theta and not pi_ref; runs are bounded; and on the real tiny GPT a short run
raises the reward."""
import math

import pytest
import torch

from lessons import models
from lessons.core.loop import StopReason
from lessons.rlhf import policy, ppo, preferences as prefs, reward_model as rmm
from tests.unit.rlhf.toys import toy_gpt


def brute_force_gae(r, v, mask, gamma, lam):
    B, T = r.shape
    A = torch.zeros(B, T)
    for b in range(B):
        n = int(mask[b].sum())
        vv = [float(v[b, t]) for t in range(n)] + [0.0]
        deltas = [float(r[b, t]) + gamma * vv[t + 1] - vv[t] for t in range(n)]
        for t in range(n):
            A[b, t] = sum((gamma * lam) ** l * deltas[t + l] for l in range(n - t))
    return A


@pytest.mark.parametrize("gamma,lam", [(1.0, 0.95), (0.9, 0.5), (1.0, 1.0), (0.99, 0.0)])
def test_gae_matches_the_definition(gamma, lam):
    torch.manual_seed(0)
    r, v = torch.randn(3, 6), torch.randn(3, 6)
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] + [0] * 5], dtype=torch.float)
    A, R = ppo.gae(r * mask, v, mask, gamma, lam)
    assert torch.allclose(A, brute_force_gae(r * mask, v, mask, gamma, lam), atol=1e-5)
    assert torch.allclose(R, (A + v) * mask, atol=1e-6)
    if gamma == 1.0 and lam == 1.0:   # Monte-Carlo: return-to-go minus the baseline
        togo = torch.flip(torch.cumsum(torch.flip(r * mask, [1]), 1), [1])
        assert torch.allclose(A, (togo - v) * mask, atol=1e-5)


def test_clipped_objective_by_hand():
    A = torch.tensor([[1.0, -1.0, 2.0, -2.0]])
    logp_old = torch.zeros(1, 4)
    mask = torch.ones(1, 4)
    # ratio = 1: the objective is just -mean(A)
    loss, ratio, cf = ppo.clipped_policy_loss(logp_old.clone(), logp_old, A, mask, 0.2)
    assert float(loss) == pytest.approx(-0.0) and float(cf) == 0
    # ratios 1.5, 1.5, 0.5, 0.5 with eps 0.2 -> min(rA, clip(r)A) = 1.2, -1.5, 1.0, -1.6
    logp = torch.log(torch.tensor([[1.5, 1.5, 0.5, 0.5]]))
    loss, ratio, cf = ppo.clipped_policy_loss(logp, logp_old, A, mask, 0.2)
    assert torch.allclose(ratio, torch.tensor([[1.5, 1.5, 0.5, 0.5]]))
    assert float(loss) == pytest.approx(-(1.2 - 1.5 + 1.0 - 1.6) / 4, abs=1e-6)
    assert float(cf) == pytest.approx(0.5)


def test_per_token_rewards_put_r_phi_on_the_last_real_token():
    kl = torch.tensor([[0.1, 0.2, 0.3], [0.5, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    r = ppo.per_token_rewards(torch.tensor([2.0, -1.0]), kl, mask, beta=0.5)
    assert torch.allclose(r, torch.tensor([[-0.05, -0.1, 2.0 - 0.15], [-1.0 - 0.25, 0.0, 0.0]]))


def test_distinct_n():
    assert ppo.distinct_n(["a b c", "a b d"], 1) == pytest.approx(4 / 6)
    assert ppo.distinct_n(["a b c", "a b d"], 2) == pytest.approx(3 / 4)
    assert ppo.distinct_n(["good good good good"], 2) == pytest.approx(1 / 3)


@pytest.fixture(scope="module")
def toy_setup():
    model, tok = toy_gpt(seed=2)
    rm = rmm.RewardModel(model, tok)
    pairs = [prefs.PreferencePair("O", " a good day", " a bad day", "t"), prefs.PreferencePair("O", " joy", " grief", "t")]
    rmm.train_reward_model(rm, pairs, [], epochs=5)
    return model, tok, rm


def test_one_ppo_step_changes_policy_not_reference(toy_setup):
    model, tok, rm = toy_setup
    shared_before = models.state_fingerprint(model)
    pol = policy.from_shared(model, tok)
    pol_before = models.state_fingerprint(pol)
    cfg = ppo.PPOConfig(steps=1, batch_size=4, max_new_tokens=5, ppo_epochs=1, n_minibatches=1, lr=1e-3)
    trainer = ppo.PPOTrainer(pol, rm, prefs.Labeler("positive"), ["My lord,", "O"], cfg, n_ref_samples=1)
    st = trainer.step()
    assert models.state_fingerprint(pol) != pol_before          # pi_theta (and V) moved
    assert models.state_fingerprint(model) == shared_before      # pi_ref = shared model: untouched
    assert not torch.equal(pol.v_head.weight, torch.zeros_like(pol.v_head.weight))
    assert math.isfinite(st.kl) and math.isfinite(st.reward) and 0 <= st.win_rate <= 1
    assert st.kl == pytest.approx(0.0, abs=1e-5)   # the first rollout comes from pi_ref's own weights


@pytest.mark.slow
def test_lora_ppo_step_changes_only_the_adapter(toy_setup):
    model, tok, rm = toy_setup
    shared_before = models.state_fingerprint(model)
    pol = policy.with_lora(model, tok, r=4)
    base = {n: p.detach().clone() for n, p in pol.lm.named_parameters() if "lora_" not in n}
    lora = {n: p.detach().clone() for n, p in pol.lm.named_parameters() if "lora_B" in n}
    cfg = ppo.PPOConfig(steps=1, batch_size=4, max_new_tokens=5, ppo_epochs=1, n_minibatches=1, lr=1e-2)
    ppo.PPOTrainer(pol, rm, prefs.Labeler("positive"), ["My lord,", "O"], cfg, n_ref_samples=1).step()
    after = dict(pol.lm.named_parameters())
    assert all(torch.equal(after[n], v) for n, v in base.items())
    assert any(not torch.equal(after[n], v) for n, v in lora.items())
    assert models.state_fingerprint(model) == shared_before


@pytest.mark.slow
def test_training_is_bounded_by_steps_seconds_and_stop(toy_setup):
    model, tok, rm = toy_setup
    lab = prefs.Labeler("positive")

    def run(cfg, stop=None):
        tr = ppo.PPOTrainer(policy.from_shared(model, tok), rm, lab, ["O"], cfg, n_ref_samples=1)
        seen = []
        res = ppo.train(tr, progress=lambda row, run: seen.append(row["step"]), should_stop=stop)
        return res, seen

    res, seen = run(ppo.PPOConfig(steps=2, batch_size=2, max_new_tokens=3, ppo_epochs=1))
    assert res.stopped is StopReason.STEPS and seen == [1, 2] and len(res.rows()) == 2
    res, seen = run(ppo.PPOConfig(steps=50, batch_size=2, max_new_tokens=3, ppo_epochs=1, max_seconds=1e-6))
    assert res.stopped is StopReason.TIME and seen == [1]
    calls = []
    res, seen = run(ppo.PPOConfig(steps=50, batch_size=2, max_new_tokens=3, ppo_epochs=1),
                    stop=lambda: calls.append(1) or len(calls) > 2)
    assert res.stopped is StopReason.STOPPED and seen == [1, 2]
    with pytest.raises(ValueError):
        ppo.PPOConfig(beta=-1)
