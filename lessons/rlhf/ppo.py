"""Proximal Policy Optimization for a language model -- the RL step of RLHF, written out.

One PPO *step* (Schulman et al. 2017; Ziegler et al. 2019; Ouyang et al. 2022):

1. Rollout: sample completions y ~ pi_theta(. | x) for a batch of prompts x.
2. Score: r_phi(x, y) from the reward model, and per token the KL estimate
       KL_t = log pi_theta(a_t | s_t) - log pi_ref(a_t | s_t)
   The per-token reward is  r_t = -beta * KL_t, plus r_phi(x, y) on the last token, so the
   return of a completion is  r_phi(x, y) - beta * sum_t KL_t.
3. Advantages with GAE(gamma, lambda) from the value head V(s_t):
       delta_t = r_t + gamma V(s_{t+1}) - V(s_t)
       A_t     = delta_t + gamma lambda A_{t+1}
4. A few epochs of the clipped objective on that batch:
       ratio_t = pi_theta(a_t | s_t) / pi_theta_old(a_t | s_t)
       L_clip  = -E[ min(ratio_t A_t, clip(ratio_t, 1 - eps, 1 + eps) A_t) ]
   plus a (clipped) value loss  c_v * E[(V(s_t) - R_t)^2].

Without the KL term (beta = 0) nothing ties pi_theta to fluent text: it climbs whatever the
reward model happens to like, the classic *reward hacking* (see reward_hacking.py).
Pure PyTorch (no streamlit). Shapes: B prompts, T completion tokens.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import torch

from lessons.core.loop import Progress, ShouldStop, StopReason, run_loop
from lessons.rlhf.policy import Policy, Rollout, token_stats
from lessons.rlhf.preferences import Labeler, reads_like_language
from lessons.rlhf.reward_model import RewardModel


# The PPO page's defaults per policy, chosen so that a run shows its effect within its STEPS
# (the seconds are a safety net). The tiny GPT's: a beta strong enough that the policy cannot game
# the reward model, a learning rate that reaches the labeler's 0.8 win-rate well inside the steps
# (tests/claims/test_rlhf_outcomes.py runs exactly these). SmolLM2 + LoRA's: one SmolLM2 step costs
# about twenty tiny-GPT steps, so a short run with a half-size batch; SmolLM2 writes fluent text
# from the start, so the reward model (trained on tiny-GPT lines) has less to find and big steps
# overshoot it. Measured outcomes: assets/measured/outcomes.json (bench/outcomes.py --save).
POLICY_DEFAULTS = {"tiny": dict(beta=0.3, lr=1e-3, steps=60, batch_size=32, max_seconds=300),
                   "lora": dict(beta=0.1, lr=5e-4, steps=20, batch_size=16, max_seconds=900)}
_TINY = POLICY_DEFAULTS["tiny"]


@dataclass
class PPOConfig:
    """One PPO run. The defaults ARE the PPO page's tiny-GPT defaults (POLICY_DEFAULTS): the page,
    the benches and the tests read one source."""

    steps: int = _TINY["steps"]             # PPO iterations (rollout + update)
    batch_size: int = _TINY["batch_size"]   # prompts per rollout (B)
    max_new_tokens: int = 12      # T: a completion ends at a newline or after T tokens
    ppo_epochs: int = 4           # K passes over each batch
    n_minibatches: int = 2
    lr: float = _TINY["lr"]
    beta: float = _TINY["beta"]             # KL coefficient
    gamma: float = 1.0            # discount (1: the reward arrives at the end of the text)
    lam: float = 0.95             # GAE lambda
    clip_eps: float = 0.2         # PPO clip epsilon
    vf_coef: float = 0.1          # weight of the value loss
    max_grad_norm: float = 1.0
    max_seconds: float = _TINY["max_seconds"]   # a safety bound: the STEPS define a run
    target_win_rate: float = 0.8  # for steps_to_target (running mean of 3 steps)
    seed: int = 0

    def __post_init__(self):
        if not (1 <= self.steps <= 2000 and 1 <= self.batch_size <= 256 and 1 <= self.max_new_tokens <= 64):
            raise ValueError("steps 1-2000, batch 1-256 and max_new_tokens 1-64, please")
        if self.beta < 0 or not (0 < self.clip_eps < 1) or not (0 <= self.lam <= 1) or self.lr <= 0:
            raise ValueError("beta >= 0, 0 < clip_eps < 1, 0 <= lambda <= 1 and lr > 0")


# --------------------------------------------------------------------------- the maths
def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalise advantages to mean 0, std 1 over the real tokens (a standard PPO trick)."""
    mu = masked_mean(x, mask)
    var = masked_mean((x - mu) ** 2, mask)
    return (x - mu) * torch.rsqrt(var + eps) * mask


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float):
    """Generalized Advantage Estimation. (B, T) each -> advantages A_t, returns R_t = A_t + V_t.
    Padding after the end of a completion is masked: V(s_{T_i+1}) = 0 (episode over)."""
    B, T = rewards.shape
    values = values * mask
    A = torch.zeros_like(rewards)
    last = torch.zeros(B, dtype=rewards.dtype, device=rewards.device)
    for t in reversed(range(T)):
        v_next = values[:, t + 1] if t + 1 < T else torch.zeros_like(last)
        delta = rewards[:, t] + gamma * v_next - values[:, t]      # delta_t
        last = (delta + gamma * lam * last) * mask[:, t]            # A_t
        A[:, t] = last
    return A, (A + values) * mask


def clipped_policy_loss(logp: torch.Tensor, logp_old: torch.Tensor, A: torch.Tensor, mask: torch.Tensor,
                        clip_eps: float):
    """L_clip = -E[min(ratio A, clip(ratio, 1-eps, 1+eps) A)]; also the share of clipped tokens."""
    ratio = torch.exp(logp - logp_old)                                         # (B, T)
    unclipped = ratio * A
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * A
    loss = -masked_mean(torch.minimum(unclipped, clipped), mask)
    clipfrac = masked_mean((clipped < unclipped).float(), mask)   # where the clip was active
    return loss, ratio, clipfrac


def clipped_value_loss(V: torch.Tensor, V_old: torch.Tensor, R: torch.Tensor, mask: torch.Tensor,
                       clip_eps: float) -> torch.Tensor:
    V_clip = V_old + torch.clamp(V - V_old, -clip_eps, clip_eps)
    return 0.5 * masked_mean(torch.maximum((V - R) ** 2, (V_clip - R) ** 2), mask)


def per_token_rewards(score: torch.Tensor, kl_t: torch.Tensor, mask: torch.Tensor, beta: float) -> torch.Tensor:
    """r_t = -beta KL_t, and r_phi(x, y) added on each completion's last real token."""
    r = -beta * kl_t * mask                                              # (B, T)
    last = (mask.sum(1) - 1).clamp(min=0).long()                         # (B,)
    r[torch.arange(len(score)), last] += score
    return r


# --------------------------------------------------------------------------- diagnostics
def distinct_n(texts: list[str], n: int) -> float:
    """Unique word n-grams / all word n-grams over a batch (1 = every n-gram different)."""
    grams = []
    for t in texts:
        w = t.lower().split()
        grams += [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def empty_share(texts: list[str]) -> float:
    """Share of completions without a single letter or digit (an empty or punctuation-only line)."""
    return sum(not any(ch.isalnum() for ch in t) for t in texts) / len(texts) if texts else 0.0


def readable_share(texts: list[str]) -> float:
    """Share of completions that read like a line of language (the reader labeler's check)."""
    return sum(map(reads_like_language, texts)) / len(texts) if texts else 0.0


@dataclass
class StepStats:
    step: int
    seconds: float          # wall time since the run started (training work only)
    reward: float           # mean r_phi(x, y), standardised
    objective: float        # mean r_phi - beta * sum_t KL_t
    kl: float               # mean over completions of sum_t KL_t (nats)
    entropy: float          # mean per-token entropy of pi_theta (nats)
    win_rate: float         # labeler prefers pi_theta's completion over pi_ref's (ties 1/2)
    distinct_1: float
    distinct_2: float
    ppl_ref: float          # perplexity of the completions under pi_ref
    mean_len: float         # completion length in tokens
    empty_frac: float       # share of completions with no word at all (an empty line)
    readable: float         # share that reads like language (preferences.reads_like_language)
    clipfrac: float
    policy_loss: float
    value_loss: float
    samples: list = field(default_factory=list)  # [(prompt, completion, r_phi)]

    def row(self) -> dict:
        """The step's numbers (no samples): one history row of the run."""
        return {k: v for k, v in asdict(self).items() if k != "samples"}


@dataclass
class PPOResult:
    history: list[StepStats]
    start_samples: list
    stopped: StopReason     # why the run ended (StopReason.describe() is what a page shows)
    steps_to_target: Optional[int]
    seconds_to_target: Optional[float]
    seconds: float          # training time (the PPO steps only)

    def rows(self) -> list[dict]:
        return [s.row() for s in self.history]

    def to_json(self) -> dict:
        """The whole result as plain JSON data (a recorded run: lessons.core.records)."""
        return {"history": [asdict(s) for s in self.history], "start_samples": [list(x) for x in self.start_samples],
                "stopped": self.stopped.value, "steps_to_target": self.steps_to_target,
                "seconds_to_target": self.seconds_to_target, "seconds": self.seconds}

    @classmethod
    def from_json(cls, d: dict) -> "PPOResult":
        hist = [StepStats(**{**s, "samples": [tuple(x) for x in s["samples"]]}) for s in d["history"]]
        return cls(hist, [tuple(x) for x in d["start_samples"]], StopReason(d["stopped"]), d["steps_to_target"],
                   d["seconds_to_target"], d["seconds"])


class PPOTrainer:
    """Holds pi_theta (with value head), the optimizer and the run's history."""

    def __init__(self, policy: Policy, reward_model: RewardModel, labeler: Labeler, prompts: list[str],
                 config: PPOConfig, n_ref_samples: int = 4):
        if not prompts:
            raise ValueError("PPO needs at least one prompt.")
        self.policy, self.rm, self.labeler, self.cfg = policy, reward_model, labeler, config
        self.prompts = list(prompts)
        self.rng = random.Random(config.seed)
        self.gen = torch.Generator().manual_seed(config.seed)
        self.opt = torch.optim.Adam(policy.trainable_parameters(), lr=config.lr)
        self.history: list[StepStats] = []
        self.start_samples: list = []
        self.elapsed = 0.0
        # pi_ref's own completions, the yardstick for the labeler's win-rate.
        flat = [p for p in self.prompts for _ in range(n_ref_samples)]
        ro = policy.sample(flat, config.max_new_tokens, generator=self.gen, use_reference=True)
        self.ref_completions: dict[str, list[str]] = {}
        for p, c in zip(flat, ro.completions):
            self.ref_completions.setdefault(p, []).append(c)

    def win_rate(self, prompts: list[str], completions: list[str]) -> float:
        wins = [sum(self.labeler.prefers(c, r) for r in self.ref_completions[p]) / len(self.ref_completions[p])
                for p, c in zip(prompts, completions)]
        return sum(wins) / len(wins)

    def _batch_prompts(self) -> list[str]:
        B = self.cfg.batch_size
        reps = self.prompts * (B // len(self.prompts)) + self.rng.sample(self.prompts, B % len(self.prompts)) \
            if B >= len(self.prompts) else self.rng.sample(self.prompts, B)
        return reps

    def step(self) -> StepStats:
        cfg, pol = self.cfg, self.policy
        t0 = time.time()
        prompts = self._batch_prompts()
        # 1. rollout with pi_theta_old (= current weights, no gradient)
        ro: Rollout = pol.sample(prompts, cfg.max_new_tokens, generator=self.gen)
        mask = ro.action_mask.float()                                               # (B, T)
        with torch.no_grad():
            old = token_stats(pol.lm, ro.input_ids, ro.attention_mask, ro.prompt_len, with_hidden=True)
            V_old = pol.value(old.hidden)                                           # (B, T)
            with pol.reference() as ref_model:
                ref = token_stats(ref_model, ro.input_ids, ro.attention_mask, ro.prompt_len)
            # 2. rewards: r_phi at the end, -beta * KL_t on every token
            score = self.rm.score(prompts, ro.completions).to(mask.device)          # (B,)
            kl_t = (old.logp - ref.logp) * mask                                     # (B, T)
            rewards = per_token_rewards(score, kl_t, mask, cfg.beta)
            # 3. advantages
            A, R = gae(rewards, V_old, mask, cfg.gamma, cfg.lam)
            A = whiten(A, mask)
        # 4. K epochs of the clipped objective on minibatches of this batch
        B = len(prompts)
        n_mb = max(1, min(cfg.n_minibatches, B))
        pl_sum = vl_sum = cf_sum = 0.0
        n_upd = 0
        for _ in range(cfg.ppo_epochs):
            perm = torch.randperm(B, generator=self.gen)
            for idx in perm.chunk(n_mb):
                new = token_stats(pol.lm, ro.input_ids[idx], ro.attention_mask[idx], ro.prompt_len,
                                  with_hidden=True)
                V = pol.value(new.hidden)
                m = mask[idx]
                pl, _ratio, cf = clipped_policy_loss(new.logp, old.logp[idx], A[idx], m, cfg.clip_eps)
                vl = clipped_value_loss(V, V_old[idx], R[idx], m, cfg.clip_eps)
                loss = pl + cfg.vf_coef * vl
                self.opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(pol.trainable_parameters(), cfg.max_grad_norm)
                self.opt.step()
                pl_sum, vl_sum, cf_sum, n_upd = pl_sum + pl.item(), vl_sum + vl.item(), cf_sum + cf.item(), n_upd + 1
        self.elapsed += time.time() - t0
        kl_seq = kl_t.sum(1)                                                        # (B,)
        n_tok = mask.sum().clamp(min=1)
        samples = [(p, c, float(s)) for p, c, s in zip(prompts[:6], ro.completions[:6], score[:6])]
        stats = StepStats(
            step=len(self.history) + 1, seconds=round(self.elapsed, 2),
            reward=float(score.mean()), objective=float((score - cfg.beta * kl_seq).mean()),
            kl=float(kl_seq.mean()), entropy=float((old.entropy * mask).sum() / n_tok),
            win_rate=self.win_rate(prompts, ro.completions),
            distinct_1=distinct_n(ro.completions, 1), distinct_2=distinct_n(ro.completions, 2),
            ppl_ref=float(math.exp(min(50.0, float(-(ref.logp * mask).sum() / n_tok)))),
            mean_len=float(mask.sum(1).mean()), empty_frac=empty_share(ro.completions),
            readable=readable_share(ro.completions), clipfrac=cf_sum / n_upd,
            policy_loss=pl_sum / n_upd, value_loss=vl_sum / n_upd, samples=samples)
        if not self.start_samples:
            self.start_samples = samples
        self.history.append(stats)
        return stats

    def result(self, stopped: StopReason) -> PPOResult:
        s2t, sec2t = self.steps_to_target()
        return PPOResult(self.history, self.start_samples, stopped, s2t, sec2t, self.elapsed)

    def steps_to_target(self) -> tuple[Optional[int], Optional[float]]:
        """First step where the running mean (3 steps) of the win-rate reaches the target."""
        w = [s.win_rate for s in self.history]
        for i in range(len(w)):
            if sum(w[max(0, i - 2):i + 1]) / len(w[max(0, i - 2):i + 1]) >= self.cfg.target_win_rate and i >= 2:
                return self.history[i].step, self.history[i].seconds
        return None, None


def train(trainer: PPOTrainer, progress: Progress = None, should_stop: ShouldStop = None) -> PPOResult:
    """PPO steps on the shared run loop (lessons.core.loop) until the trainer has cfg.steps
    steps, cfg.max_seconds have passed, or should_stop() says so. ``progress(row, run)`` is
    called after every step with the step's numbers (StepStats.row(); the page draws its live
    charts there, the samples are in ``trainer.history[-1]``)."""
    cfg = trainer.cfg

    def step(i: int) -> dict:
        return trainer.step().row()      # rollout, r_phi and KL_t, GAE, K epochs of L_clip

    run = run_loop(step, steps=max(cfg.steps - len(trainer.history), 0), max_seconds=cfg.max_seconds,
                   progress=progress, should_stop=should_stop)
    return trainer.result(run.stopped)


@torch.no_grad()
def evaluate_policy(policy: Policy, reward_model: RewardModel, labeler: Labeler,
                    ref_completions: dict[str, list[str]], n_per_prompt: int = 2, max_new_tokens: int = 12,
                    seed: int = 1234) -> dict:
    """Sample from pi_theta on every prompt of ``ref_completions`` and report the figures
    PPO and DPO are compared on: mean r_phi, KL(pi_theta || pi_ref) per completion (nats,
    Monte-Carlo over the samples), labeler win-rate against pi_ref's completions, diversity
    and perplexity under pi_ref."""
    prompts = [p for p in ref_completions for _ in range(n_per_prompt)]
    g = torch.Generator().manual_seed(seed)
    ro = policy.sample(prompts, max_new_tokens, generator=g)
    mask = ro.action_mask.float()
    cur = token_stats(policy.lm, ro.input_ids, ro.attention_mask, ro.prompt_len)
    with policy.reference() as ref_model:
        ref = token_stats(ref_model, ro.input_ids, ro.attention_mask, ro.prompt_len)
    kl = ((cur.logp - ref.logp) * mask).sum(1)
    score = reward_model.score(prompts, ro.completions)
    wins = [sum(labeler.prefers(c, r) for r in ref_completions[p]) / len(ref_completions[p])
            for p, c in zip(prompts, ro.completions)]
    n_tok = mask.sum().clamp(min=1)
    return {"reward": float(score.mean()), "kl": float(kl.mean()), "win_rate": sum(wins) / len(wins),
            "distinct_2": distinct_n(ro.completions, 2), "mean_len": float(mask.sum(1).mean()),
            "empty_frac": empty_share(ro.completions), "readable": readable_share(ro.completions),
            "ppl_ref": float(math.exp(min(50.0, float(-(ref.logp * mask).sum() / n_tok)))),
            "samples": list(zip(prompts[::n_per_prompt][:6], ro.completions[::n_per_prompt][:6]))}
