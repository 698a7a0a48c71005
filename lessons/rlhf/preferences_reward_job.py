"""The reward model r_phi of the RLHF pages as a class-run job (kind ``preferences-reward``;
ui/class_runs.py runs it in a worker process, out of the web server's): r_phi trained on a
session's preference pairs (the preferences page's Train), or the pages' default pipeline, where
the simulated labeler first labels the tiny GPT's completions (the one click of the PPO, DPO and
reward-hacking pages, and the preferences page's "build it live").

Why a job: r_phi's full-batch epochs are Python-heavy small steps (a few hundred Adam updates of a
385-number head); in the web process they held the interpreter lock against every learner's
rerun. The run is short, so ui/class_runs.QUICK lets any free worker take it before the longer
runs it serves: a learner does not wait a whole PPO run for it.

spec (JSON, built by :func:`spec`):
    {"settings": {"epochs", "seed"} (and, to simulate the pairs, recorded.ONE_CLICK's fields "labeler",
     "n_pairs", "rm_seed", with "word" for the 'avoid' labeler), "max_seconds": float,
     "pairs": "simulate" | [[prompt, chosen, rejected, source], ...],
     "fingerprints", "code", "threads", "device", "cpu" (records.job_spec)}
The default pipeline (``pairs="simulate"``) is the same for everyone with its settings (shareable,
recorded); a learner's own clicked or ranked pairs are theirs only (the page does not share them).

Rows: the measured epochs of RMTrainResult.curve as they happen: {"step" (the epoch), "seconds",
"loss", "train_acc", "test_acc"} (the first epoch, every 10th and the last).
Result: {"state": r_phi's head and normalisation buffers {name: nested list} (None when stopped
before its first epoch), "curve": the measured epochs (the last one where the run ended),
"steps_done", "steps_planned", "seconds", "train_acc", "test_acc", "n_train", "n_test",
"pairs_used": how many pairs it trained on, "stopped": StopReason value} and, for
``pairs="simulate"``, "pairs" (as in the spec) and "labeling": {"groups", "ties_skipped"}.

Stop: r_phi keeps what it learned so far, standardised on the training texts like a finished one
(reward_model.finish_training), as it did when it trained in the page.
"""
from __future__ import annotations

from dataclasses import astuple
from typing import Callable

from lessons.core import records
from lessons.rlhf import ppo_job, recorded

KIND = "preferences-reward"
CODE = recorded.CODE + ("lessons/rlhf/preferences_reward_job.py",)
MAX_SECONDS = 30.0       # reward_model.fit_on_pairs's seconds cap (a safety net: the epochs define the run)
LABEL_SLACK_S = 90.0     # the simulated labeling before it, on a busy machine: part of the job's time cap


JOB = records.JobCode(CODE)


def spec(settings: dict, pairs, fingerprints: dict, threads: int, device: str = "cpu") -> dict:
    """The job's spec: ``pairs`` "simulate" (the settings' labeler labels n_pairs pairs first) or
    the session's PreferencePairs."""
    if pairs != "simulate":
        pairs = [list(astuple(p)) for p in pairs]
    cap = MAX_SECONDS + (LABEL_SLACK_S if pairs == "simulate" else 0.0)
    return JOB.spec(settings, cap, fingerprints, threads, device, pairs=pairs)


def state_of(rm) -> dict:
    """r_phi's trained numbers as JSON: its head and normalisation buffers (the frozen encoder is
    every process's own copy)."""
    return {k: v.tolist() for k, v in rm.state_dict().items()}


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Label (for ``pairs="simulate"``), then fit r_phi as the page did (reward_model.fit_on_pairs:
    ~20% of the pairs held out by prompt, full-batch Adam on the Bradley-Terry loss)."""
    from lessons.rlhf import preferences, reward_model

    s = spec["settings"]
    lb = ppo_job.lab(device=spec.get("device", "cpu"))   # the worker's one tiny GPT and MiniLM, as PPO's and DPO's
    out: dict = {}
    if spec["pairs"] == "simulate":
        labeler = preferences.Labeler(s["labeler"], s.get("word", preferences.Labeler.word))
        got = preferences.simulate_with_model(lb.base.model, lb.base.tokenizer, labeler, n_pairs=s["n_pairs"],
                                              seed=s["seed"])
        pairs = list(got.pairs)
        out["pairs"] = [list(astuple(p)) for p in pairs]
        out["labeling"] = {"groups": got.groups, "ties_skipped": got.ties_skipped}
    else:
        pairs = [preferences.PreferencePair(*p) for p in spec["pairs"]]

    def tick(row: dict, run) -> None:
        if "train_acc" in row:           # the measured epochs: what the page draws
            progress(dict(row))
    rm, res = reward_model.fit_on_pairs(lb.encoder.model, lb.encoder.tokenizer, pairs, seed=s.get("rm_seed", s["seed"]),
                                        epochs=s["epochs"], progress=tick, should_stop=should_stop)
    out.update(state=state_of(rm) if res.history else None, curve=res.curve, steps_done=res.steps_done,
               steps_planned=res.steps_planned, seconds=res.seconds, train_acc=res.train_acc,
               test_acc=res.test_acc, n_train=res.n_train, n_test=res.n_test, pairs_used=len(pairs),
               stopped=res.stopped.value)
    return out


def load(result: dict, encoder, tokenizer):
    """A finished job's r_phi and its run (reward_model.RMTrainResult, its history the measured
    epochs) on this process's frozen encoder; (None, None) when it stopped before its first epoch."""
    import torch

    from lessons.core.loop import StopReason
    from lessons.rlhf import reward_model

    if result.get("state") is None:
        return None, None
    rm = reward_model.RewardModel(encoder, tokenizer)
    rm.load_state_dict({k: torch.tensor(v) for k, v in result["state"].items()})
    res = reward_model.RMTrainResult(result["steps_planned"], MAX_SECONDS, history=list(result["curve"]),
                                     seconds=result["seconds"], stopped=StopReason(result["stopped"]),
                                     train_acc=result["train_acc"], test_acc=result["test_acc"],
                                     n_train=result["n_train"], n_test=result["n_test"])
    return rm, res
