"""The DPO page's run as a class-run job (kind ``dpo``; ui/class_runs.py runs it in a worker
process, out of the web server's): DPO on the session's preference pairs, then pi_ref, the DPO
policy and a PPO policy judged the same way (ppo.evaluate_policy on fresh samples of every
prompt against pi_ref's own completions).

Why a job: DPO's epochs and the comparison's PPO run (up to 200 PPO steps) are the longest
training of the RLHF pages; in the web process they held the interpreter lock against every
learner's rerun.

spec (JSON, built by :func:`spec`):
    {"settings": {**recorded.dpo_settings(beta, lr, epochs, seed), "ppo_steps": n (0: no new PPO run)},
     "max_seconds": the DPO phase's cap, "rm": "one-click" | ppo_job.rm_spec(...),
     "pairs": "one-click" | [[prompt, chosen, rejected, source], ...],
     "compare": None | {"weights": path, "beta", "seconds", "steps"} (the session's last PPO run),
     "fingerprints", "code", "threads", "device", "cpu" (records.job_spec)}
A run on the one-click pairs and reward model with no run of the learner's own to compare is the
same for everyone with these settings (shareable); one on the learner's own pairs, reward model
or PPO run is theirs only.

Rows (one per step, numbered on across both phases so that the bar counts the whole job):
    DPO: {"phase": "dpo", "step", "seconds", "loss", "margin", "pair_acc"}
    PPO: {"phase": "ppo", "step": DPO steps + i, "seconds", "reward", "kl", "win_rate"}
Result: {"history": the DPO rows, "ppo_history": the PPO rows, "rows": [{"method", **evaluation,
"seconds"?, "steps"?}] (pi_ref, DPO, then PPO if any), "phase": where the run ended ("dpo" | "ppo"),
"dpo_stopped" and "ppo_stopped": each phase's StopReason value (None: no PPO phase), "stopped": the
job's (the first phase that did not run all its steps: only a job that did is kept as a record),
"steps_planned": the DPO phase's steps, "ppo_steps": the PPO phase's}.

Stop: during DPO, the partly trained DPO policy is judged like a finished one (no PPO run);
during PPO, the comparison has no PPO row (the page says the PPO run was stopped).
"""
from __future__ import annotations

from dataclasses import astuple
from typing import Callable, Optional

from lessons.core import records
from lessons.rlhf import ppo_job

KIND = "dpo"
CODE = ppo_job.CODE + ("lessons/rlhf/dpo_job.py",)
JOB = records.JobCode(CODE)
EVAL_SLACK_S = 120.0     # the three evaluations after training, on a busy machine: part of the job's time cap


def spec(settings: dict, max_seconds: float, rm, pairs, fingerprints: dict, threads: int, device: str = "cpu",
         compare: Optional[dict] = None) -> dict:
    """The job's spec: ``rm`` "one-click" or ppo_job.rm_spec(...); ``pairs`` "one-click" or the
    session's PreferencePairs; ``compare`` the session's last PPO run (see the module doc)."""
    if pairs != "one-click":
        pairs = [list(astuple(p)) for p in pairs]
    return JOB.spec(settings, max_seconds, fingerprints, threads, device, rm=rm, pairs=pairs, compare=compare)


def seconds_cap(settings: dict, max_seconds: float) -> float:
    """The whole job's time cap: the DPO phase's, the comparison's PPO run's and the evaluations."""
    from lessons.rlhf import ppo

    return max_seconds + (ppo.POLICY_DEFAULTS["tiny"]["max_seconds"] if settings["ppo_steps"] else 0) + EVAL_SLACK_S


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """DPO, then the comparison, as the page shows it (see the module doc)."""
    import torch

    from lessons.core.loop import StopReason
    from lessons.rlhf import dpo, policy as policy_lib, ppo, preferences

    s = spec["settings"]
    lb = ppo_job.lab(device=spec.get("device", "cpu"))
    torch.manual_seed(s["seed"])
    rm, labeler = ppo_job.reward(spec, lb)
    pairs = lb.pairs if spec["pairs"] == "one-click" else [preferences.PreferencePair(*p) for p in spec["pairs"]]
    cfg = dpo.DPOConfig(**{k: v for k, v in s.items() if k not in ("eval_at", "ppo_steps")},
                        max_seconds=spec["max_seconds"])
    d_pol = lb.policy("tiny", cfg.seed)
    hist: list[dict] = []

    def dpo_row(row: dict, run) -> None:
        hist.append({"phase": "dpo", **row})
        progress(hist[-1])
    d_res = dpo.train_dpo(d_pol, pairs, cfg, progress=dpo_row, should_stop=should_stop)
    out = {"history": hist, "ppo_history": [], "phase": "dpo", "dpo_stopped": d_res.stopped.value,
           "ppo_stopped": None, "stopped": d_res.stopped.value, "steps_planned": d_res.steps_planned,
           "ppo_steps": s["ppo_steps"]}
    if not hist:
        out["rows"] = []
        return out

    # pi_ref's own completions: what every policy's samples are judged against by the labeler
    yard = ppo.PPOTrainer(lb.policy("tiny", cfg.seed), rm, labeler, policy_lib.PROMPTS, ppo.PPOConfig(steps=1, seed=cfg.seed))
    ref_c = yard.ref_completions
    rows = [{"method": "starting model π_ref", **ppo.evaluate_policy(yard.policy, rm, labeler, ref_c)},
            {"method": f"DPO (β = {cfg.beta})", **ppo.evaluate_policy(d_pol, rm, labeler, ref_c),
             "seconds": round(d_res.train_seconds, 1), "steps": len(hist)}]
    p_row = None
    if s["ppo_steps"] and d_res.stopped is not StopReason.STOPPED:
        out["phase"] = "ppo"
        pcfg = ppo.PPOConfig(**{**ppo.POLICY_DEFAULTS["tiny"], "seed": cfg.seed, "steps": s["ppo_steps"]})
        p_tr = ppo.PPOTrainer(lb.policy("tiny", cfg.seed), rm, labeler, policy_lib.PROMPTS, pcfg)
        t0 = hist[-1]["seconds"]

        def ppo_row(row: dict, run) -> None:
            out["ppo_history"].append({"phase": "ppo", "step": len(hist) + row["step"], "seconds": t0 + row["seconds"],
                                       **{k: row[k] for k in ("reward", "kl", "win_rate")}})
            progress(out["ppo_history"][-1])
        p_res = ppo.train(p_tr, progress=ppo_row, should_stop=should_stop)
        out["ppo_stopped"] = p_res.stopped.value
        if d_res.stopped is StopReason.STEPS:
            out["stopped"] = p_res.stopped.value
        if p_res.stopped is not StopReason.STOPPED and p_res.history:
            p_row = (p_tr.policy, p_res.seconds, len(p_res.history), pcfg.beta)
    elif spec.get("compare") and d_res.stopped is not StopReason.STOPPED:
        c = spec["compare"]
        pol = ppo_job.load_policy({"weights": c["weights"]}, lb.base, seed=cfg.seed)
        if pol is not None:
            p_row = (pol, c["seconds"], c["steps"], c["beta"])
    if p_row is not None:
        pol, secs, steps, beta = p_row
        rows.append({"method": f"PPO (β = {beta})", **ppo.evaluate_policy(pol, rm, labeler, ref_c),
                     "seconds": round(secs, 1), "steps": steps})
    out["rows"] = rows
    return out
