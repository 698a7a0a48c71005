"""Reward hacking: what the KL penalty is for.

The reward model r_phi is only a *learned proxy* of the labeler, trained on a few hundred
pairs of ordinary text. PPO maximises it relentlessly. With beta = 0 nothing stops pi_theta
from wandering far from fluent language into whatever odd text r_phi happens to over-score
(repeated "good" words, broken lines): the proxy reward keeps rising while the text stops
being language. Symptoms, all measured each step:

* the labeler's own win-rate against pi_ref falls (the reward model is fooled, the labeler
  -- the "reader" of lessons/rlhf/preferences.py -- is not),
* KL(pi_theta || pi_ref) climbs far above a penalised run's (nothing holds it near pi_ref),
* distinct-n (unique n-grams / all n-grams in a batch) falls: the outputs collapse,
* the length runs to the token limit (or collapses to empty lines),
* perplexity of the completions under pi_ref jumps while the lines break up (the reference
  finds them unnatural); once they are one word repeated it can fall again, because a language
  model predicts a repetition well after a few repeats.

With beta > 0 every token pays beta * KL_t, so the policy moves only as far as the reward
gain is worth. This module runs two PPO trainings (beta = 0 and beta > 0) *interleaved*, a
step of each in turn, so a page can draw both on one live chart. Pure Python (no streamlit).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Optional

from lessons.core.loop import Run, ShouldStop, run_loop
from lessons.rlhf.ppo import PPOConfig, PPOResult, PPOTrainer

# The page's defaults; tests/claims/test_rlhf_outcomes.py runs exactly these and checks what the
# page says happens (beta = 0 hacks, the penalised run stays fluent).
DEFAULTS = dict(beta=0.3, steps=60, lr=1e-3, seed=0)


@dataclass
class SideBySide(Run):
    """The interleaved runs as one run of the shared loop (lessons.core.loop): round i is PPO
    step i of every beta's trainer, in the order of ``betas``. Each trainer keeps its own
    history; :meth:`rows` gives them as {beta: [StepStats.row(), ...]}."""

    trainers: dict = field(default_factory=dict)     # {beta: PPOTrainer}

    def rows(self) -> dict[float, list[dict]]:
        return {b: [s.row() for s in tr.history] for b, tr in self.trainers.items()}


def run_side_by_side(make_trainer: Callable[[PPOConfig], PPOTrainer], base: PPOConfig, betas: tuple[float, ...],
                     progress: Optional[Callable[[dict, SideBySide], None]] = None,
                     should_stop: ShouldStop = None) -> dict[float, PPOResult]:
    """Train one policy per beta, alternating steps, for base.steps rounds; the runs share
    one time budget of base.max_seconds per run (len(betas) * base.max_seconds in all).
    ``make_trainer(cfg)`` builds a fresh trainer (fresh policy copy) for a config.
    ``progress(row, run)`` after every round ({"step", "seconds"}; ``run.rows()`` holds every
    beta's steps so far). Returns {beta: PPOResult}, each with the one StopReason of the run."""
    run = SideBySide(base.steps, base.max_seconds * len(betas),
                     trainers={b: make_trainer(dataclasses.replace(base, beta=b)) for b in betas})

    def step(i: int) -> dict:
        for tr in run.trainers.values():
            tr.step()                   # one PPO step (ppo.PPOTrainer.step) of each beta in turn
        return {}

    run_loop(step, steps=run.steps_planned, max_seconds=run.max_seconds, progress=progress,
             should_stop=should_stop, run=run)
    return {b: tr.result(run.stopped) for b, tr in run.trainers.items()}


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
