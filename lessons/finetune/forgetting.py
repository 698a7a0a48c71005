"""Catastrophic forgetting: full fine-tuning versus LoRA.

Full fine-tuning on task A moves every weight, so what the model could do before (task B,
plain Shakespeare) can get worse. LoRA freezes the base weights, so switching the adapter off
gives the old model back exactly; mixing some task-B examples into task-A training
(multi-task tuning, as FLAN does) keeps task B alive.
"""
from __future__ import annotations

import copy
from typing import Callable, Optional

from lessons.finetune.adapters import (Progress, add_lora, base_fingerprint, count_params, train,
                                       training_memory_mb)
from lessons.finetune.instructions import score, shakespeare_perplexity, split

def evaluate(model, tokenizer, task_a: str, task_b: str, n_test: int = 36) -> dict:
    a = score(model, tokenizer, split(task_a, "test")[:n_test])
    b = score(model, tokenizer, split(task_b, "test")[:n_test])
    return {"task_a_accuracy": a["accuracy"], "task_b_accuracy": b["accuracy"],
            "task_a_word_accuracy": a["word_accuracy"], "task_b_word_accuracy": b["word_accuracy"],
            "task_a_loss": a["loss"], "task_b_loss": b["loss"],
            "shakespeare_ppl": shakespeare_perplexity(model, tokenizer),
            "task_a_rows": a["rows"], "task_b_rows": b["rows"]}


def prepare_start(base, tokenizer, task_b: str = "mood", steps: int = 50, lr: float = 1e-3,
                  seed: int = 0, max_seconds: float = 30.0, progress: Progress = None):
    """The starting point of the forgetting experiment: a COPY of the pretrained model that
    has been fully instruction-tuned on task B (so there is something to forget)."""
    start = copy.deepcopy(base)
    for p in start.parameters():
        p.requires_grad_(True)
    res = train(start, tokenizer, split(task_b, "train"), steps=steps, lr=lr, seed=seed,
                max_seconds=max_seconds, progress=progress)
    for p in start.parameters():
        p.requires_grad_(False)
    start.eval()
    return start, res


def finetune_on_task(start, tokenizer, method: str, task_a: str = "archaic", task_b: str = "mood", *,
                     steps: int = 60, lr: float | None = None, mix: float = 0.0, r: int = 8,
                     alpha: float = 16, targets=("c_attn",), seed: int = 0, max_seconds: float = 30.0,
                     n_test: int = 36, progress: Progress = None) -> dict:
    """Fine-tune a COPY of ``start`` on task A (plus a fraction ``mix`` of task-B examples)
    either fully (every weight trains) or with LoRA (base frozen), then evaluate."""
    if method not in ("full", "lora"):
        raise ValueError("method is 'full' or 'lora'")
    model = copy.deepcopy(start)
    if method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        lr = lr or 1e-3
    else:
        for p in model.parameters():
            p.requires_grad_(False)
        model = add_lora(model, r, alpha, targets, adapter=task_a)
        lr = lr or 1e-2
    counts = count_params(model)
    base_before = base_fingerprint(model)
    res = train(model, tokenizer, split(task_a, "train"), steps=steps, lr=lr, seed=seed,
                max_seconds=max_seconds, mix_examples=split(task_b, "train"), mix=mix, progress=progress)
    after = evaluate(model, tokenizer, task_a, task_b, n_test=n_test)
    return {"method": method, "mix": mix, "lr": lr, "train": res.to_dict(), "after": after,
            **counts, "memory_mb": training_memory_mb(counts["total"], counts["trainable"]),
            "base_changed": base_fingerprint(model) != base_before, "model": model}


def compare_full_and_lora(start, tokenizer, *, task_a: str = "archaic", task_b: str = "mood",
                          steps: int = 80, mix: float = 0.0, r: int = 8, alpha: float = 16,
                          targets=("c_attn",), seed: int = 0, max_seconds: float = 20.0,
                          n_test: int = 36, progress: Optional[Callable[[str, int, int, dict], Optional[bool]]] = None) -> dict:
    """The forgetting experiment: the same start model fine-tuned on task A (with a fraction
    ``mix`` of task-B examples) fully and with LoRA; ``progress(method, step, total, m)``."""
    out = {}
    for method in ("full", "lora"):
        cb = (lambda s, t, m, _meth=method: progress(_meth, s, t, m)) if progress else None
        res = finetune_on_task(start, tokenizer, method, task_a, task_b, steps=steps, mix=mix, r=r,
                               alpha=alpha, targets=targets, seed=seed, max_seconds=max_seconds,
                               n_test=n_test, progress=cb)
        res.pop("model")  # the page keeps numbers, not models
        out[method] = res
    return out
