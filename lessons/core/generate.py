"""The one generation helper for lessons that need a model's answer (not the decoding lesson
itself, which writes its loop out in lessons/decoding/generation.py).

* greedy (deterministic) or sampled (temperature, top-k, top-p, seeded),
* ONE pad rule (:func:`pad_id`): the tokenizer's pad token, else its end-of-sequence token,
* stop strings (the text is cut before the first one), a token cap and a wall-clock cap,
* the shared model is only read (no_grad; a model in training mode is measured in eval mode).

Two entry points on transformers' ``generate()``: :func:`generate` takes a loaded model
(models.LoadedModel), :func:`generate_with` a (model, tokenizer) pair (a learner's session
copy, a model being trained). :func:`greedy_batch` is the hand-written greedy loop for the
tiny models of Week 2 (a batch with left padding, or a soft prompt in front of the tokens).
:func:`sample_tokens` is the hand-written KV-cache sampling loop for a left-padded batch that
RLHF's rollouts need (pure sampling from pi, per-row stop tokens, a private generator, and the
mask of which sampled tokens count).
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

import torch

from lessons.core.rng import seeded
from lessons.core.tensors import evaluating, left_pad


def pad_id(tokenizer) -> int:
    """The one pad rule: pad token, else end-of-sequence token, else 0."""
    for tid in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return int(tid)
    return 0


def cache_kwarg(model) -> str:
    """transformers 5.24 renamed forward(past_key_values=) to forward(cache=) (the old name
    still works with a deprecation warning); use whichever this model's forward takes."""
    import inspect

    params = inspect.signature(type(model).forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def chat_prompt(tokenizer, user: str, system: str | None = None) -> str:
    """The exact string the model reads, chat template included. There is ALWAYS an explicit
    system message: the given one, else the model's own default (models.default_system),
    which Qwen's and SmolLM2's templates would otherwise insert silently."""
    from lessons.models import default_system

    msgs = [{"role": "system", "content": system or default_system(tokenizer)}, {"role": "user", "content": user}]
    return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


@dataclass
class Generation:
    prompt: str
    completion: str
    n_prompt_tokens: int
    n_new_tokens: int
    seconds: float
    stopped_by: str   # "eos", "stop string", "token limit" or "time limit"


def generate(lm, prompt: str, max_new_tokens: int = 48, max_seconds: float | None = 30.0,
             stop: tuple[str, ...] = (), *, do_sample: bool = False, temperature: float = 1.0,
             top_k: int = 0, top_p: float = 1.0, seed: int = 0, repetition_penalty: float = 1.0,
             strip: bool = True) -> Generation:
    """Decode from ``lm`` (a models.LoadedModel), bounded by tokens and seconds. Greedy unless
    ``do_sample``; sampled runs are seeded (same seed, same text)."""
    return generate_with(lm.model, lm.tokenizer, prompt, max_new_tokens, max_seconds, stop,
                         do_sample=do_sample, temperature=temperature, top_k=top_k, top_p=top_p,
                         seed=seed, repetition_penalty=repetition_penalty, strip=strip)


@torch.no_grad()
def generate_with(model, tokenizer, prompt: str, max_new_tokens: int = 48, max_seconds: float | None = 30.0,
                  stop: tuple[str, ...] = (), *, do_sample: bool = False, temperature: float = 1.0,
                  top_k: int = 0, top_p: float = 1.0, seed: int = 0, repetition_penalty: float = 1.0,
                  strip: bool = True) -> Generation:
    """:func:`generate` for a bare (model, tokenizer). ``prompt`` is the exact text the model
    reads (no special tokens added: a chat prompt already has them). ``max_seconds=None``: no
    wall-clock cap (tiny models whose token cap is the bound). ``repetition_penalty`` > 1
    makes tokens already in the text less likely (transformers' rule). ``strip=False`` keeps
    the completion's leading and trailing whitespace (a sample whose newlines matter)."""
    tok = tokenizer
    dev = next(model.parameters()).device
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(dev)   # input_ids: (1, T)
    n_prompt = enc["input_ids"].shape[1]
    kwargs = dict(max_new_tokens=int(max_new_tokens), pad_token_id=pad_id(tok))
    if max_seconds is not None:
        kwargs.update(max_time=float(max_seconds))
    if do_sample:
        kwargs.update(do_sample=True, temperature=float(temperature), top_k=int(top_k) or None,
                      top_p=float(top_p))
    else:
        kwargs.update(do_sample=False)
    if repetition_penalty != 1.0:
        kwargs.update(repetition_penalty=float(repetition_penalty))
    if stop:
        kwargs.update(stop_strings=list(stop), tokenizer=tok)
    t0 = time.perf_counter()
    with evaluating(model), (seeded(seed) if do_sample else nullcontext()):
        out = model.generate(**enc, **kwargs)      # sampled: from the seed, as if alone
    secs = time.perf_counter() - t0
    new = out[0, n_prompt:]                         # (n_new,)
    text = tok.decode(new, skip_special_tokens=True)
    reason = "token limit"
    if len(new) and int(new[-1]) == tok.eos_token_id:
        reason = "eos"
    elif len(new) < max_new_tokens:
        timed_out = max_seconds is not None and secs >= max_seconds * 0.98
        reason = "time limit" if timed_out else "stop string" if stop else "eos"
    for s in stop:
        if s in text:
            text = text[: text.index(s)]
            reason = "stop string"
    return Generation(prompt, text.strip() if strip else text, n_prompt, int(len(new)), secs, reason)


@torch.no_grad()
def greedy_batch(model, tokenizer, prompts: list[str], max_new_tokens: int, stop: str,
                 inputs: Callable | None = None) -> list[str]:
    """Greedy answers for a batch of prompts, each cut at the first ``stop`` (and at EOS),
    stripped. For the tiny Week 2 models: it recomputes the (short) sequence each step, which
    is simpler than a KV cache and fast for ~40-token prompts on a 4-layer model.

    Left padding with :func:`pad_id` plus explicit position ids, so a short prompt in a batch
    gets the same answer as alone. ``inputs(ids, mask, pos)`` -> the model's keyword
    arguments (default: ``input_ids``, ``attention_mask``, ``position_ids``); prompt tuning
    passes one that puts the soft prompt in front. Shapes: ids, mask, pos all (B, T)."""
    dev = next(model.parameters()).device
    if inputs is None:
        def inputs(ids, mask, pos):
            return {"input_ids": ids, "attention_mask": mask, "position_ids": pos}
    enc = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    ids, mask = left_pad(enc, pad_id(tokenizer))                         # (B, L) each
    ids, mask = ids.to(dev), mask.to(dev)
    new: list[list[int]] = [[] for _ in enc]
    done = [False] * len(enc)
    n_pos = getattr(getattr(model, "config", None), "n_positions", None) or 10 ** 9
    with evaluating(model):
        for _ in range(max_new_tokens):
            if ids.shape[1] >= n_pos:
                break
            pos = (mask.cumsum(-1) - 1).clamp(min=0)                    # (B, T): 0 at the first real token
            logits = model(**inputs(ids, mask, pos)).logits[:, -1, :]   # (B, V)
            nxt = logits.argmax(-1)                                     # (B,)
            for i, t in enumerate(nxt.tolist()):
                if not done[i]:
                    new[i].append(t)
                    if stop in tokenizer.decode(new[i]) or t == tokenizer.eos_token_id:
                        done[i] = True
            if all(done):
                break
            ids = torch.cat([ids, nxt[:, None]], 1)
            mask = torch.cat([mask, torch.ones_like(nxt)[:, None]], 1)
    return [tokenizer.decode(toks, skip_special_tokens=True).split(stop)[0].strip() for toks in new]


@torch.no_grad()
def sample_tokens(model, ids: torch.Tensor, mask: torch.Tensor, max_new_tokens: int, *,
                  temperature: float = 1.0, generator: torch.Generator | None = None,
                  stop_ids: torch.Tensor | None = None, pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample a_t ~ softmax(z_t / temperature) token by token with a KV cache, for a batch of
    LEFT-padded prompts ``ids``/``mask`` (B, P) (see tensors.left_pad: every row's last prompt
    token sits at column P-1, so the rows advance in lock-step).

    Pure sampling: no top-k/top-p, no repetition penalty, so the actions come from the model's
    own distribution (what RLHF's maths assumes). A row stops after it samples one of
    ``stop_ids``; its later columns are ``pad`` with mask 0. The loop ends when every row has
    stopped or after ``max_new_tokens``. Draws come from ``generator`` (a CPU generator, so a
    seed gives the same actions on any device), never from torch's global one.

    Returns (actions, action_mask), both (B, T) with T <= max_new_tokens: action_mask is 1 for
    the tokens that count (up to and including the stop token). Read-only on ``model``
    (no_grad, no state change), so it is safe on a shared model."""
    from transformers import DynamicCache

    device = next(model.parameters()).device
    ids, mask = ids.to(device), mask.to(device)
    stop_ids = (stop_ids if stop_ids is not None else torch.empty(0, dtype=torch.long)).to(device)
    B = ids.shape[0]
    alive = torch.ones(B, dtype=torch.bool, device=device)           # (B,) rows still sampling
    actions, act_mask = [], []
    cache, cache_name = DynamicCache(), cache_kwarg(model)
    cur, cur_mask = ids, mask                # step 1 feeds the whole prompt (prefill), then 1 token
    for _ in range(int(max_new_tokens)):
        # Position of each fed token = number of real tokens before it (left padding skipped).
        pos = (cur_mask.cumsum(-1) - 1).clamp(min=0)[:, -cur.shape[1]:]     # (B, cur_len)
        out = model(input_ids=cur, attention_mask=cur_mask, position_ids=pos, use_cache=True,
                    logits_to_keep=1, **{cache_name: cache})
        logits = out.logits[:, -1, :].float() / max(temperature, 1e-4)      # z_t / T: (B, V)
        probs = torch.softmax(logits, dim=-1)                               # pi(. | s_t): (B, V)
        a_t = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(device)  # (B,)
        a_t = torch.where(alive, a_t, torch.full_like(a_t, pad))          # a stopped row: pad
        actions.append(a_t)
        act_mask.append(alive.clone())
        alive = alive & ~torch.isin(a_t, stop_ids)
        cur = a_t[:, None]                                                  # (B, 1): only the new token
        cur_mask = torch.cat([cur_mask, act_mask[-1][:, None].long()], dim=1)   # (B, P + t)
        if not alive.any():
            break
    if not actions:
        empty = torch.zeros((B, 0), dtype=torch.long, device=device)
        return empty, empty.clone()
    return torch.stack(actions, 1), torch.stack(act_mask, 1).long()       # (B, T), (B, T)
