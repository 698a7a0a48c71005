"""Encoder-only, decoder-only and encoder-decoder transformers: the same blocks, different
attention masks, different pretraining objectives, different strengths (as in the course).

Masks use the convention of lessons.transformer.attention: boolean, True = this query may attend to this
key. Shapes: self-attention (T, T); cross-attention (T_target, T_source).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from lessons.core.tensors import causal_mask

MAX_WORDS = 24

FAMILIES = [
    {"family": "Encoder-only (autoencoding)", "examples": "BERT, RoBERTa, all-MiniLM-L6-v2 (in this app)",
     "attention": "bidirectional: every token sees every token",
     "pretraining": "masked language modelling: predict hidden tokens from both sides",
     "good at": "sentence classification (sentiment), named-entity recognition, embeddings for search"},
    {"family": "Decoder-only (autoregressive)", "examples": "GPT, BLOOM, Llama, SmolLM2 (in this app)",
     "attention": "causal: a token sees only itself and earlier tokens",
     "pretraining": "causal language modelling: predict the next token",
     "good at": "text generation; large ones handle most tasks through prompting"},
    {"family": "Encoder-decoder (sequence-to-sequence)", "examples": "T5, FLAN-T5, BART",
     "attention": "encoder bidirectional; decoder causal + cross-attention to all encoder outputs",
     "pretraining": "span corruption (T5) / denoising (BART): rebuild masked spans of the input",
     "good at": "translation, summarization, generative question answering"},
]

TASKS = {
    "sentiment analysis": 0, "named-entity recognition": 0, "semantic search embeddings": 0,
    "open-ended text generation": 1, "chat assistant": 1,
    "translation": 2, "summarization": 2, "generative question answering": 2,
}


def words(text: str, limit: int = MAX_WORDS) -> list[str]:
    """Split into words and punctuation (a readable stand-in for tokens on this page)."""
    return re.findall(r"\w+|[^\w\s]", text)[:limit]


@dataclass
class MaskPatterns:
    source: list[str]
    target: list[str]
    encoder_self: torch.Tensor   # (S, S) all True: bidirectional
    decoder_self: torch.Tensor   # (S, S) lower triangle: causal (decoder-only on the same sentence)
    seq2seq_decoder: torch.Tensor  # (T, T) causal over the target
    cross: torch.Tensor          # (T, S) all True: every target token may look at every source token


def mask_patterns(source: list[str], target: list[str]) -> MaskPatterns:
    s, t = len(source), len(target)
    return MaskPatterns(
        source=list(source),
        target=list(target),
        encoder_self=torch.ones(s, s, dtype=torch.bool),
        decoder_self=causal_mask(s),
        seq2seq_decoder=causal_mask(t),
        cross=torch.ones(t, s, dtype=torch.bool),
    )


def family_for(task: str) -> dict:
    return FAMILIES[TASKS[task]]
