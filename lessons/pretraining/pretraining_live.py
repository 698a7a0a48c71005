"""The live pretraining page's run: a fresh tiny GPT trained from random weights on the training
plays, with a sample every few steps. The page and its recorded run (lessons/pretraining/
recorded_live.py) both call :func:`pretrain` and :func:`finish`, at the same defaults
(:data:`DEFAULTS`), so the recorded run is the run the page's button makes at those settings.

Pure Python + torch: the page draws through the callbacks (``progress``, ``on_sample``).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

from lessons import corpus
from lessons.core.loop import Progress, ShouldStop
from lessons.core.perplexity import validation_perplexity
from lessons.pretraining import tiny_gpt

# The page's widgets start here; the recorded run has these settings.
DEFAULTS = {"layers": 2, "width": 64, "steps": 300, "lr": 3e-3, "every": 50, "seed": 0}
TRAIN_CHARS = 600_000       # the first characters of the training plays that the page trains on
PROMPT = "\n"               # every sample starts a new line
SAMPLE_TOKENS = 40


def train_ids(tokenizer) -> torch.Tensor:
    """(N,) token ids of the page's training text."""
    return tiny_gpt.encode(tokenizer, corpus.shakespeare_text("train")[:TRAIN_CHARS])


def new_run(vocab_size: int, eos_id: int, s: dict, max_seconds: float) -> tiny_gpt.PretrainResult:
    """A brand-new private model (its seed's random weights) and an empty result for settings ``s``
    (the keys of :data:`DEFAULTS`)."""
    cfg = tiny_gpt.live_config(vocab_size, eos_id, n_layer=s["layers"], n_embd=s["width"])
    model = tiny_gpt.fresh_model(cfg, seed=int(s["seed"]))
    return tiny_gpt.PretrainResult(model, tiny_gpt.TrainLog(s["steps"], max_seconds), s["steps"], s["every"],
                                   int(s["seed"]))


def snapshot(res: tiny_gpt.PretrainResult, tokenizer, step: int) -> None:
    """Append the model's sample at ``step`` (seeded: the same model gives the same text)."""
    res.samples.append((step, tiny_gpt.sample(res.model, tokenizer, PROMPT, max_new_tokens=SAMPLE_TOKENS,
                                              seed=res.seed)))


def pretrain(res: tiny_gpt.PretrainResult, tokenizer, ids: torch.Tensor, lr: float, max_seconds: float, *,
             progress: Progress = None, should_stop: ShouldStop = None,
             on_sample: Optional[Callable[[tiny_gpt.PretrainResult], None]] = None) -> tiny_gpt.TrainLog:
    """Train ``res.model`` for ``res.steps`` steps: a sample before the first step and every
    ``res.sample_every`` steps (``on_sample(res)`` after each), ``progress(row, log)`` after every
    step. The log grows in ``res.log``, so a stopped run keeps its steps."""
    snapshot(res, tokenizer, 0)
    if on_sample:
        on_sample(res)

    def on_step(row: dict, log: tiny_gpt.TrainLog) -> None:
        if row["step"] % res.sample_every == 0:
            snapshot(res, tokenizer, row["step"])
            if on_sample:
                on_sample(res)
        if progress:
            progress(row, log)

    return tiny_gpt.train_causal_lm(res.model, ids, steps=res.steps, batch_size=tiny_gpt.LIVE_BATCH,
                                    block=tiny_gpt.LIVE_BLOCK, lr=lr, warmup=min(30, res.steps // 5),
                                    max_seconds=max_seconds, seed=res.seed, progress=on_step, log=res.log,
                                    should_stop=should_stop)


def finish(res: tiny_gpt.PretrainResult, tokenizer) -> None:
    """A finished or stopped run: a last sample at the step it reached (unless it has one) and the
    validation perplexity of what it learned. Nothing when it stopped before its first step."""
    done = res.log.steps_done
    if done:
        if not res.samples or res.samples[-1][0] != done:
            snapshot(res, tokenizer, done)
        res.val_ppl = validation_perplexity(res.model, tokenizer)
