"""The RLHF pages' training runs as recorded runs (lessons.core.records).

Every run here starts from the pages' one click (ui/rlhf.build_default): the 'reader' labeler
ranks 300 pairs sampled from the tiny GPT (seed 0) and a reward model r_phi is fitted on them
(seed 0), fresh for each run as in a learner's fresh session (r_phi caches the word vectors it
has met, and a vector computed in another padded batch differs in the last float bits: enough
for a 60-step PPO run to take another path). A run then trains on ONE torch thread, as the
pages' jobs do (ui/jobs.py), because with two threads the float sums run in another order.

``result(lab, kind, settings)`` returns the recorded result when a record made by the current
code, models and torch exists (assets/recorded/), and runs it otherwise. ``RUNS`` lists the runs
the pages open with and the outcome tests check; ``scripts/record_runs.py`` records them.

Kinds and their JSON results:

* ``ppo``: the PPO page. settings = {"policy": "tiny" | "lora", "evaluate": bool, **PPOConfig
  fields but max_seconds}. {"run": PPOResult.to_json(), "start": eval | None, "end": eval | None}
  where eval is ppo.evaluate_policy on fresh samples (before and after training when
  "evaluate"; evaluating first touches r_phi's cache, so the page's own run does not).
* ``reward-hacking``: the reward-hacking page, beta = 0 and one beta interleaved.
  settings = {"betas": [...], "beta", "steps", "lr", "seed"}. {"runs": {str(beta): PPOResult}}.
* ``dpo``: the DPO page. settings = {**DPOConfig fields but max_seconds, "eval_at": [steps]}.
  {"history": rows, "ref": eval of pi_ref, "end": eval + last row, "at": {step: eval + row}}.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from functools import cached_property

from lessons.core import records
from lessons.rlhf import dpo, policy as policy_lib, ppo, preferences, reward_hacking, reward_model

CODE = tuple(f"lessons/rlhf/{m}.py" for m in ("recorded", "ppo", "dpo", "policy", "preferences", "reward_model",
                                              "reward_hacking")) + ("lessons/core/generate.py", "lessons/core/loop.py", "lessons/core/rng.py",
        "lessons/core/tensors.py")
ONE_CLICK = {"labeler": "reader", "n_pairs": 300, "seed": 0, "rm_seed": 0}
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps decide
THREADS = 1


def ppo_settings(policy: str = "tiny", evaluate: bool = False, **over) -> dict:
    cfg = ppo.PPOConfig(**{**ppo.POLICY_DEFAULTS[policy], "max_seconds": FAR, **over})
    return {"policy": policy, "evaluate": evaluate, **{k: v for k, v in asdict(cfg).items() if k != "max_seconds"}}


def hacking_settings(betas=(0.0, reward_hacking.DEFAULTS["beta"]), **over) -> dict:
    return {"betas": [float(b) for b in betas], **reward_hacking.DEFAULTS, **over}


def dpo_settings(eval_at=(), **over) -> dict:
    cfg = dpo.DPOConfig(**{"max_steps": 10_000, **over})
    return {**{k: v for k, v in asdict(cfg).items() if k != "max_seconds"}, "eval_at": sorted(eval_at)}


def dpo_steps_per_epoch(n_pairs: int = ONE_CLICK["n_pairs"], batch_size: int = dpo.DPOConfig.batch_size) -> int:
    return -(-n_pairs // batch_size)


# The runs the pages open with and the claims in tests/claims/test_rlhf_outcomes.py check.
RUNS: list[tuple[str, dict]] = [
    *[("ppo", ppo_settings(beta=b)) for b in (ppo.POLICY_DEFAULTS["tiny"]["beta"], 0.5, 0.05)],
    ("ppo", ppo_settings("lora", evaluate=True)),
    *[("reward-hacking", hacking_settings((0.0, b))) for b in (reward_hacking.DEFAULTS["beta"], 0.5, 0.05)],
    ("reward-hacking", hacking_settings(lr=5e-4)),
    ("dpo", dpo_settings(epochs=10, eval_at=(dpo.DPOConfig.epochs * dpo_steps_per_epoch(),))),
    ("dpo", dpo_settings(beta=1.0)),
    ("dpo", dpo_settings(lr=1e-3)),
]


class Lab:
    """The one-click setup of the RLHF pages on the shared models (read-only). The pairs are
    sampled only when a run has to happen; a key needs only the models' fingerprints."""

    def __init__(self, base, encoder, smol=None):
        self.base, self.encoder, self.smol = base, encoder, smol
        self.labeler = preferences.Labeler(ONE_CLICK["labeler"])
        self._fp: dict = {}

    def _fingerprint(self, name: str, model) -> str:
        from lessons.models import state_fingerprint

        if name not in self._fp:
            self._fp[name] = state_fingerprint(model)
        return self._fp[name]

    def fingerprints(self, settings: dict) -> dict:
        import torch

        fp = {"tiny_gpt": self._fingerprint("tiny_gpt", self.base.model),
              "minilm": self._fingerprint("minilm", self.encoder.model),
              "one_click": ONE_CLICK, "torch": torch.__version__, "threads": THREADS}
        if settings.get("policy") == "lora":
            if self.smol is None:
                raise ValueError("a SmolLM2 + LoRA run needs the SmolLM2 model")
            fp["smollm2"] = self._fingerprint("smollm2", self.smol.model)
        return fp

    @cached_property
    def pairs(self) -> list:
        res = preferences.simulate_with_model(self.base.model, self.base.tokenizer, self.labeler,
                                              n_pairs=ONE_CLICK["n_pairs"], seed=ONE_CLICK["seed"])
        return list(res.pairs)

    def reward_model(self):
        rm, _ = reward_model.fit_on_pairs(self.encoder.model, self.encoder.tokenizer, self.pairs, seed=ONE_CLICK["rm_seed"])
        return rm

    def policy(self, which: str, seed: int):
        if which == "lora":
            return policy_lib.with_lora(self.smol.model, self.smol.tokenizer, seed=seed)
        return policy_lib.from_shared(self.base.model, self.base.tokenizer, seed=seed)


def _ppo(lab: Lab, s: dict) -> dict:
    cfg = ppo.PPOConfig(**{k: v for k, v in s.items() if k not in ("policy", "evaluate")}, max_seconds=FAR)
    rm = lab.reward_model()
    tr = ppo.PPOTrainer(lab.policy(s["policy"], cfg.seed), rm, lab.labeler, policy_lib.PROMPTS, cfg)

    def ev():
        return ppo.evaluate_policy(tr.policy, rm, lab.labeler, tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    start = ev() if s["evaluate"] else None
    res = ppo.train(tr)
    return {"run": res.to_json(), "start": start, "end": ev() if s["evaluate"] else None}


def _hacking(lab: Lab, s: dict) -> dict:
    rm = lab.reward_model()
    cfg = ppo.PPOConfig(steps=s["steps"], lr=s["lr"], beta=s["beta"], max_seconds=FAR, seed=s["seed"])

    def make(c):
        return ppo.PPOTrainer(lab.policy("tiny", s["seed"]), rm, lab.labeler, policy_lib.PROMPTS, c)
    out = reward_hacking.run_side_by_side(make, cfg, tuple(s["betas"]))
    return {"runs": {str(b): r.to_json() for b, r in out.items()}}


def _dpo(lab: Lab, s: dict) -> dict:
    rm = lab.reward_model()
    yard = ppo.PPOTrainer(lab.policy("tiny", 0), rm, lab.labeler, policy_lib.PROMPTS, ppo.PPOConfig(steps=1, seed=0))
    ref_c = yard.ref_completions
    pol = lab.policy("tiny", s["seed"])
    out = {"ref": ppo.evaluate_policy(yard.policy, rm, lab.labeler, ref_c), "at": {}}

    def progress(row, run):
        if row["step"] in s["eval_at"]:
            out["at"][str(row["step"])] = {**ppo.evaluate_policy(pol, rm, lab.labeler, ref_c), **row}
    cfg = dpo.DPOConfig(**{k: v for k, v in s.items() if k != "eval_at"}, max_seconds=FAR)
    res = dpo.train_dpo(pol, lab.pairs, cfg, progress=progress)
    out.update(history=res.history, end={**ppo.evaluate_policy(pol, rm, lab.labeler, ref_c), **res.history[-1]})
    return out


RECIPES = {"ppo": _ppo, "reward-hacking": _hacking, "dpo": _dpo}


def key(lab: Lab, kind: str, settings: dict) -> tuple[dict, str, str]:
    fp, code = lab.fingerprints(settings), records.code_version(CODE)
    return fp, code, records.run_key(kind, settings, fp, code)


def run(lab: Lab, kind: str, settings: dict) -> records.Record:
    """Train the run now (one torch thread) and return it as a record (not stored)."""
    import torch

    fp, code, _ = key(lab, kind, settings)
    n = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        torch.manual_seed(settings.get("seed", 0))
        w, c = time.perf_counter(), time.process_time()
        out = RECIPES[kind](lab, settings)
        w, c = time.perf_counter() - w, time.process_time() - c
    finally:
        torch.set_num_threads(n)
    return records.Record(kind, settings, fp, code, records.plain(out), wall_s=round(w, 1), cpu_s=round(c, 1))


def recorded(lab: Lab, kind: str, settings: dict, store: records.FileStore | None = None) -> records.Record | None:
    """The current record of this run, or None (none made by this code, these models, this torch)."""
    return (store or records.FileStore()).get(kind, key(lab, kind, settings)[2])


def result(lab: Lab, kind: str, settings: dict, store: records.FileStore | None = None) -> dict:
    """The run's JSON result: from its current record, else trained now."""
    rec = recorded(lab, kind, settings, store)
    return (rec or run(lab, kind, settings)).result
