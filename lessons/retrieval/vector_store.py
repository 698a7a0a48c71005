"""A vector store small enough to read in one sitting: chunking, sentence embeddings,
cosine top-k search and a 2-D PCA map.

Retrieval-augmented generation (Lewis et al. 2020, "Retrieval-Augmented Generation for
Knowledge-Intensive NLP Tasks") needs three pieces, all here:

1. **chunking** -- cut documents into overlapping windows of words, so that one chunk is
   about one thing and fits into the prompt;
2. **embedding** -- map every chunk to a unit vector with a sentence encoder
   (all-MiniLM-L6-v2: mean-pool the last hidden states over real tokens, then L2-normalise,
   exactly what sentence-transformers does for this model);
3. **search** -- score every chunk against the query by cosine similarity and keep the
   top k. On unit vectors cosine similarity is just a dot product, so "the database" is
   one matrix multiply: (N, d) @ (d,) -> (N,).

Real vector databases (FAISS, Chroma, pgvector) add approximate indexes for millions of
vectors; with a few hundred chunks exact search takes well under a millisecond.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch


# --------------------------------------------------------------------------- chunking
@dataclass(frozen=True)
class Chunk:
    doc_id: str      # which document it came from
    title: str       # the document's title (shown next to the chunk)
    text: str        # the chunk's words joined by spaces
    start: int       # index of the first word in the document
    n_words: int


def chunk_words(words: list[str], size: int, overlap: int) -> list[tuple[int, list[str]]]:
    """Sliding windows of `size` words that start every `size - overlap` words.

    The last window is kept even if short, and no window is emitted that only repeats the
    tail of the previous one (so every word is in at least one chunk, and the count is
    ceil((n - overlap) / stride) for n > size)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1 word")
    if not 0 <= overlap < size:
        raise ValueError("overlap must be at least 0 and smaller than the chunk size")
    stride = size - overlap
    out = []
    start = 0
    while True:
        out.append((start, words[start:start + size]))
        if start + size >= len(words):
            break
        start += stride
    return out


def chunk_documents(docs: list[dict], size: int = 40, overlap: int = 10) -> list[Chunk]:
    """docs: [{"id", "title", "text"}] -> chunks of at most `size` words."""
    chunks = []
    for d in docs:
        words = d["text"].split()
        for start, ws in chunk_words(words, size, overlap):
            if ws:
                chunks.append(Chunk(d["id"], d.get("title", d["id"]), " ".join(ws), start, len(ws)))
    return chunks


# --------------------------------------------------------------------------- embeddings
@torch.no_grad()
def embed(texts: list[str], lm, batch_size: int = 32, max_length: int = 256) -> np.ndarray:
    """Sentence embeddings with a BERT encoder (a models.LoadedModel): (N, d) float32, rows
    of unit length. Mean pooling over the attention mask = the all-MiniLM-L6-v2 recipe."""
    if not texts:
        return np.zeros((0, lm.model.config.hidden_size), dtype=np.float32)
    out = []
    for i in range(0, len(texts), batch_size):
        batch = lm.tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                             max_length=max_length, return_tensors="pt").to(lm.device)
        hidden = lm.model(**batch).last_hidden_state             # (B, T, d)
        mask = batch["attention_mask"].unsqueeze(-1).float()     # (B, T, 1): 0 on padding
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, d)
        out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).cpu().numpy())
    return np.concatenate(out).astype(np.float32)


# --------------------------------------------------------------------------- the store
@dataclass
class Hit:
    index: int       # row in the store
    score: float     # cosine similarity in [-1, 1]
    item: object     # whatever was stored with the vector (a Chunk here)


@dataclass
class VectorStore:
    """Exact cosine-similarity search over unit vectors kept in one numpy matrix."""

    dim: int
    vectors: np.ndarray = field(default=None)  # (N, dim), unit rows
    items: list = field(default_factory=list)

    def __post_init__(self):
        if self.vectors is None:
            self.vectors = np.zeros((0, self.dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.items)

    def add(self, vectors: np.ndarray, items: list) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(vectors) != len(items):
            raise ValueError(f"expected ({len(items)}, {self.dim}) vectors, got {vectors.shape}")
        # Normalise defensively: cosine = dot product only holds for unit vectors.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = np.concatenate([self.vectors, vectors / np.maximum(norms, 1e-12)])
        self.items.extend(items)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query with every stored vector: (N,)."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        return self.vectors @ q                                   # (N, d) @ (d,) -> (N,)

    def search(self, query: np.ndarray, k: int = 3) -> list[Hit]:
        """The k most similar items, best first (ties broken by insertion order)."""
        s = self.scores(query)
        k = max(0, min(int(k), len(s)))
        order = np.argsort(-s, kind="stable")[:k]
        return [Hit(int(i), float(s[i]), self.items[i]) for i in order]


# --------------------------------------------------------------------------- a map
def pca_2d(x: np.ndarray, extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Project rows of x (N, d) onto their first two principal components.

    Returns (coords (N, 2), extra projected with the SAME axes (M, 2) or None,
    explained-variance ratio (2,)). The sign of each axis is fixed so that the largest
    |loading| is positive (sklearn does the same), which keeps the picture stable."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(0)
    xc = x - mean
    u, s, vt = np.linalg.svd(xc, full_matrices=False)             # xc = U S V^T
    comps = vt[:2]                                                 # (2, d)
    # sklearn's svd_flip(u_based_decision=False): make the largest-magnitude loading positive.
    signs = np.sign(comps[np.arange(len(comps)), np.argmax(np.abs(comps), axis=1)])
    comps = comps * signs[:, None]
    var = s ** 2
    ratio = (var[:2] / var.sum()) if var.sum() > 0 else np.zeros(2)
    proj_extra = None if extra is None else (np.asarray(extra, dtype=np.float64).reshape(-1, x.shape[1]) - mean) @ comps.T
    return xc @ comps.T, proj_extra, ratio


_WORD = re.compile(r"\w+", re.UNICODE)


def contains_answer(text: str, answer: str) -> bool:
    """Case- and punctuation-insensitive 'does this text contain the answer words in order'."""
    t = " ".join(_WORD.findall(text.lower()))
    a = " ".join(_WORD.findall(answer.lower()))
    return bool(a) and f" {a} " in f" {t} "
