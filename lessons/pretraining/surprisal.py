"""Surprisal and perplexity: how surprised a language model is by a text.

Surprisal of token t is -log p(t | tokens before it): 0 when the model was certain, large
when it did not see it coming. The mean surprisal over a text is the cross-entropy loss the
model was pretrained to minimise, and perplexity = exp(mean surprisal): "as unsure as a
uniform choice among that many tokens". Perplexities are only comparable between models that
share a tokenizer (a model with bigger tokens has fewer, harder predictions); the page says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

LN2 = math.log(2)


@dataclass
class Surprisal:
    tokens: list[str]          # every token of the text, as text
    nats: list[float | None]   # surprisal of each token (None for the first: nothing predicts it)
    probs: list[float | None]  # p(token | left context)
    top_pred: list[str | None]  # what the model expected most at that position

    @property
    def mean_nats(self) -> float:
        vals = [v for v in self.nats if v is not None]
        return sum(vals) / len(vals) if vals else float("nan")

    @property
    def perplexity(self) -> float:
        return math.exp(self.mean_nats)

    @property
    def bits(self) -> list[float | None]:
        return [None if v is None else v / LN2 for v in self.nats]

    @property
    def bits_per_char(self) -> float:
        """Total surprise over the characters of the predicted tokens: unlike perplexity it
        does not depend on the tokenizer, so models with different vocabularies compare."""
        pairs = [(n, t) for n, t in zip(self.nats, self.tokens) if n is not None]
        chars = sum(len(t) for _, t in pairs)
        return sum(n for n, _ in pairs) / LN2 / chars if chars else float("nan")


def _ids(tokenizer, text: str, max_tokens: int) -> torch.Tensor:
    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"][:max_tokens]
    if len(ids) < 2:
        raise ValueError("The text needs at least two tokens.")
    return torch.tensor([ids], dtype=torch.long)                      # (1, T)


def _show(tokenizer, i: int) -> str:
    return tokenizer.decode([i], clean_up_tokenization_spaces=False)


@torch.no_grad()
def surprisal(model, tokenizer, text: str, max_tokens: int = 128) -> Surprisal:
    """Per-token surprisal of `text` (first `max_tokens` tokens) under a causal LM.
    The mean equals transformers' own `model(ids, labels=ids).loss` (a test checks)."""
    ids = _ids(tokenizer, text, max_tokens).to(next(model.parameters()).device)
    logp = torch.log_softmax(model(ids).logits.float()[0], -1)          # (T, V)
    tgt = ids[0, 1:]                                                   # (T-1,)
    lp = logp[:-1].gather(1, tgt[:, None])[:, 0]                       # log p(t_i | t_<i)
    top = logp[:-1].argmax(-1)
    toks = [_show(tokenizer, i) for i in ids[0].tolist()]
    nats = [None] + (-lp).tolist()
    probs = [None] + lp.exp().tolist()
    preds = [None] + [_show(tokenizer, i) for i in top.tolist()]
    return Surprisal(toks, nats, probs, preds)
