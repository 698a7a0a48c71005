"""Week 3 outcomes as experiments: what the RLHF pages (reward hacking, PPO, DPO) say happens
at their defaults, performed with the pages' own lessons functions, defaults and seeds on the
real tiny GPT, against the same default reward model the pages build in one click
(ui/rlhf.build_default: reader labeler, 300 pairs, seed 0).

These train for real, so they are the slowest Week 3 tests (see the report for timings);
each experiment is one run whose history answers several claims."""
import dataclasses

import pytest

from lessons import models
from lessons.core import measured
from lessons.rlhf import dpo, ppo, preferences, reward_hacking, reward_model, policy as policy_lib

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The pages build the reward model and train in jobs of GENAI_LAB_JOB_THREADS = 1 torch
    thread (ui/jobs.py). With 2 threads the float sums run in another order and a run takes
    another, equally valid, path; these experiments run as the pages do, on one thread.
    (Measured with 2 threads: every claim below still held, by smaller margins: beta = 0.5's
    win-rate fell 0.50 -> 0.44 rather than -> 0.28, and beta = 0's reward r_phi was 1.95 times
    the default run's rather than 3.4 times.)"""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def rlhf(minilm):
    """The pages' one click (ui/rlhf.build_default): 300 pairs labelled by the reader, and a
    reward model fitted on them. ``one_click()`` fits a fresh reward model for each experiment,
    as a learner's fresh session has: the reward model caches the word vectors it has met, and
    a vector computed in another padded batch differs in the last float bits, which is enough
    for a 60-step PPO run to take another path."""
    base = models.load_tiny_gpt("cpu")
    lab = preferences.Labeler("reader")
    res = preferences.simulate_with_model(base.model, base.tokenizer, lab, n_pairs=300, seed=0)

    def one_click():
        rm, fit = reward_model.fit_on_pairs(minilm.model, minilm.tokenizer, res.pairs, seed=0)
        assert fit.test_acc > 0.6
        return rm
    return base, lab, res.pairs, one_click


def _side_by_side(rlhf, betas, **over):
    """The reward-hacking page's run: beta = 0 and one beta, interleaved, on a fresh session."""
    base, lab, _, one_click = rlhf
    rm = one_click()
    d = {**reward_hacking.DEFAULTS, **over}
    cfg = ppo.PPOConfig(steps=d["steps"], lr=d["lr"], beta=d["beta"], max_seconds=3600, seed=d["seed"])

    def make(c):
        return ppo.PPOTrainer(policy_lib.from_shared(base.model, base.tokenizer, seed=d["seed"]), rm, lab,
                              policy_lib.PROMPTS, c)
    return reward_hacking.run_side_by_side(make, cfg, betas)


def _ppo_page(rlhf, beta):
    """The PPO page's run (tiny GPT, its defaults but beta) on a fresh session."""
    base, lab, _, one_click = rlhf
    cfg = ppo.PPOConfig(**{**ppo.POLICY_DEFAULTS["tiny"], "beta": beta, "max_seconds": 3600, "seed": 0})
    tr = ppo.PPOTrainer(policy_lib.from_shared(base.model, base.tokenizer, seed=0), one_click(), lab,
                        policy_lib.PROMPTS, cfg)
    return ppo.train(tr)


@pytest.fixture(scope="module")
def hack_runs(rlhf):
    """The reward-hacking page at its defaults and with the Try-this betas 0.5 and 0.05, each
    exactly as the page runs it (beta = 0 beside it). Returns ({beta: {0.0: verdict, beta:
    verdict}}, {beta: {0.0: PPOResult, beta: PPOResult}})."""
    runs = {b: _side_by_side(rlhf, (0.0, b)) for b in (reward_hacking.DEFAULTS["beta"], 0.5, 0.05)}
    return {b: {k: reward_hacking.verdict(r) for k, r in out.items()} for b, out in runs.items()}, runs


def test_reward_hacking_defaults_beta0_games_the_proxy_beta_stays_fluent(hack_runs):
    b = reward_hacking.DEFAULTS["beta"]
    h0, hb = hack_runs[0][b][0.0], hack_runs[0][b][b]
    end = 1
    # beta = 0: r_phi soars, the labeler's win-rate falls below 1/2, KL rises, distinct-2
    # collapses, the length runs to the limit.
    assert h0["reward"][end] > 1.5 * hb["reward"][end] and h0["reward"][end] > 5
    assert h0["win_rate"][end] < 0.45
    assert h0["kl"][end] > 40 and h0["kl"][end] > 2 * hb["kl"][end]
    # 'perplexity under pi_ref jumps while the lines break up ... and can fall again'
    ppl0 = [s.ppl_ref for s in hack_runs[1][b][0.0].history]
    assert max(ppl0) > 2 * h0["ppl_ref"][0]
    assert h0["distinct_2"][end] < 0.3
    assert h0["mean_len"][end] > 11
    # the default beta: still language, not empty, and the labeler prefers it to pi_ref.
    assert hb["win_rate"][end] > 0.6
    assert hb["distinct_2"][end] > 0.7 and hb["kl"][end] < 25
    assert hb["empty_frac"][end] < 0.1 and hb["mean_len"][end] > 8
    assert hb["readable"][end] > h0["readable"][end] + 0.3
    # "Which run reaches the higher reward r_phi? Which one does the labeler prefer?"
    assert h0["reward"][end] > hb["reward"][end] and hb["win_rate"][end] > h0["win_rate"][end]


def test_reward_hacking_try_this_beta(hack_runs):
    """'Raise beta to 0.5: the penalised run stays close to pi_ref (its KL stays under 6 nats),
    but its lines shrink to a few words ... and the labeler's win-rate falls too. Lower beta to
    0.05: it hacks too.'"""
    v = hack_runs[0]
    high, low, default = v[0.5][0.5], v[0.05][0.05], v[reward_hacking.DEFAULTS["beta"]]
    assert high["kl"][1] < 6 and high["mean_len"][1] < 0.6 * high["mean_len"][0]
    assert high["win_rate"][1] < high["win_rate"][0] - 0.05
    assert low["distinct_2"][1] < 0.5 and low["win_rate"][1] < default[reward_hacking.DEFAULTS["beta"]]["win_rate"][1]


def test_reward_hacking_try_this_lower_lr_hacks_later(hack_runs, rlhf):
    """'Lower the learning rate to 5e-4: hacking takes longer to appear.' Hacking = distinct-2
    of a step below 0.5 (one phrase repeated)."""
    b = reward_hacking.DEFAULTS["beta"]
    first = next(s.step for s in hack_runs[1][b][0.0].history if s.distinct_2 < 0.5)
    slow = _side_by_side(rlhf, (0.0, b), lr=5e-4, steps=first)[0.0]
    assert all(s.distinct_2 >= 0.5 for s in slow.history)


@pytest.fixture(scope="module")
def ppo_runs(rlhf):
    """The PPO page (tiny GPT) at its defaults and with the Try-this betas, one run each."""
    d = ppo.POLICY_DEFAULTS["tiny"]
    return {b: reward_hacking.verdict(_ppo_page(rlhf, b)) for b in (d["beta"], 0.5, 0.05)}


def test_ppo_page_defaults_and_try_this_beta(ppo_runs):
    """The PPO page (tiny GPT) at its defaults: the win-rate rises from ~0.5 and KL stays
    bounded. Try-this: 'Set beta = 0.5: the KL stays small, but the lines shrink to a few words
    (some empty) and the win-rate falls. Set beta = 0.05: r_phi rises fast -- but ... watch the
    labeler's win-rate fall: the policy is gaming the reward model.'"""
    d = ppo.POLICY_DEFAULTS["tiny"]
    assert d["beta"] == reward_hacking.DEFAULTS["beta"] and d["lr"] == reward_hacking.DEFAULTS["lr"]
    v = ppo_runs
    default = v[d["beta"]]
    assert default["win_rate"][1] - default["win_rate"][0] > 0.1 and default["kl"][1] < 25
    assert v[0.5]["kl"][1] < 6 and v[0.5]["win_rate"][1] < v[0.5]["win_rate"][0] - 0.05
    assert v[0.5]["mean_len"][1] < 0.6 * v[0.5]["mean_len"][0] and v[0.5]["empty_frac"][1] > 0.05
    assert v[0.05]["reward"][1] > default["reward"][1]
    assert v[0.05]["win_rate"][1] < 0.45 < v[0.05]["win_rate"][0] + 0.1


def test_ppo_try_this_more_epochs_clip_more(rlhf):
    """'Set K = 1 epoch per batch, then 8, and train 3 steps each: with 8 passes over each batch,
    more of the token updates hit the clip (the clipfrac in the summary).'"""
    base, lab, _, one_click = rlhf
    rm = one_click()
    d = ppo.POLICY_DEFAULTS["tiny"]
    res = {}
    for k in (1, 8):
        cfg = ppo.PPOConfig(steps=3, lr=d["lr"], beta=d["beta"], batch_size=d["batch_size"], ppo_epochs=k,
                            max_seconds=3600, seed=0)
        tr = ppo.PPOTrainer(policy_lib.from_shared(base.model, base.tokenizer, seed=0), rm, lab, policy_lib.PROMPTS, cfg)
        res[k] = ppo.train(tr).history
    assert sum(s.clipfrac for s in res[8]) > sum(s.clipfrac for s in res[1])


def test_ppo_try_this_lora_trains_only_the_adapter(smol):
    """'Choose SmolLM2 + LoRA: only the adapter trains, and pi_ref is the same model with the
    adapter off (see the memory panel).'"""
    pol = policy_lib.with_lora(smol.model, smol.tokenizer, seed=0)
    mem = policy_lib.memory_report(pol)
    assert mem.reference_mb == 0 and mem.trainable_params / mem.total_params < 0.01
    assert pol.uses_adapter_as_reference


@pytest.fixture(scope="module")
def dpo_runs(rlhf):
    base, lab, pairs, one_click = rlhf
    rm = one_click()
    yard = ppo.PPOTrainer(policy_lib.from_shared(base.model, base.tokenizer), rm, lab, policy_lib.PROMPTS,
                          ppo.PPOConfig(steps=1, seed=0))
    ref_c = yard.ref_completions
    ev = {"ref": ppo.evaluate_policy(yard.policy, rm, lab, ref_c)}
    D = dpo.DPOConfig()
    per_epoch = -(-len(pairs) // D.batch_size)

    def run(name, epochs=D.epochs, at=(), **over):
        pol = policy_lib.from_shared(base.model, base.tokenizer, seed=0)

        def progress(row, run):
            if row["step"] in at:
                ev[f"{name}@{row['step']}"] = {**ppo.evaluate_policy(pol, rm, lab, ref_c), **row}
        res = dpo.train_dpo(pol, pairs, dpo.DPOConfig(epochs=epochs, max_steps=10_000, max_seconds=3600, **over),
                            progress=progress)
        ev[name] = {**ppo.evaluate_policy(pol, rm, lab, ref_c), **res.history[-1]}
    # The defaults (3 epochs) are the first 3 epochs of the 10-epoch run (same seeded shuffles).
    run("10 epochs", epochs=10, at=(D.epochs * per_epoch,))
    ev["default"] = ev[f"10 epochs@{D.epochs * per_epoch}"]
    run("beta 1", beta=1.0)
    run("lr 1e-3", lr=1e-3)
    return ev


def test_dpo_defaults_stay_near_pi_ref_and_please_the_labeler(dpo_runs):
    d, ref = dpo_runs["default"], dpo_runs["ref"]
    assert d["win_rate"] > 0.6 and d["kl"] < 10
    assert d["ppl_ref"] < 3 * ref["ppl_ref"]            # the page: 'still text pi_ref could have written'


def test_dpo_try_this(dpo_runs):
    d = dpo_runs["default"]
    # 'Raise DPO beta to 1.0: ... the policy moves less from pi_ref (lower KL).'
    assert dpo_runs["beta 1"]["kl"] < d["kl"]
    # 'Train DPO for 10 epochs: the margin on the pairs keeps growing.'
    assert dpo_runs["10 epochs"]["margin"] > d["margin"]
    # 'Raise the learning rate to 1e-3: the DPO loss falls much faster and the policy moves
    # several times as far from pi_ref (KL), yet the labeler's win-rate does not improve.'
    # (Measured: loss 0.44 -> 0.24, KL 2.6 -> 11.1 nats, win-rate 0.69 -> 0.65.)
    hot = dpo_runs["lr 1e-3"]
    assert hot["loss"] < 0.75 * d["loss"]
    assert hot["kl"] > 3 * d["kl"] and hot["win_rate"] <= d["win_rate"] + 0.03


@pytest.mark.slow
def test_ppo_smollm2_lora_defaults_move_the_win_rate_as_the_page_quotes(rlhf, smol):
    """The PPO page's caption for 'SmolLM2 + LoRA' quotes one measured run at that choice's
    defaults (assets/measured/outcomes.json 'ppo-lora': seed 0, one torch thread, 20 steps of 16
    prompts; bench/outcomes.py --only ppo-lora --save). The same run here: about 4.5 CPU-minutes."""
    import torch

    base, lab, _, one_click = rlhf   # one torch thread, as measured (the module's fixture)
    rm = one_click()
    torch.manual_seed(0)
    cfg = ppo.PPOConfig(**{**ppo.POLICY_DEFAULTS["lora"], "max_seconds": 3600})
    tr = ppo.PPOTrainer(policy_lib.with_lora(smol.model, smol.tokenizer, seed=0), rm, lab, policy_lib.PROMPTS, cfg)
    start = ppo.evaluate_policy(tr.policy, rm, lab, tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    res = ppo.train(tr)
    end = ppo.evaluate_policy(tr.policy, rm, lab, tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    m = measured.outcome("ppo-lora")
    assert len(res.history) == cfg.steps == m["steps"]
    assert abs(start["win_rate"] - m["start"]) < 0.02
    assert end["win_rate"] >= start["win_rate"] + 0.03 and abs(end["win_rate"] - m["value"]) < 0.06
    assert end["kl"] < 10
