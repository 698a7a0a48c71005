"""The one generation helper for lessons that need a model's answer (not the decoding lesson
itself, which writes its loop out in lessons/generation.py).

* greedy (deterministic) or sampled (temperature, top-k, top-p, seeded),
* ONE pad rule (:func:`pad_id`): the tokenizer's pad token, else its end-of-sequence token,
* stop strings (the text is cut before the first one), a token cap and a wall-clock cap,
* the shared model is only read (no_grad; a model in training mode is measured in eval mode).
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass

import torch

from lessons.core.rng import seeded
from lessons.core.tensors import evaluating


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


@torch.no_grad()
def generate(lm, prompt: str, max_new_tokens: int = 48, max_seconds: float = 30.0,
             stop: tuple[str, ...] = (), *, do_sample: bool = False, temperature: float = 1.0,
             top_k: int = 0, top_p: float = 1.0, seed: int = 0) -> Generation:
    """Decode from ``lm`` (a models.LoadedModel), bounded by tokens and seconds. Greedy unless
    ``do_sample``; sampled runs are seeded (same seed, same text)."""
    tok = lm.tokenizer
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(lm.device)
    n_prompt = enc["input_ids"].shape[1]
    kwargs = dict(max_new_tokens=int(max_new_tokens), max_time=float(max_seconds), pad_token_id=pad_id(tok))
    if do_sample:
        kwargs.update(do_sample=True, temperature=float(temperature), top_k=int(top_k) or None,
                      top_p=float(top_p))
    else:
        kwargs.update(do_sample=False)
    if stop:
        kwargs.update(stop_strings=list(stop), tokenizer=tok)
    t0 = time.perf_counter()
    with evaluating(lm.model), (seeded(seed) if do_sample else nullcontext()):
        out = lm.model.generate(**enc, **kwargs)      # sampled: from the seed, as if alone
    secs = time.perf_counter() - t0
    new = out[0, n_prompt:]
    text = tok.decode(new, skip_special_tokens=True)
    reason = "token limit"
    if len(new) and int(new[-1]) == tok.eos_token_id:
        reason = "eos"
    elif len(new) < max_new_tokens:
        reason = "time limit" if secs >= max_seconds * 0.98 else "stop string" if stop else "eos"
    for s in stop:
        if s in text:
            text = text[: text.index(s)]
            reason = "stop string"
    return Generation(prompt, text.strip(), n_prompt, int(len(new)), secs, reason)
