"""Reward hacking: what the KL penalty is for.

The reward model r_phi is only a *learned proxy* of the labeler, trained on a few hundred
pairs of ordinary text. PPO maximises it relentlessly. With beta = 0 nothing stops pi_theta
from wandering far from fluent language into whatever odd text r_phi happens to over-score
(repeated "good" words, broken lines): the proxy reward keeps rising while the text stops
being language. Symptoms, all measured each step:

* the labeler's own win-rate against pi_ref falls (the reward model is fooled, the labeler
  -- the "reader" of lessons/preferences.py -- is not),
* KL(pi_theta || pi_ref) grows without bound,
* distinct-n (unique n-grams / all n-grams in a batch) falls: the outputs collapse,
* the length runs to the token limit (or collapses to empty lines),
* perplexity of the completions under pi_ref rises: the reference finds them unnatural.

With beta > 0 every token pays beta * KL_t, so the policy moves only as far as the reward
gain is worth. This module runs two PPO trainings (beta = 0 and beta > 0) *interleaved*, a
step of each in turn, so a page can draw both on one live chart. Pure Python (no streamlit).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from lessons.rlhf.ppo import PPOConfig, PPOResult, PPOTrainer, StepStats

# The page's defaults; tests/unit/test_w3_outcomes.py runs exactly these and checks what the
# page says happens (beta = 0 hacks, the penalised run stays fluent).
DEFAULTS = dict(beta=0.2, steps=45, lr=1e-3, seed=0)


def run_side_by_side(make_trainer: Callable[[PPOConfig], PPOTrainer], base: PPOConfig, betas: tuple[float, ...],
                     progress: Optional[Callable[[float, StepStats, int], None]] = None,
                     should_stop: Optional[Callable[[], bool]] = None) -> dict[float, PPOResult]:
    """Train one policy per beta, alternating steps. Each run is bounded by base.steps and
    base.max_seconds (its own training time). ``make_trainer(cfg)`` builds a fresh
    trainer (fresh policy copy) for a config. Returns {beta: PPOResult}."""
    trainers = {b: make_trainer(dataclasses.replace(base, beta=b)) for b in betas}
    stopped = {b: "steps" for b in betas}
    active = list(betas)
    while active:
        if should_stop and should_stop():
            for b in active:
                stopped[b] = "stopped by you"
            break
        for b in list(active):
            tr = trainers[b]
            if len(tr.history) >= tr.cfg.steps:
                active.remove(b)
                continue
            if tr.elapsed >= tr.cfg.max_seconds:
                stopped[b] = "seconds"
                active.remove(b)
                continue
            stats = tr.step()
            if progress:
                progress(b, stats, tr.cfg.steps)
    out = {}
    for b, tr in trainers.items():
        s2t, sec2t = tr.steps_to_target()
        out[b] = PPOResult(tr.history, tr.start_samples, stopped[b], s2t, sec2t, tr.elapsed)
    return out


def verdict(result: PPOResult) -> dict:
    """Start-versus-end symptoms of a run (means of the first and last 3 steps)."""
    h = result.history
    if not h:
        return {}

    def avg(xs, key):
        return sum(getattr(s, key) for s in xs) / len(xs)

    first, last = h[:3], h[-3:]
    keys = ("reward", "kl", "distinct_2", "ppl_ref", "win_rate", "entropy", "mean_len", "empty_frac", "readable")
    return {k: (avg(first, k), avg(last, k)) for k in keys}


# (key, label, format) of each symptom in the start -> end table.
SYMPTOMS = [
    ("reward", "reward model r_φ (the proxy)", "{:+.2f}"),
    ("win_rate", "labeler win-rate vs π_ref (the truth; ½ = no better)", "{:.2f}"),
    ("kl", "KL to π_ref (nats per completion)", "{:.1f}"),
    ("distinct_2", "distinct-2 (1 = no repeated word pair)", "{:.2f}"),
    ("readable", "lines that read like language", "{:.0%}"),
    ("mean_len", "length (tokens)", "{:.1f}"),
    ("empty_frac", "empty lines", "{:.0%}"),
    ("ppl_ref", "perplexity under π_ref", "{:,.0f}"),
]


def symptom_rows(verdicts: dict[str, dict]) -> list[dict]:
    """One row per symptom, one column per run, each cell "start → end" (from verdict())."""
    rows = []
    for key, label, fmt in SYMPTOMS:
        row = {"symptom": label}
        for run, v in verdicts.items():
            if v and key in v:
                row[run] = f"{fmt.format(v[key][0])} → {fmt.format(v[key][1])}"
        rows.append(row)
    return rows
