"""Perplexity: ONE definition and ONE fixed validation slice per corpus, for every lesson.

    PPL = exp( (1/N) * sum -log p(x_t | x_<t, same window) )

The text's ids are cut into consecutive, non-overlapping windows of ``block`` tokens; each
window starts with no context and predicts its own tokens 2..block from the ones before them
(exactly the model's own loss with ``labels = input_ids``): N = windows x (block - 1).

The Shakespeare validation slice (:data:`SLICES`) is the start of the held-out plays (The
Tempest, Macbeth; never trained on), 16 windows of 64 tokens. 64 is the context of the
smallest model the app trains (the live pretraining model), so the same slice fits every
model. A page that shows a "Shakespeare perplexity" says which slice with :func:`describe`.
Perplexities compare only between models that share a tokenizer. (The tiny GPT's model card
uses the same definition on a longer slice, 64 windows of 128: see assets/tiny_gpt/README.md.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lessons.core.tensors import evaluating


@dataclass(frozen=True)
class Slice:
    corpus: str
    block: int
    windows: int
    what: str                       # the text, in words

    @property
    def n_tokens(self) -> int:
        return self.block * self.windows


SLICES = {
    "shakespeare": Slice("shakespeare", 64, 16, "the held-out plays (The Tempest, Macbeth)"),
}


def describe(corpus: str = "shakespeare") -> str:
    s = SLICES[corpus]
    return f"validation slice: the first {s.n_tokens:,} tokens of {s.what}, {s.windows} windows of {s.block}"


@torch.no_grad()
def perplexity(model, ids: torch.Tensor, block: int = 64, max_windows: int | None = None,
               batch: int = 16) -> float:
    """exp(mean next-token cross-entropy) over the first ``max_windows`` windows of ``block``
    tokens of ``ids`` (1-D). Puts a model that is training into eval mode for the measurement
    and back; a shared (eval) model is only read."""
    ids = ids.reshape(-1)
    n = len(ids) // block
    if max_windows is not None:
        n = min(n, max_windows)
    if n < 1 or block < 2:
        raise ValueError(f"need at least {max(block, 2)} tokens, got {len(ids)}")
    windows = ids[: n * block].view(n, block)                      # (n, T)
    dev = next(model.parameters()).device
    total = 0.0
    with evaluating(model):
        for i in range(0, n, batch):
            x = windows[i:i + batch].to(dev)                       # (B, T)
            logits = model(x).logits.float()                       # (B, T, V)
            total += torch.nn.functional.cross_entropy(            # position t predicts token t+1
                logits[:, :-1].reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1), reduction="sum").item()
    return math.exp(total / (n * (block - 1)))


_SLICE_IDS: dict = {}


def validation_ids(tokenizer, corpus: str = "shakespeare") -> torch.Tensor:
    """The fixed validation slice of ``corpus`` as ids of ``tokenizer`` (cached per tokenizer)."""
    key = (corpus, getattr(tokenizer, "name_or_path", ""), len(tokenizer), id(tokenizer))
    if key not in _SLICE_IDS:
        from lessons import corpus as corpora   # the shipped text (data, like lessons.models)

        s = SLICES[corpus]
        text = corpora.shakespeare_text("validation")[: 40 * s.n_tokens]   # plenty of characters
        # (the start of the text tokenizes the same alone as inside the whole text)
        ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"][: s.n_tokens]
        if len(ids) < s.n_tokens:
            raise ValueError(f"the {corpus} validation text is shorter than {s.n_tokens} tokens")
        _SLICE_IDS[key] = torch.tensor(ids, dtype=torch.long)
    return _SLICE_IDS[key]


def validation_perplexity(model, tokenizer, corpus: str = "shakespeare") -> float:
    """THE figure every lesson reports as "<corpus> perplexity" (see :func:`describe`)."""
    s = SLICES[corpus]
    return perplexity(model, validation_ids(tokenizer, corpus), block=s.block, max_windows=s.windows)
