"""The PPO runs of the RLHF pages as class-run jobs (ui/class_runs.py runs them in a worker
process): the PPO page's run (:func:`run`) and the reward-hacking page's two side-by-side runs
(:func:`run_hacking`, kind ``reward-hacking``, settings = recorded.hacking_settings(...); a row per
round: {"step", "seconds", "runs": {str(beta): StepStats fields}}; result: {"runs": {str(beta):
PPOResult.to_json()}, "rounds": the rows as streamed, "stopped"}).

It trains exactly what ``recorded._ppo`` trains for the same settings (torch's global seed set to
the run's seed, the pages' one-click reward model fitted fresh, pi_theta a private copy of the
shared model). One key takes one path on one processor: two runs of it give the same history,
step for step (tests/unit/serving/test_class_runs.py); another processor rounds differently. What it adds: a row per step for the learner's
live chart, the stop check, the page's seconds cap, a learner's own reward model, and the trained
weights, saved for the session that asked (the preferences and DPO pages use the policy).

spec (JSON, built by :func:`spec`):
    {"settings": recorded.ppo_settings(...) (no max_seconds), "max_seconds": float,
     "rm": "one-click" | {"state": {name: nested list}, "labeler": kind, "word": str},
     "fingerprints": {...}, "code": sha256, "threads": int, "device": "cpu" | "cuda" | ...,
     "cpu": the processor's model name}
The fingerprints, code version, thread count, device and processor are in the spec so that they
are in the job's key: another CPU model rounds the floats of one step differently (the shipped
records, made on another machine, differ from a run here after the first sampled token), so a
run is only replayed on the processor that made it (replicas on one database: per CPU model).

Result: {"run": PPOResult.to_json(), "memory": MemoryReport fields, "weights": path | None,
         "stopped": StopReason value}.
Row (one per PPO step): StepStats fields, samples included: [(prompt, completion, r_phi)].
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable, Optional

from lessons.core import records
from lessons.rlhf import recorded

KIND = "ppo"
CODE = recorded.CODE + ("lessons/rlhf/ppo_job.py",)


def _lab(device: str) -> recorded.Lab:
    from lessons import models

    return recorded.Lab(models.load_tiny_gpt(device), models.load_minilm(device))


JOB = records.JobCode(CODE, _lab)
code_version = JOB.version    # sha256 of the files a job runs (recorded.CODE and this module), once per process


def rm_spec(rm, labeler) -> dict:
    """A learner's own reward model as JSON: its head and normalisation buffers (3H + 3 floats, a
    few KB; the frozen encoder is the worker's own copy) and the labeler that judges the win-rate."""
    return {"state": {k: v.tolist() for k, v in rm.state_dict().items()}, "labeler": labeler.kind,
            "word": labeler.word}


def spec(settings: dict, max_seconds: float, rm, fingerprints: dict, threads: int, device: str = "cpu") -> dict:
    """The job's spec: ``rm`` is "one-click" or :func:`rm_spec` of the session's reward model."""
    return JOB.spec(settings, max_seconds, fingerprints, threads, device, rm=rm)


def lab(want_smol: bool = False, device: str = "cpu") -> recorded.Lab:
    """The worker's shared models (loaded once per worker process and device, read-only; SmolLM2
    when a run first needs it)."""
    from lessons import models

    got = JOB.lab(device)
    if want_smol and got.smol is None:
        got.smol = models.load_smollm2(device)
    return got


def trainable_state(policy) -> dict:
    """The weights a run changed: pi_theta's trainable parameters and its value head."""
    return {n: p.detach().cpu().clone() for n, p in policy.named_parameters() if p.requires_grad}


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool],
        weights_to: Optional[Path] = None) -> dict:
    """The PPO page's run: what recorded._ppo trains for these settings, with the page's extras."""
    import torch

    from lessons.rlhf import policy as policy_lib, ppo

    s = spec["settings"]
    lb = lab(want_smol=s["policy"] == "lora", device=spec.get("device", "cpu"))
    torch.manual_seed(s.get("seed", 0))                    # as recorded.run does before its recipe
    cfg = ppo.PPOConfig(**{k: v for k, v in s.items() if k not in ("policy", "evaluate")},
                        max_seconds=spec["max_seconds"])
    rm, labeler = reward(spec, lb)
    pol = lb.policy(s["policy"], cfg.seed)
    tr = ppo.PPOTrainer(pol, rm, labeler, policy_lib.PROMPTS, cfg)
    res = ppo.train(tr, progress=lambda row, r: progress(asdict(tr.history[-1])), should_stop=should_stop)
    path = records.save_weights(spec, len(res.history), trainable_state(pol), weights_to) if res.history else None
    return {"run": res.to_json(), "memory": asdict(policy_lib.memory_report(pol)),
            "weights": path, "stopped": res.stopped.value}


def reward(spec: dict, lb: recorded.Lab):
    """The run's reward model and labeler: the one-click pair, fitted fresh as in a fresh session
    (as recorded._ppo does), or the learner's own from the spec."""
    import torch

    from lessons.rlhf import preferences, reward_model

    if spec["rm"] == "one-click":
        return lb.reward_model(), lb.labeler
    rm = reward_model.RewardModel(lb.encoder.model, lb.encoder.tokenizer)
    rm.load_state_dict({k: torch.tensor(v) for k, v in spec["rm"]["state"].items()})
    return rm, preferences.Labeler(spec["rm"]["labeler"], spec["rm"].get("word", "death"))


def run_hacking(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """The reward-hacking page's run: beta = 0 and the learner's beta, one PPO step of each in
    turn (reward_hacking.run_side_by_side), exactly as recorded._hacking trains them."""
    import torch

    from lessons.rlhf import policy as policy_lib, ppo, reward_hacking

    s = spec["settings"]
    lb = lab(device=spec.get("device", "cpu"))
    torch.manual_seed(s.get("seed", 0))
    rm, labeler = reward(spec, lb)
    cfg = ppo.PPOConfig(steps=s["steps"], lr=s["lr"], beta=s["beta"], max_seconds=spec["max_seconds"], seed=s["seed"])

    def make(c: ppo.PPOConfig) -> ppo.PPOTrainer:
        return ppo.PPOTrainer(lb.policy("tiny", s["seed"]), rm, labeler, policy_lib.PROMPTS, c)

    rounds: list[dict] = []

    def tick(row: dict, run) -> None:
        rounds.append({"step": row["step"], "seconds": row["seconds"],
                       "runs": {str(b): asdict(tr.history[-1]) for b, tr in run.trainers.items()}})
        progress(rounds[-1])
    out = reward_hacking.run_side_by_side(make, cfg, tuple(s["betas"]), progress=tick, should_stop=should_stop)
    return {"runs": {str(b): r.to_json() for b, r in out.items()}, "rounds": rounds,
            "stopped": next(iter(out.values())).stopped.value}


def load_policy(result: dict, base, smol=None, seed: int = 0):
    """The trained policy of a job's result for one session: a private copy of the shared model
    with the run's weights, or None when the weights file is gone."""
    from lessons.rlhf import policy as policy_lib

    state = records.load_weights(result.get("weights"))
    if state is None:
        return None
    pol = (policy_lib.with_lora(smol.model, smol.tokenizer, seed=seed) if smol is not None
           else policy_lib.from_shared(base.model, base.tokenizer, seed=seed))
    need = {n for n, p in pol.named_parameters() if p.requires_grad}
    _, unexpected = pol.load_state_dict(state, strict=False)
    if unexpected or need - state.keys():
        raise ValueError(f"the saved weights do not fit this policy ({len(unexpected)} unexpected)")
    return pol
