"""Embeddings: every token id is a row of a learned table; similar uses -> similar rows.

* **Static token embeddings**: the model's input table, ``E[id]`` of shape (V, D) --
  SmolLM2: 49,152 x 576, MiniLM: 30,522 x 384. A word that the tokenizer splits into several
  pieces is represented here by the mean of its pieces' rows (we say so on the page).
* **PCA** projects the D-dimensional vectors to 2 or 3 axes of largest variance so that a
  plot can show them (it keeps only part of the structure: the explained-variance share
  tells how much).
* **Cosine similarity** cos(a, b) = a.b / (|a| |b|) compares directions, ignoring length.
* **Contextual embeddings**: inside an encoder, the vector of a word after each layer
  depends on the whole sentence, so "bank" in two sentences drifts apart layer by layer.

Pure Python, no streamlit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from lessons.core.tensors import is_decoder

PRESETS = {
    "royalty & gender": ["king", "queen", "man", "woman", "prince", "princess", "boy", "girl"],
    "numbers": ["one", "two", "three", "four", "five", "six", "seven", "eight"],
    "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "colours": ["red", "green", "blue", "yellow", "purple", "orange"],
    "animals": ["cat", "dog", "horse", "cow", "lion", "tiger", "mouse"],
    "countries & capitals": ["France", "Paris", "Italy", "Rome", "Japan", "Tokyo", "Spain", "Madrid"],
}
MAX_WORDS = 40


def embedding_table(lm) -> torch.Tensor:
    """(V, D) the model's input token-embedding table (a read-only view)."""
    return lm.model.get_input_embeddings().weight


def word_pieces(lm, word: str) -> list[int]:
    """Token ids of ``word`` as it appears mid-sentence: byte-level BPE tokens carry their
    leading space (" king"), WordPiece has no special tokens here."""
    if is_decoder(lm.model):
        return list(lm.tokenizer(" " + word.strip(), add_special_tokens=False)["input_ids"])
    return list(lm.tokenizer(word.strip(), add_special_tokens=False)["input_ids"])


@dataclass
class WordVectors:
    words: list[str]
    pieces: list[list[str]]     # the tokens each word became
    vectors: torch.Tensor       # (N, D) mean of the pieces' embedding rows


def word_vectors(lm, words: list[str]) -> WordVectors:
    table = embedding_table(lm)
    vecs, pieces, kept = [], [], []
    with torch.no_grad():
        for w in words:
            ids = word_pieces(lm, w)
            if not ids:
                continue
            kept.append(w)
            pieces.append(lm.tokenizer.convert_ids_to_tokens(ids))
            vecs.append(table[ids].float().mean(0).cpu())            # (D,)
    if not vecs:
        raise ValueError("No words to embed.")
    return WordVectors(kept, pieces, torch.stack(vecs))


def unknown_words(lm, wv: WordVectors) -> list[str]:
    """Words the tokenizer could only map to its unknown token (MiniLM's WordPiece has no
    piece for most emoji and many CJK characters; byte-level BPE never needs one). They share
    the [UNK] row of the table, so their vectors say nothing about their meaning."""
    unk = getattr(lm.tokenizer, "unk_token", None)
    return [w for w, p in zip(wv.words, wv.pieces) if unk is not None and unk in p]


def most_similar_pair(wv: WordVectors, sim: torch.Tensor) -> tuple[int, int, float] | None:
    """(i, j, cosine) of the most similar pair of words that became DIFFERENT tokens.

    Two words with the same pieces (both [UNK], or "Apple" and "apple" in an uncased
    tokenizer) share one vector, so their cosine of 1.0 is not a finding."""
    best = None
    for i in range(len(wv.words)):
        for j in range(i + 1, len(wv.words)):
            if wv.pieces[i] != wv.pieces[j] and (best is None or float(sim[i, j]) > best[2]):
                best = (i, j, float(sim[i, j]))
    return best


def pca(x: torch.Tensor, n_components: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Project rows of ``x`` (N, D) onto the top principal axes -> ((N, k), explained ratio (k,)).

    Centre, then SVD: x_c = U S V^T; the projection is U S (= x_c V). The sign of each axis is
    fixed so that the largest-magnitude loading is positive (like scikit-learn's svd_flip)."""
    x = x.double()
    xc = x - x.mean(0, keepdim=True)
    u, s, vt = torch.linalg.svd(xc, full_matrices=False)
    k = min(n_components, s.numel())
    # deterministic signs (scikit-learn flips by the largest |u| per column)
    idx = u.abs().argmax(0)
    signs = torch.sign(u[idx, torch.arange(u.shape[1])])
    signs[signs == 0] = 1
    u, vt = u * signs, vt * signs[:, None]
    proj = u[:, :k] * s[:k]
    var = s ** 2
    ratio = var[:k] / var.sum() if var.sum() > 0 else torch.zeros(k, dtype=var.dtype)
    return proj.float(), ratio.float()


def cosine_matrix(x: torch.Tensor) -> torch.Tensor:
    """(N, N) cosine similarity between all rows of ``x`` (N, D)."""
    xn = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return xn @ xn.T


# --------------------------------------------------------------------------- contextual
@dataclass
class Contextual:
    word: str
    pieces_a: list[str]
    pieces_b: list[str]
    static_similarity: float        # same word -> same table rows -> 1.0 when the pieces agree
    layer_similarity: list[float]   # cos after the embedding layer (0) and after each block 1..L
    pos_a: int                      # token index where the word starts in sentence A
    pos_b: int


def _find_word(text: str, word: str) -> tuple[int, int] | None:
    # whole word first ("bank", not "banker"); then any occurrence (Chinese/Japanese have no spaces)
    m = re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, flags=re.IGNORECASE) or \
        re.search(re.escape(word), text, flags=re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def _word_states(lm, sentence: str, word: str):
    span = _find_word(sentence, word)
    if span is None:
        raise ValueError(f"The word “{word}” does not appear in: {sentence}")
    enc = lm.tokenizer(sentence, return_offsets_mapping=True, return_tensors="pt", truncation=True,
                       max_length=128)
    offsets = enc.pop("offset_mapping")[0].tolist()
    # tokens whose characters overlap the word (special tokens have (0, 0) and are skipped)
    idx = [i for i, (s, e) in enumerate(offsets) if e > s and s < span[1] and e > span[0]]
    if not idx:
        raise ValueError(f"The word “{word}” was cut off (sentence too long).")
    with torch.no_grad():
        out = lm.model(**{k: v.to(lm.device) for k, v in enc.items()}, output_hidden_states=True)
    hs = torch.stack(out.hidden_states)[:, 0]                        # (L+1, T, D)
    vec = hs[:, idx].float().mean(1).cpu()                           # (L+1, D) mean over the word's pieces
    pieces = lm.tokenizer.convert_ids_to_tokens(enc["input_ids"][0][idx].tolist())
    return vec, pieces, idx[0]


def contextual(lm, word: str, sentence_a: str, sentence_b: str) -> Contextual:
    """How similar is ``word`` to itself in two sentences, layer by layer (an encoder)."""
    word = word.strip()
    if not word:
        raise ValueError("Type a word that appears in both sentences.")
    va, pa, ia = _word_states(lm, sentence_a, word)
    vb, pb, ib = _word_states(lm, sentence_b, word)
    table = embedding_table(lm)
    ids_a = lm.tokenizer.convert_tokens_to_ids(pa)
    ids_b = lm.tokenizer.convert_tokens_to_ids(pb)
    with torch.no_grad():
        sa, sb = table[ids_a].float().mean(0), table[ids_b].float().mean(0)
    static = float(torch.nn.functional.cosine_similarity(sa, sb, dim=0))
    sims = torch.nn.functional.cosine_similarity(va, vb, dim=-1)    # (L+1,)
    return Contextual(word, pa, pb, static, [float(s) for s in sims], ia, ib)
