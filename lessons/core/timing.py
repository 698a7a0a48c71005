"""Inference-speed figures, defined once: median milliseconds per forward pass.

A lesson that compares model sizes (distillation: teacher vs student) or sparsity (pruning:
dense vs pruned) shows "ms per forward". One (1, block) batch of token id 0, one warm-up pass
(allocations, lazy init), then the MEDIAN of ``repeats`` timed passes: a median ignores the
odd pass slowed by another session on the same server. Models are timed in eval mode
(no dropout) and under no_grad, and handed back in the mode they had.
"""
from __future__ import annotations

import time
from contextlib import ExitStack

import torch

from lessons.core.tensors import device_of, evaluating


@torch.no_grad()
def ms_per_forward_interleaved(models: list, block: int = 64, repeats: int = 5) -> list[float]:
    """Median ms per (1, block) forward for each model, measured INTERLEAVED (model 1, model 2,
    model 1, ...) so that a busy machine slows every model equally and the comparison is fair."""
    with ExitStack() as stack:
        for m in models:
            stack.enter_context(evaluating(m))
        xs = [torch.zeros((1, block), dtype=torch.long, device=device_of(m)) for m in models]   # (1, block)
        for m, x in zip(models, xs):
            m(x)                                                  # warm-up, not timed
        times: list[list[float]] = [[] for _ in models]
        for _ in range(repeats):
            for m, x, ts in zip(models, xs, times):
                t = time.perf_counter()
                m(x)
                ts.append((time.perf_counter() - t) * 1000)
    return [sorted(ts)[len(ts) // 2] for ts in times]


def ms_per_forward(model, block: int = 64, repeats: int = 5) -> float:
    """Median ms for one (1, block) forward pass of ``model``: a rough inference-speed figure."""
    return ms_per_forward_interleaved([model], block, repeats)[0]
