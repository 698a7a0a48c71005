"""Tokens: how text becomes the integer ids a transformer actually reads.

Three real tokenizers, side by side:

* **GPT-2 BPE** (50,257 tokens) and **SmolLM2 BPE** (49,152 tokens) are *byte-level* BPE:
  the text is first turned into UTF-8 bytes, every byte gets a printable stand-in character
  (GPT-2's ``bytes_to_unicode`` table, e.g. a space becomes ``Ġ``), and learned merges glue
  frequent byte sequences into tokens. Nothing is ever unknown: an emoji that was rare in the
  training data simply falls apart into its 4 UTF-8 bytes.
* **MiniLM WordPiece** (30,522 tokens, lower-cased BERT vocabulary) splits on whitespace and
  punctuation and then into the longest known pieces (``##`` marks a piece that continues a
  word). A character it never saw becomes ``[UNK]``; it also adds ``[CLS]`` and ``[SEP]``.

This module is pure Python; the page only plots what :func:`tokenize` returns.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from lessons.core.pieces import WORDPIECE, is_partial, readable_piece

# Context windows the page offers as presets (tokens).
CONTEXT_WINDOWS = {
    "MiniLM (sentence-transformers cut, 256)": 256,
    "BERT positions (512)": 512,
    "GPT-2 (1,024)": 1024,
    "GPT-3 (2,048)": 2048,
    "SmolLM2 (8,192)": 8192,
}


@dataclass
class Tokenized:
    """What one tokenizer made of the text."""

    name: str
    scheme: str
    vocab_size: int
    ids: list[int]
    pieces: list[str]          # the tokenizer's own token strings (e.g. 'Ġworld', '##ing')
    labels: list[str]          # readable labels (see readable_piece)
    special: list[bool]        # [CLS], [SEP], <|endoftext|>...
    partial_bytes: list[bool] = field(default_factory=list)  # byte tokens that split a character
    unknown: int = 0           # how many [UNK]

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def n_special(self) -> int:
        return sum(self.special)


def tokenize(tokenizer, text: str, name: str, scheme: str) -> Tokenized:
    """Encode ``text`` with a Hugging Face tokenizer and return ids, pieces and labels.
    Special tokens are included when the tokenizer adds them (MiniLM's [CLS] ... [SEP])."""
    ids = list(tokenizer(text)["input_ids"])
    pieces = tokenizer.convert_ids_to_tokens(ids)
    specials = set(getattr(tokenizer, "all_special_ids", []) or [])
    unk = getattr(tokenizer, "unk_token_id", None)
    labels = [readable_piece(p, scheme) for p in pieces]
    special = [i in specials and i != unk for i in ids]
    partial = [is_partial(p, scheme) for p in pieces]
    return Tokenized(
        name=name,
        scheme=scheme,
        vocab_size=len(tokenizer),
        ids=ids,
        pieces=list(pieces),
        labels=labels,
        special=special,
        partial_bytes=partial,
        unknown=sum(1 for i in ids if unk is not None and i == unk and scheme == WORDPIECE),
    )


_WORD = re.compile(r"\w+", re.UNICODE)


def text_counts(text: str) -> dict[str, int]:
    """Characters (Unicode code points), UTF-8 bytes and words (runs of letters/digits)."""
    return {
        "characters": len(text),
        "bytes (UTF-8)": len(text.encode("utf-8")),
        "words": len(_WORD.findall(text)),
    }


def context_fill(n_tokens: int, window: int) -> dict[str, float]:
    """How much of a context window of ``window`` tokens the text uses.

    ``copies`` is how many copies of the text would fit; ``overflow`` how many tokens a model
    with this window would have to drop (or truncate) to read it all."""
    if window <= 0:
        raise ValueError("window must be positive")
    return {
        "fraction": n_tokens / window,
        "copies": (window // n_tokens) if n_tokens else 0,
        "overflow": max(0, n_tokens - window),
        "left": max(0, window - n_tokens),
    }


def char_width(label: str) -> int:
    """Display width in monospace cells (CJK and emoji take two), used to lay out tokens."""
    w = 0
    for ch in label:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return max(w, 1)


def compare(tokenizers: dict, text: str) -> list[Tokenized]:
    """Tokenize the same text with several tokenizers: ``{name: (tokenizer, scheme)}``."""
    return [tokenize(t, text, name, scheme) for name, (t, scheme) in tokenizers.items()]
