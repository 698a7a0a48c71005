"""Week 3 outcomes as experiments: what the RLHF pages (reward hacking, PPO, DPO) say happens
at their defaults and in their Try-this, checked on the pages' own runs (lessons/rlhf/recorded.py:
the pages' one click, their defaults and seeds, one torch thread, on the real tiny GPT).

Each run comes from its record in assets/recorded/ when the record was made by the current code,
models and torch (the key says so), and is trained here otherwise: a record is a cache of what
this code does, never a substitute. test_records_are_current fails when a record is missing or
stale (run `scripts/record_runs.py`), and test_a_record_is_what_the_code_does trains the start of
the PPO page's default run live and compares it with its record, step by step."""
import math

import pytest

from lessons import models
from lessons.core import measured, records
from lessons.rlhf import dpo, ppo, recorded, recorded_pages, reward_hacking, policy as policy_lib
from lessons.rlhf.recorded import dpo_settings, hacking_settings, ppo_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(minilm):
    return recorded.Lab(models.load_tiny_gpt("cpu"), minilm)


def _side_by_side(lab, betas, **over) -> dict:
    """The reward-hacking page's run: beta = 0 and one beta, interleaved: {beta: PPOResult}."""
    out = recorded.result(lab, "reward-hacking", hacking_settings(betas, **over))
    return {float(b): ppo.PPOResult.from_json(r) for b, r in out["runs"].items()}


def _ppo_page(lab, beta) -> ppo.PPOResult:
    """The PPO page's run (tiny GPT, its defaults but beta)."""
    return ppo.PPOResult.from_json(recorded.result(lab, "ppo", ppo_settings(beta=beta))["run"])


def test_records_are_current(lab, smol):
    """Every run the pages open with and these tests check has a record made by this code, these
    models and this torch, and assets/recorded/ holds nothing else (scripts/record_runs.py)."""
    store = records.FileStore()
    labs = {"tiny": lab, "lora": recorded.Lab(lab.base, lab.encoder, smol)}
    want = {}
    for kind, settings in recorded.RUNS:
        want.setdefault(kind, set()).add(recorded.key(labs[settings.get("policy", "tiny")], kind, settings)[2])
    missing = [(k, s) for k, s in recorded.RUNS
               if store.get(k, recorded.key(labs[s.get("policy", "tiny")], k, s)[2]) is None]
    assert not missing, f"no current record (run scripts/record_runs.py): {missing}"
    extra = {k: set(store.keys(k)) - want.get(k, set()) for k in recorded.RECIPES}
    assert not any(extra.values()), f"stale records in assets/recorded (run scripts/record_runs.py): {extra}"


def test_a_record_is_what_the_code_does(lab):
    """The PPO page's default run, its first 2 steps trained now, equal its record's first 2 steps
    (a run takes the same path whatever its length: no schedule depends on the steps)."""
    full = recorded.recorded(lab, "ppo", ppo_settings())
    assert full is not None, "no current record of the PPO page's default run (scripts/record_runs.py)"
    live = recorded.run(lab, "ppo", ppo_settings(steps=2)).result["run"]["history"]
    rec = full.result["run"]["history"][:2]
    for a, b in zip(live, rec):
        for k, v in a.items():
            if k == "samples":
                assert [x[:2] for x in v] == [x[:2] for x in b[k]]
            elif k != "seconds":
                assert math.isclose(v, b[k], rel_tol=1e-4, abs_tol=1e-5), (a["step"], k, v, b[k])


def test_the_dpo_page_record_is_current(lab):
    """The DPO page's default run (lessons/rlhf/recorded_pages.py) has a record made by this code,
    these models and this torch, and its folder holds nothing else (scripts/record_runs.py); its
    settings are the page's defaults (dpo.DPOConfig)."""
    store = records.FileStore()
    s = recorded_pages.dpo_page_settings()
    _, _, key = recorded_pages.key(lab, recorded_pages.DPO_PAGE, s)
    assert store.get(recorded_pages.DPO_PAGE, key) is not None, "no current record: run scripts/record_runs.py"
    assert store.keys(recorded_pages.DPO_PAGE) == [key], "stale records: run scripts/record_runs.py"
    cfg = dpo.DPOConfig()
    assert (s["beta"], s["lr"], s["epochs"], s["seed"]) == (cfg.beta, cfg.lr, cfg.epochs, cfg.seed)


def test_the_dpo_page_record_is_what_the_code_does(lab):
    """The DPO page's default run, its first 3 steps trained now, equal the record's first 3 steps
    (the same seeded shuffle of the same pairs), and pi_ref's evaluation equals the record's."""
    rec = recorded_pages.recorded(lab, recorded_pages.DPO_PAGE, recorded_pages.dpo_page_settings())
    assert rec is not None, "no current record of the DPO page's default run (scripts/record_runs.py)"
    assert len(rec.result["history"]) == dpo.DPOConfig.epochs * recorded.dpo_steps_per_epoch()
    now = recorded_pages.run(lab, recorded_pages.DPO_PAGE, recorded_pages.dpo_page_settings(), steps=3).result
    assert len(now["history"]) == 3
    for a, b in zip(now["history"], rec.result["history"][:3]):
        for k in ("step", "loss", "margin", "pair_acc"):
            assert math.isclose(a[k], b[k], rel_tol=1e-4, abs_tol=1e-5), (a["step"], k, a[k], b[k])
    assert now["ref"]["samples"] == rec.result["ref"]["samples"]
    for k in ("reward", "kl", "win_rate", "ppl_ref"):
        assert math.isclose(now["ref"][k], rec.result["ref"][k], rel_tol=1e-4, abs_tol=1e-5), k


def test_the_reward_model_record_is_current(lab):
    """The preferences page's default pipeline (recorded_pages.REWARD_MODEL: the one click's pairs
    and seeds, the page's epochs) has a record made by this code, and its folder holds nothing else."""
    store = records.FileStore()
    _, _, key = recorded_pages.key(lab, recorded_pages.REWARD, recorded_pages.REWARD_MODEL)
    assert store.get(recorded_pages.REWARD, key) is not None, "no current record: run scripts/record_runs.py"
    assert store.keys(recorded_pages.REWARD) == [key], "stale records: run scripts/record_runs.py"
    assert {k: recorded_pages.REWARD_MODEL[k] for k in recorded.ONE_CLICK} == recorded.ONE_CLICK


def test_the_reward_model_record_is_what_the_code_does(lab):
    """The same pairs and r_phi trained now for 20 epochs give the record's first measured epochs
    (1, 10 and 20: loss and both accuracies)."""
    rec = recorded_pages.recorded(lab, recorded_pages.REWARD, recorded_pages.REWARD_MODEL)
    assert rec is not None, "no current record of the preferences page's default pipeline (scripts/record_runs.py)"
    now = recorded_pages.run(lab, recorded_pages.REWARD, recorded_pages.REWARD_MODEL, epochs=20).result
    assert now["n_pairs"] == rec.result["n_pairs"] and now["n_train"] == rec.result["n_train"]
    want = {r["step"]: r for r in rec.result["curve"]}
    assert [r["step"] for r in now["curve"]] == [1, 10, 20]
    for r in now["curve"]:
        for k in ("loss", "train_acc", "test_acc"):
            assert math.isclose(r[k], want[r["step"]][k], rel_tol=1e-5, abs_tol=1e-7), (r["step"], k)


@pytest.fixture(scope="module")
def hack_runs(lab):
    """The reward-hacking page at its defaults and with the Try-this betas 0.5 and 0.05 (beta = 0
    beside each). Returns ({beta: {0.0: verdict, beta: verdict}}, {beta: {0.0: PPOResult, beta: PPOResult}})."""
    runs = {b: _side_by_side(lab, (0.0, b)) for b in (reward_hacking.DEFAULTS["beta"], 0.5, 0.05)}
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


def test_reward_hacking_try_this_lower_lr_hacks_later(hack_runs, lab):
    """'Lower the learning rate to 5e-4: hacking takes longer to appear.' Hacking = distinct-2
    of a step below 0.5 (one phrase repeated)."""
    b = reward_hacking.DEFAULTS["beta"]
    first = next(s.step for s in hack_runs[1][b][0.0].history if s.distinct_2 < 0.5)
    slow = _side_by_side(lab, (0.0, b), lr=5e-4)[0.0]
    assert all(s.distinct_2 >= 0.5 for s in slow.history[:first])


@pytest.fixture(scope="module")
def ppo_runs(lab):
    """The PPO page (tiny GPT) at its defaults and with the Try-this betas, one run each."""
    d = ppo.POLICY_DEFAULTS["tiny"]
    return {b: reward_hacking.verdict(_ppo_page(lab, b)) for b in (d["beta"], 0.5, 0.05)}


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


def test_ppo_try_this_more_epochs_clip_more(lab):
    """'Set K = 1 epoch per batch, then 8, and train 3 steps each: with 8 passes over each batch,
    more of the token updates hit the clip (the clipfrac in the summary).' (Trained here: 6 steps.)"""
    res = {k: recorded.run(lab, "ppo", ppo_settings(steps=3, ppo_epochs=k)).result["run"]["history"] for k in (1, 8)}
    assert sum(s["clipfrac"] for s in res[8]) > sum(s["clipfrac"] for s in res[1])


def test_ppo_try_this_lora_trains_only_the_adapter(smol):
    """'Choose SmolLM2 + LoRA: only the adapter trains, and pi_ref is the same model with the
    adapter off (see the memory panel).'"""
    pol = policy_lib.with_lora(smol.model, smol.tokenizer, seed=0)
    mem = policy_lib.memory_report(pol)
    assert mem.reference_mb == 0 and mem.trainable_params / mem.total_params < 0.01
    assert pol.uses_adapter_as_reference


@pytest.fixture(scope="module")
def dpo_runs(lab):
    """The DPO page at its defaults (3 epochs: the first 3 epochs of the 10-epoch run, same seeded
    shuffles) and with the Try-this settings; each figure an evaluation on fresh samples."""
    at = dpo.DPOConfig.epochs * recorded.dpo_steps_per_epoch()
    ten = recorded.result(lab, "dpo", dpo_settings(epochs=10, eval_at=(at,)))
    return {"ref": ten["ref"], "10 epochs": ten["end"], "default": ten["at"][str(at)],
            "beta 1": recorded.result(lab, "dpo", dpo_settings(beta=1.0))["end"],
            "lr 1e-3": recorded.result(lab, "dpo", dpo_settings(lr=1e-3))["end"]}


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
    hot = dpo_runs["lr 1e-3"]
    assert hot["loss"] < 0.75 * d["loss"]
    assert hot["kl"] > 3 * d["kl"] and hot["win_rate"] <= d["win_rate"] + 0.03


def test_ppo_smollm2_lora_defaults_move_the_win_rate_as_the_page_quotes(lab, smol):
    """The PPO page's caption for 'SmolLM2 + LoRA' quotes one measured run at that choice's
    defaults (assets/measured/outcomes.json 'ppo-lora': seed 0, one torch thread, 20 steps of 16
    prompts, evaluated before and after; bench/outcomes.py --only ppo-lora --save)."""
    out = recorded.result(recorded.Lab(lab.base, lab.encoder, smol), "ppo", ppo_settings("lora", evaluate=True))
    cfg = ppo.PPOConfig(**ppo.POLICY_DEFAULTS["lora"])
    start, end = out["start"], out["end"]
    m = measured.outcome("ppo-lora")
    assert len(out["run"]["history"]) == cfg.steps == m["steps"]
    assert abs(start["win_rate"] - m["start"]) < 0.02
    assert end["win_rate"] >= start["win_rate"] + 0.03 and abs(end["win_rate"] - m["value"]) < 0.06
    assert end["kl"] < 10
