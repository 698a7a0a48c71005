"""Two interleaved PPO runs (beta = 0 and beta > 0): both bounded, the beta = 0 objective is
the bare reward, and the start/end verdict reads the history."""
import pytest

from lessons.core.loop import StopReason

from lessons.rlhf import policy, ppo, preferences as prefs, reward_hacking, reward_model as rmm
from tests.unit.rlhf.toys import toy_gpt


@pytest.mark.slow
def test_side_by_side_runs_interleave_and_stay_bounded():
    model, tok = toy_gpt(seed=4)
    rm = rmm.RewardModel(model, tok)
    rmm.train_reward_model(rm, [prefs.PreferencePair("O", " good", " bad", "t")], [], epochs=3)

    def make(cfg):
        return ppo.PPOTrainer(policy.from_shared(model, tok), rm, prefs.Labeler("positive"), ["O", "My"], cfg,
                              n_ref_samples=1)

    base = ppo.PPOConfig(steps=2, batch_size=2, max_new_tokens=3, ppo_epochs=1)
    seen = []    # after every round: the round, and how many steps each beta's run has
    out = reward_hacking.run_side_by_side(
        make, base, (0.0, 0.1),
        progress=lambda row, run: seen.append((row["step"], {b: len(r) for b, r in run.rows().items()})))
    assert seen == [(1, {0.0: 1, 0.1: 1}), (2, {0.0: 2, 0.1: 2})]
    assert set(out) == {0.0, 0.1} and all(len(r.history) == 2 and r.stopped is StopReason.STEPS for r in out.values())
    for s in out[0.0].history:
        assert s.objective == pytest.approx(s.reward)            # beta = 0: no KL term at all
    v = reward_hacking.verdict(out[0.1])
    assert set(v) >= {"reward", "kl", "distinct_2", "ppl_ref"} and len(v["kl"]) == 2
    stop = reward_hacking.run_side_by_side(make, base, (0.0, 0.1), should_stop=lambda: True)
    assert all(r.stopped is StopReason.STOPPED and not r.history for r in stop.values())
