"""The tiny GPT: its byte-level BPE tokenizer, its config, and the small causal-LM training loop.

The training loop below is the one the script `scripts/pretrain_tiny_gpt.py` used to make the
shipped tiny GPT, and the one the live pretraining page runs for a few seconds: bounded in
steps AND seconds, reporting through a callback (so this module never imports streamlit).
The objective it optimises is the causal LM of :mod:`lessons.pretraining.objectives`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Optional

import torch

from lessons.core.generate import generate_with
from lessons.core.loop import Progress, Run, ShouldStop, run_loop
from lessons.core.rng import seeded

EOS = "<|endoftext|>"


# =========================================================================== tokenizer + model
def train_bpe_tokenizer(text: str, vocab_size: int = 4096):
    """A byte-level BPE (GPT-2 style: every byte is a base symbol, so any text encodes; no
    unknown token) trained on `text`, wrapped as a transformers PreTrainedTokenizerFast with
    <|endoftext|> as bos/eos/pad."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    # Feed paragraphs so the trainer does not see one 5 MB string.
    tok.train_from_iterator((p for p in text.split("\n\n") if p), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS, pad_token=EOS)
    fast.model_max_length = 1_000_000  # the script sets the model's context before saving
    return fast


def tiny_gpt_config(vocab_size: int = 4096, n_layer: int = 4, n_embd: int = 128, n_head: int = 4,
                    n_positions: int = 256, dropout: float = 0.0, eos_id: int = 0):
    """GPT-2 architecture, shrunk: 4 blocks x 128 wide ~ 1.3M parameters (half of them the
    4096 x 128 token embedding, tied with the output layer)."""
    from transformers import GPT2Config

    return GPT2Config(vocab_size=vocab_size, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                      n_head=n_head, resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
                      bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id,
                      tie_word_embeddings=True)


def fresh_model(config, seed: int = 0):
    """A randomly initialised GPT2LMHeadModel (same seed -> same weights)."""
    from transformers import GPT2LMHeadModel

    with seeded(seed):          # one at a time: concurrent sessions get their seed's weights
        return GPT2LMHeadModel(config)


def encode(tokenizer, text: str) -> torch.Tensor:
    """Text -> 1-D LongTensor of token ids (N,)."""
    return torch.tensor(tokenizer(text, verbose=False)["input_ids"], dtype=torch.long)


# =========================================================================== evaluation
def sample(model, tokenizer, prompt: str = "\n", max_new_tokens: int = 60, temperature: float = 0.8,
           top_k: int = 40, seed: int = 0) -> str:
    """Seeded sampling for progress snapshots (core.generate on the model's own generate();
    the text keeps its newlines and spaces: they are the play's layout)."""
    return generate_with(model, tokenizer, prompt, max_new_tokens, None, do_sample=True,
                         temperature=temperature, top_k=top_k, seed=seed, strip=False).completion


# =========================================================================== training loop
class TrainLog(Run):
    """A causal-LM training run (lessons.core.loop.Run): every history row is {"step",
    "seconds", "loss", "lr", "tokens"}; what the pages plot are views of it. Kept by the caller,
    so a stopped run keeps its history (and a run can be resumed by passing it again)."""

    def __init__(self, steps_planned: int = 0, max_seconds: float = 0.0):
        super().__init__(steps_planned, max_seconds)

    @property
    def steps(self) -> list[int]:
        return [row["step"] for row in self.history]

    @property
    def losses(self) -> list[float]:
        return self.series("loss")

    @property
    def tokens_seen(self) -> int:
        return self.last.get("tokens", 0)


def get_batch(ids: torch.Tensor, batch_size: int, block: int, gen: torch.Generator):
    """Random windows of block+1 tokens: x = first block, y = the same shifted by one.
    Returns x, y of shape (B, T)."""
    starts = torch.randint(0, len(ids) - block - 1, (batch_size,), generator=gen)
    chunk = torch.stack([ids[s:s + block + 1] for s in starts.tolist()])  # (B, T+1)
    return chunk[:, :-1], chunk[:, 1:]


def lr_at(step: int, total: int, peak: float, warmup: int, progress: Optional[float] = None) -> float:
    """Linear warm-up then cosine decay to 10% of the peak. `progress` (0..1) overrides the
    step fraction, so a run bounded by seconds still decays fully by its deadline."""
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup) if progress is None else progress
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def train_causal_lm(model, train_ids: torch.Tensor, *, steps: int, batch_size: int = 16, block: int = 64,
                    lr: float = 3e-3, warmup: int = 20, max_seconds: float = 60.0, seed: int = 0,
                    weight_decay: float = 0.01, progress: Progress = None, should_stop: ShouldStop = None,
                    log: Optional[TrainLog] = None, optimizer=None) -> TrainLog:
    """Next-token training with AdamW on the shared run loop (lessons.core.loop), bounded by
    `steps` and `max_seconds`.

    `should_stop()` is asked before each step (by the run loop) and again just before each
    weight update: when it says True there (the learner pressed Stop while the step was
    computing) the update is NOT applied and not logged, so the model and the log end at the
    last step the learner saw (StopReason.STOPPED).
    `progress(row, log)` is called after every step. Pass `log` (and the same `optimizer`) to
    resume a run.
    """
    log = log if log is not None else TrainLog()
    start = log.steps_done
    dev = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed + start)
    opt = optimizer or torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay)
    model.train()
    t0 = time.perf_counter()

    def step(i: int) -> Optional[dict]:
        # Progress = whichever bound (steps or seconds) is closer to running out.
        frac = max((i - 1 - start) / max(1, steps - start), (time.perf_counter() - t0) / max_seconds)
        for g in opt.param_groups:
            g["lr"] = lr_at(i - 1, steps, lr, warmup, frac if i - 1 >= warmup else None)
        x, y = get_batch(train_ids, batch_size, block, gen)                # (B, T), y = x shifted by one
        logits = model(x.to(dev)).logits                                    # (B, T, V)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), y.to(dev).reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()                                                     # dL/dtheta
        if should_stop is not None and should_stop():
            opt.zero_grad(set_to_none=True)
            return None                                                     # stopped: nothing applied
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()                                                          # theta <- AdamW(theta, dL/dtheta)
        return {"loss": loss.item(), "lr": opt.param_groups[0]["lr"], "tokens": log.tokens_seen + x.numel()}

    run_loop(step, steps=steps, max_seconds=max_seconds, progress=progress, should_stop=should_stop, run=log)
    model.eval()
    return log


# =========================================================================== live run
LIVE_BLOCK = 64
LIVE_BATCH = 8


def live_config(vocab_size: int, eos_id: int, n_layer: int = 2, n_embd: int = 64):
    """A model small enough to pretrain from scratch in a minute on a laptop CPU. Heads of
    size 16-32; context = the training block."""
    n_head = 4 if n_embd >= 64 else 2
    return tiny_gpt_config(vocab_size=vocab_size, n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                           n_positions=LIVE_BLOCK, eos_id=eos_id)


@dataclass
class PretrainResult:
    """What one learner's live pretraining run produced (the page keeps it in its ui.live
    LiveRun, so a Stop keeps what was learned): the private model, its log, the samples."""

    model: object
    log: TrainLog
    steps: int
    sample_every: int
    seed: int
    val_ppl: Optional[float] = None
    samples: list = field(default_factory=list)    # (step, text)
    started: float = field(default_factory=time.time)
