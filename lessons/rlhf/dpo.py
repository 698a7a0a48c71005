"""Direct Preference Optimization (Rafailov et al. 2023): RLHF without a reward model or RL.

The KL-regularised RLHF objective  max E[r(x, y)] - beta KL(pi_theta || pi_ref)  has a closed
form optimum, pi*(y|x) ∝ pi_ref(y|x) exp(r(x, y) / beta). Turned around, every policy defines
an *implicit reward*

    r_theta(x, y) = beta * (log pi_theta(y|x) - log pi_ref(y|x))

and plugging it into the Bradley-Terry likelihood of the preference pairs gives a plain
classification loss on the policy itself:

    L_DPO = -E[ log sigmoid( beta * ( (log pi_theta(y_w|x) - log pi_ref(y_w|x))
                                     - (log pi_theta(y_l|x) - log pi_ref(y_l|x)) ) ) ]

No sampling during training, no value head, no reward model: just forward passes on the
chosen and rejected completions. Pure PyTorch (no streamlit).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lessons.core.loop import Progress, Run, ShouldStop, run_loop
from lessons.rlhf.policy import Policy, encode_pairs, token_stats
from lessons.rlhf.preferences import PreferencePair


def sequence_logp(model, input_ids, attention_mask, action_mask, prompt_len) -> torch.Tensor:
    """log pi(y | x) = sum_t log pi(y_t | x, y_<t) over the completion tokens. -> (B,)"""
    stats = token_stats(model, input_ids, attention_mask, prompt_len)
    return (stats.logp * action_mask).sum(1)


def dpo_loss(pi_logp_w: torch.Tensor, pi_logp_l: torch.Tensor, ref_logp_w: torch.Tensor,
             ref_logp_l: torch.Tensor, beta: float):
    """The DPO loss and the implicit rewards beta * log(pi_theta / pi_ref) of y_w and y_l."""
    r_w = beta * (pi_logp_w - ref_logp_w)
    r_l = beta * (pi_logp_l - ref_logp_l)
    loss = -F.logsigmoid(r_w - r_l).mean()
    return loss, r_w.detach(), r_l.detach()


@dataclass
class DPOConfig:
    beta: float = 0.1
    lr: float = 1e-4              # small: a hot lr lowers the loss but drifts from pi_ref for no better win-rate
    batch_size: int = 32
    epochs: int = 3
    max_steps: int = 60
    max_seconds: float = 60.0
    seed: int = 0

    def __post_init__(self):
        if self.beta <= 0 or self.lr <= 0 or not (1 <= self.batch_size <= 512) or self.max_steps < 1:
            raise ValueError("beta > 0, lr > 0, 1 <= batch <= 512 and max_steps >= 1")


@dataclass
class DPOResult(Run):
    """A DPO run (lessons.core.loop.Run): one history row per step, {"step", "seconds",
    "loss", "margin", "pair_acc"}. ``train_seconds`` counts the DPO steps only (not what a page
    draws in between), the figure compared with PPO's training time."""

    train_seconds: float = 0.0


def _batch(policy: Policy, pairs: list[PreferencePair]):
    prompts = [p.prompt for p in pairs]
    w = encode_pairs(policy.tokenizer, prompts, [p.chosen for p in pairs], policy.pad_id)
    l = encode_pairs(policy.tokenizer, prompts, [p.rejected for p in pairs], policy.pad_id)
    return w, l


def dpo_step(policy: Policy, opt: torch.optim.Optimizer, pairs: list[PreferencePair], beta: float) -> dict:
    """One gradient step of DPO on a batch of pairs (the reference is never updated)."""
    (iw, aw, mw, Pw), (il, al, ml, Pl) = _batch(policy, pairs)   # (B, P+T) ids and masks, (B, T) action masks
    dev = next(policy.lm.parameters()).device
    iw, aw, mw, il, al, ml = (t.to(dev) for t in (iw, aw, mw, il, al, ml))
    with policy.reference() as ref:                               # pi_ref: no gradient, never updated
        ref_w = sequence_logp(ref, iw, aw, mw, Pw)                # log pi_ref(y_w|x), (B,)
        ref_l = sequence_logp(ref, il, al, ml, Pl)                # log pi_ref(y_l|x), (B,)
    pi_w = sequence_logp(policy.lm, iw, aw, mw, Pw)               # log pi_theta(y_w|x), (B,)
    pi_l = sequence_logp(policy.lm, il, al, ml, Pl)               # log pi_theta(y_l|x), (B,)
    loss, r_w, r_l = dpo_loss(pi_w, pi_l, ref_w, ref_l, beta)    # scalar; implicit rewards (B,) each
    opt.zero_grad()
    loss.backward()                                               # dL_DPO/dtheta
    torch.nn.utils.clip_grad_norm_(policy.trainable_parameters(), 1.0)
    opt.step()                                                    # theta <- Adam(theta, dL/dtheta)
    return {"loss": loss.item(), "margin": float((r_w - r_l).detach().mean()),
            "pair_acc": float((r_w > r_l).float().mean())}


def train_dpo(policy: Policy, pairs: list[PreferencePair], cfg: DPOConfig, progress: Progress = None,
              should_stop: ShouldStop = None) -> DPOResult:
    """Mini-batch DPO over the preference pairs on the shared run loop (lessons.core.loop):
    bounded by epochs, steps and seconds; ``progress(row, result)`` after every step."""
    if not pairs:
        raise ValueError("DPO needs preference pairs: label some first.")
    lm_params = [p for n, p in policy.named_parameters() if p.requires_grad and not n.startswith("v_head")]
    opt = torch.optim.Adam(lm_params, lr=cfg.lr)
    rng = random.Random(cfg.seed)
    per_epoch = (len(pairs) + cfg.batch_size - 1) // cfg.batch_size
    res = DPOResult(min(cfg.max_steps, cfg.epochs * per_epoch), cfg.max_seconds)
    order: list[PreferencePair] = []

    def step(i: int) -> dict:
        nonlocal order
        b = (i - 1) % per_epoch                          # batch b of the current epoch
        if b == 0:                                       # a new epoch: a fresh seeded shuffle
            order = pairs[:]
            rng.shuffle(order)
        t0 = time.perf_counter()
        row = dpo_step(policy, opt, order[b * cfg.batch_size:(b + 1) * cfg.batch_size], cfg.beta)
        res.train_seconds += time.perf_counter() - t0
        return row

    run_loop(step, steps=res.steps_planned, max_seconds=cfg.max_seconds, progress=progress,
             should_stop=should_stop, run=res)
    return res
