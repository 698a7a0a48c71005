"""Small tensor helpers that several lessons need, defined once: device, eval mode for a
measurement, entropy, left padding, parameter counts, decoder-or-encoder."""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Sequence

import torch

LN2 = math.log(2)


def device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@contextmanager
def evaluating(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Eval mode (no dropout) for a measurement, then the mode it had. A model that is
    already in eval mode (every shared model) is not touched at all."""
    was_training = model.training
    if was_training:
        model.eval()
    try:
        yield model
    finally:
        if was_training:
            model.train()


def causal_mask(t: int, device=None) -> torch.Tensor:
    """(T, T) boolean lower-triangular mask, True = keep: position i may see 0..i only."""
    return torch.ones(t, t, dtype=torch.bool, device=device).tril()


def entropy_bits(p: torch.Tensor) -> torch.Tensor:
    """H(p) = -sum p log2 p over the last dimension (0 log 0 = 0)."""
    return -(p * torch.log2(p.clamp_min(1e-30))).sum(-1)


def left_pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token-id rows of different lengths -> (ids, attention_mask), both (B, T_max), padded on
    the LEFT so that every row's last real token is at the last position (what a decoder
    generating a batch needs)."""
    t = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), t), int(pad_id), dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for i, r in enumerate(rows):
        if len(r):
            ids[i, t - len(r):] = torch.as_tensor(list(r), dtype=torch.long)
            mask[i, t - len(r):] = 1
    return ids, mask


def param_count(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (weights and biases), or of the trainable ones only."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def is_decoder(model: torch.nn.Module) -> bool:
    """A causal LM (GPT-2, SmolLM2: it has an LM head predicting the next token) rather than an
    encoder (MiniLM)."""
    return hasattr(model, "lm_head")
