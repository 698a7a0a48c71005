"""Prompt tuning (Lester et al. 2021, arXiv:2104.08691): learn a *soft prompt* and nothing else.

A soft prompt is n "virtual tokens": n vectors P in the embedding space (n x d_model
trainable numbers). They are prepended to the embeddings of every input; the language model
itself stays frozen:

    inputs_embeds = [P ; E(x)]        P: (n, d)   E(x): (T, d)   ->   (n + T, d)

The loss is the usual completion loss; gradients flow through the frozen model into P only.
For the tiny GPT (d = 128), 8 virtual tokens train 1,024 numbers. Lester et al. show the gap
to full fine-tuning closes as models grow (~10B+); on a 1.3M-parameter model expect a clear
but modest effect. peft's ``PromptTuningConfig`` does the same (checked in the tests).
"""
from __future__ import annotations

import random
from typing import Optional

import torch
from torch import nn

from lessons.core.generate import greedy_batch
from lessons.core.loop import Progress, Run, ShouldStop, StopReason, run_loop
from lessons.core.tensors import param_count
from lessons.finetune import instructions


class SoftPrompt(nn.Module):
    """n trainable vectors of width d_model. ``init_ids`` copies the embeddings of real
    tokens (Lester et al.'s "initialise from vocabulary"), else small random values."""

    def __init__(self, model, n_virtual: int = 8, init_ids: list[int] | None = None, seed: int = 0):
        super().__init__()
        if n_virtual < 1:
            raise ValueError("need at least one virtual token")
        emb = model.get_input_embeddings().weight  # (V, d)
        g = torch.Generator().manual_seed(seed)
        if init_ids:
            ids = [init_ids[i % len(init_ids)] for i in range(n_virtual)]
            p = emb.detach()[torch.tensor(ids)].clone()
        else:
            p = torch.randn(n_virtual, emb.shape[1], generator=g) * emb.detach().std()
        self.prompt = nn.Parameter(p.to(emb.device))  # (n, d)

    @property
    def n(self) -> int:
        return self.prompt.shape[0]

    def prepend(self, model, input_ids, attention_mask=None, labels=None) -> dict:
        """Model kwargs with the soft prompt in front. Shapes: input_ids (B, T) ->
        inputs_embeds (B, n + T, d); the mask gets n ones, the labels n ignored (-100)."""
        B = input_ids.shape[0]
        embeds = model.get_input_embeddings()(input_ids)  # (B, T, d)
        P = self.prompt.unsqueeze(0).expand(B, -1, -1)  # (B, n, d)
        out = {"inputs_embeds": torch.cat([P, embeds], 1)}
        if attention_mask is not None:
            ones = torch.ones(B, self.n, dtype=attention_mask.dtype, device=attention_mask.device)
            out["attention_mask"] = torch.cat([ones, attention_mask], 1)
        if labels is not None:
            ign = torch.full((B, self.n), -100, dtype=labels.dtype, device=labels.device)
            out["labels"] = torch.cat([ign, labels], 1)
        return out


def soft_prompt_count(n_virtual: int, d_model: int) -> int:
    return n_virtual * d_model


def peft_prompt_tuning_count(model, n_virtual: int) -> int:
    """peft's own trainable count, on a deep copy (get_peft_model wraps its argument)."""
    import copy

    from peft import PromptTuningConfig, get_peft_model

    pm = get_peft_model(copy.deepcopy(model), PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=n_virtual))
    return int(pm.get_nb_trainable_parameters()[0])


def generate(model, tokenizer, prompts: list[str], soft: SoftPrompt | None = None,
             max_new_tokens: int = 8) -> list[str]:
    """Greedy answers (core.generate.greedy_batch), one prompt at a time (no padding: the
    virtual tokens sit at the same positions for every prompt). Without ``soft`` this is the
    plain frozen model."""
    if soft is None:
        def inputs(ids, mask, pos):
            return {"input_ids": ids}
    else:
        def inputs(ids, mask, pos):
            return soft.prepend(model, ids)     # inputs_embeds (1, n + T, d)
    return [greedy_batch(model, tokenizer, [p], max_new_tokens, instructions.STOP, inputs)[0] for p in prompts]


def score(model, tokenizer, examples, soft: SoftPrompt | None = None) -> dict:
    got = generate(model, tokenizer, [e.prompt for e in examples], soft)
    rows = [{"input": e.input, "expected": e.output, "model": g, "correct": g == e.output}
            for e, g in zip(examples, got)]
    return {"accuracy": sum(r["correct"] for r in rows) / max(len(rows), 1), "rows": rows}


# The prompt-tuning demo's defaults (pages/w2_prompt_tuning.py), on the two-task tiny GPT with the
# instruction left blank, so the soft prompt has a task to recover (bench/interaction_finetune.py
# measures the gain; tests/claims/ checks it).
DEMO_DEFAULTS = {"model": "two_tasks", "task": "archaic", "n_virtual": 16, "steps": 150, "lr": 0.1,
                 "max_seconds": 240.0}


def examples(task: str, split_name: str, blank: bool = True) -> list:
    """A task's examples; with ``blank`` the written instruction is removed
    ("Instruction: \nInput: ..."): the soft prompt has to take its place."""
    import dataclasses

    ex = instructions.split(task, split_name)
    return [dataclasses.replace(e, instruction="") for e in ex] if blank else ex


def train_soft_prompt(model, tokenizer, task: str = "archaic", *, n_virtual: int = 8, init: str = "text",
                      steps: int = 100, lr: float = 0.05, blank: bool = True, batch_size: int = 16, seed: int = 0,
                      max_seconds: float = 50.0, n_test: int = 24, progress: Progress = None,
                      should_stop: ShouldStop = None, soft: SoftPrompt | None = None,
                      run: Run | None = None) -> dict:
    """Train a soft prompt on ``task`` with ``model`` FROZEN. ``model`` must be a copy the
    caller owns (gradients pass through it). Returns history, before/after scores, counts.
    Runs on the shared run loop (lessons.core.loop): ``progress(row, run)`` after every step,
    stop only through ``should_stop()`` (also asked just before each update: a step stopped
    there is not applied). A page may pass its own ``soft`` and ``run`` (kept in session state)
    so that a run interrupted by Stop keeps what it learned (see :func:`finish`)."""
    for p in model.parameters():
        p.requires_grad_(False)
    soft = soft or make_soft_prompt(model, tokenizer, task, n_virtual, init, seed)
    test = examples(task, "test", blank)[:n_test]
    before = score(model, tokenizer, test, None)
    at_init = score(model, tokenizer, test, soft)
    train_ex = examples(task, "train", blank)
    rng = random.Random(seed)
    opt = torch.optim.Adam(soft.parameters(), lr=lr)

    def step(i: int) -> Optional[dict]:
        b = instructions.make_batch(tokenizer, rng.sample(train_ex, min(batch_size, len(train_ex))))  # (B, T)
        # inputs_embeds = [P ; E(x)]  (B, n + T, d); L(P) = -log p(completion | P, x), model frozen
        loss = model(**soft.prepend(model, b["input_ids"], b["attention_mask"], b["labels"])).loss
        opt.zero_grad()
        loss.backward()                                   # dL/dP only: every model weight is frozen
        if should_stop is not None and should_stop():
            opt.zero_grad()
            return None                                   # stopped: nothing applied
        opt.step()                                        # P <- Adam(P, dL/dP)
        return {"loss": loss.item()}

    run = run_loop(step, steps=steps, max_seconds=max_seconds, progress=progress, should_stop=should_stop,
                   run=run if run is not None else Run(steps, max_seconds))
    return finish(model, tokenizer, task, soft, run, before, at_init, n_test, blank)


def make_soft_prompt(model, tokenizer, task: str, n_virtual: int = 8, init: str = "text",
                     seed: int = 0) -> SoftPrompt:
    """A fresh soft prompt: the instruction's own token embeddings (``init="text"``), else
    random values from a private generator seeded with ``seed``."""
    init_ids = None
    if init == "text":  # start from the embeddings of the instruction's own words
        init_ids = tokenizer(instructions.load_task(task)[0].instruction, add_special_tokens=False)["input_ids"]
    return SoftPrompt(model, n_virtual, init_ids, seed=seed)


def finish(model, tokenizer, task: str, soft: SoftPrompt, run: Run, before: dict | None = None,
           at_init: dict | None = None, n_test: int = 24, blank: bool = True) -> dict:
    """Score the (possibly partly) trained soft prompt; also used after a learner's Stop (the
    page marks its kept ``run`` StopReason.STOPPED first)."""
    test = examples(task, "test", blank)[:n_test]
    before = before or score(model, tokenizer, test, None)
    after = score(model, tokenizer, test, soft)
    stopped = run.stopped or StopReason.STOPPED
    return {"soft": soft, "history": list(run.history), "stopped": stopped.value, "why": stopped.describe(),
            "steps_planned": run.steps_planned, "seconds": run.seconds,
            "seconds_per_step": run.seconds_per_step, "before": before, "at_init": at_init,
            "after": after, "trainable": soft.prompt.numel(), "blank": blank,
            # the frozen model given the hand-written instruction instead: what prompt design reaches
            "written": score(model, tokenizer, instructions.split(task, "test")[:n_test], None) if blank else None, "n_virtual": soft.n,
            "d_model": soft.prompt.shape[1], "task": task,
            "total": param_count(model),
            "grad_on_model": any(p.grad is not None for p in model.parameters()),
            "nearest": nearest_tokens(model, tokenizer, soft)}


@torch.no_grad()
def nearest_tokens(model, tokenizer, soft: SoftPrompt, k: int = 3) -> list[list[str]]:
    """For each virtual token, the k vocabulary tokens with the most similar embedding
    (cosine). Soft prompts usually drift away from any real word: they are not text."""
    emb = nn.functional.normalize(model.get_input_embeddings().weight, dim=-1)  # (V, d)
    p = nn.functional.normalize(soft.prompt, dim=-1)  # (n, d)
    top = (p @ emb.T).topk(k, dim=-1)
    return [[f"{tokenizer.decode([int(i)])!r} ({float(s):.2f})" for s, i in zip(sv, iv)]
            for sv, iv in zip(top.values, top.indices)]
