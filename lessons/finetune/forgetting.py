"""Catastrophic forgetting: full fine-tuning versus LoRA.

Full fine-tuning on task A moves every weight, so what the model could do before (task B,
plain Shakespeare) can get worse. LoRA freezes the base weights, so switching the adapter off
gives the old model back exactly; mixing some task-B examples into task-A training
(multi-task tuning, as FLAN does) keeps task B alive.
"""
from __future__ import annotations

import copy
from typing import Callable, Optional

from lessons.core.loop import Progress, Run, ShouldStop, StopReason
from lessons.finetune.lora_training import (TrainResult, add_lora, base_fingerprint, count_params, train,
                                      training_memory_mb)
from lessons.core.perplexity import validation_perplexity
from lessons.core.rng import seeded
from lessons.finetune.instructions import score, split

# The forgetting demo's defaults (pages/w2_forgetting.py): both methods get the same steps; LoRA
# uses the live LoRA page's adapter (all four layer types, r = 16) so that it learns task A about as
# well as full fine-tuning does. Measured in bench/interaction_finetune.py.
# The page's other widgets start at ``mix`` and ``seed``; its recorded run
# (lessons/finetune/recorded_forgetting.py) has all of these settings but the seconds.
DEMO_DEFAULTS = {"steps": 150, "r": 16, "alpha": 16, "targets": ("c_attn", "c_fc", "c_proj", "lm_head"),
                 "full_lr": 1e-3, "lora_lr": 5e-3, "max_seconds": 240.0, "mix": 0.0, "seed": 0}
TASKS = ("archaic", "mood")      # the page's task A (trained now) and task B (learned before)


def evaluate(model, tokenizer, task_a: str, task_b: str, n_test: int = 36) -> dict:
    a = score(model, tokenizer, split(task_a, "test")[:n_test])
    b = score(model, tokenizer, split(task_b, "test")[:n_test])
    return {"task_a_accuracy": a["accuracy"], "task_b_accuracy": b["accuracy"],
            "task_a_word_accuracy": a["word_accuracy"], "task_b_word_accuracy": b["word_accuracy"],
            "task_a_loss": a["loss"], "task_b_loss": b["loss"],
            "shakespeare_ppl": validation_perplexity(model, tokenizer),
            "task_a_rows": a["rows"], "task_b_rows": b["rows"]}


def prepare_start(base, tokenizer, task_b: str = "mood", steps: int = 50, lr: float = 1e-3,
                  seed: int = 0, max_seconds: float = 30.0, progress: Progress = None,
                  should_stop: ShouldStop = None):
    """The starting point of the forgetting experiment: a COPY of the pretrained model that
    has been fully instruction-tuned on task B (so there is something to forget)."""
    start = copy.deepcopy(base)
    for p in start.parameters():
        p.requires_grad_(True)
    res = train(start, tokenizer, split(task_b, "train"), steps=steps, lr=lr, seed=seed,
                max_seconds=max_seconds, progress=progress, should_stop=should_stop)
    for p in start.parameters():
        p.requires_grad_(False)
    start.eval()
    return start, res


def finetune_on_task(start, tokenizer, method: str, task_a: str = "archaic", task_b: str = "mood", *,
                     steps: int = 60, lr: float | None = None, mix: float = 0.0, r: int = 8,
                     alpha: float = 16, targets=("c_attn",), seed: int = 0, max_seconds: float = 30.0,
                     n_test: int = 36, progress: Progress = None, should_stop: ShouldStop = None,
                     live: Optional[dict] = None) -> dict:
    """Fine-tune a COPY of ``start`` on task A (plus a fraction ``mix`` of task-B examples)
    either fully (every weight trains) or with LoRA (base frozen), then evaluate.
    ``live``: a dict the caller owns (a page's session state), filled before the first step
    with the model being trained and its Run, so a caller whose run is cut off mid-way can
    still score the partly fine-tuned model with :func:`finish_task`."""
    if method not in ("full", "lora"):
        raise ValueError("method is 'full' or 'lora'")
    model = copy.deepcopy(start)
    if method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        lr = lr or DEMO_DEFAULTS["full_lr"]
    else:
        for p in model.parameters():
            p.requires_grad_(False)
        with seeded(seed):   # peft draws A (Kaiming) from torch's global generator: same seed, same run
            model = add_lora(model, r, alpha, targets, adapter=task_a)
        lr = lr or DEMO_DEFAULTS["lora_lr"]
    live = {} if live is None else live
    live.update(method=method, mix=mix, lr=lr, model=model, counts=count_params(model),
                base_before=base_fingerprint(model), run=TrainResult(steps, max_seconds),
                task_a=task_a, task_b=task_b, n_test=n_test)
    train(model, tokenizer, split(task_a, "train"), steps=steps, lr=lr, seed=seed,
          max_seconds=max_seconds, mix_examples=split(task_b, "train"), mix=mix, progress=progress,
          should_stop=should_stop, run=live["run"])
    return finish_task(live, tokenizer)


def finish_task(live: dict, tokenizer) -> dict:
    """Score the model of a :func:`finetune_on_task` run as it is now (finished, or cut off:
    then its Run is marked STOPPED) and return the run's result dict (with the model)."""
    run, model = live["run"], live["model"]
    if run.stopped is None:          # never told by the loop how it ended: ended from outside
        run.stopped = StopReason.STOPPED
    after = evaluate(model, tokenizer, live["task_a"], live["task_b"], n_test=live["n_test"])
    return {"method": live["method"], "mix": live["mix"], "lr": live["lr"], "train": run.to_dict(), "after": after,
            **live["counts"], "memory_mb": training_memory_mb(live["counts"]["total"], live["counts"]["trainable"]),
            "base_changed": base_fingerprint(model) != live["base_before"], "model": model}


def compare_full_and_lora(start, tokenizer, *, task_a: str = "archaic", task_b: str = "mood",
                          steps: int = DEMO_DEFAULTS["steps"], mix: float = 0.0, r: int = DEMO_DEFAULTS["r"],
                          alpha: float = DEMO_DEFAULTS["alpha"], targets=DEMO_DEFAULTS["targets"], seed: int = 0,
                          max_seconds: float = DEMO_DEFAULTS["max_seconds"],
                          n_test: int = 36, progress: Optional[Callable[[str, dict, Run], None]] = None,
                          should_stop: ShouldStop = None, live: Optional[dict] = None) -> dict:
    """The forgetting experiment: the same start model fine-tuned on task A (with a fraction
    ``mix`` of task-B examples) fully, then with LoRA; ``progress(method, row, run)`` after
    every step (the shared run loop's convention, with the method in front).

    A Stop (``should_stop``) ends the method that is training; it is scored as it is, and a
    method not started yet is skipped, so the result may hold only "full". ``live``: a dict
    the caller owns; it holds each finished method's result (without the model) and, under
    "training", the method in progress (see :func:`finetune_on_task`), so a caller whose run
    is cut off mid-way can finish it with :func:`finish_comparison`."""
    out = {} if live is None else live
    for method in ("full", "lora"):
        if out.get("full") and out["full"]["train"]["stopped"] == StopReason.STOPPED.value:
            break                    # stopped during full fine-tuning: LoRA is not started
        cb = (lambda row, run, _meth=method: progress(_meth, row, run)) if progress else None
        out["training"] = {}
        res = finetune_on_task(start, tokenizer, method, task_a, task_b, steps=steps, mix=mix, r=r,
                               alpha=alpha, targets=targets, seed=seed, max_seconds=max_seconds,
                               n_test=n_test, progress=cb, should_stop=should_stop, live=out["training"])
        res.pop("model")  # the page keeps numbers, not models
        out[method] = res
        del out["training"]
    return out


def finish_comparison(live: dict, tokenizer) -> dict:
    """Finish a :func:`compare_full_and_lora` run that was cut off from outside: the method in
    progress is scored as it is (marked STOPPED), a method never started stays absent."""
    training = live.pop("training", None)
    if training and "run" in training:
        res = finish_task(training, tokenizer)
        res.pop("model")
        live[res["method"]] = res
    return live


def verdict(before: dict, full: dict, lora: dict, mix: float) -> str:
    """One sentence saying what THIS run measured about forgetting task B (the course's claim
    that PEFT forgets less, tested rather than asserted)."""
    b0, bf, bl = before["task_b_accuracy"], full["task_b_accuracy"], lora["task_b_accuracy"]
    fa, la = full["task_a_word_accuracy"], lora["task_a_word_accuracy"]
    head = (f"Measured: task B {b0:.0%} → **{bf:.0%}** after full fine-tuning, **{bl:.0%}** with the LoRA "
            f"adapter switched on (task A words right: {fa:.0%} full, {la:.0%} LoRA). ")
    if bl >= bf + 0.2:
        body = "Here LoRA forgot clearly less than full fine-tuning."
    elif bf >= bl + 0.2:
        body = "Here LoRA, with its adapter on, forgot MORE than full fine-tuning."
    else:
        body = "With its adapter on, LoRA forgot about as much as full fine-tuning."
    tail = (" What LoRA guarantees is different: the base weights did not move, so switching the adapter off "
            f"(or routing task-B prompts to the base) gives task B back at {b0:.0%}, bit for bit. A fully "
            "fine-tuned model has no such switch")
    tail += (": only mixing task B into the batches (m > 0) protects it." if mix == 0 else
             f"; mixing m = {mix:g} of task B into the batches is what protected it here.")
    return head + body + tail
