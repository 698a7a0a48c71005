"""Retrieval-augmented generation (RAG) on a handbook no model has ever seen.

The handbook in ``assets/rag/handbook.json`` describes a made-up bicycle company, so
SmolLM2-135M-Instruct cannot know any of its facts. RAG puts the facts into the prompt:

    question --MiniLM--> q (384,)  --cosine top-k over chunk vectors (N, 384)-->  k chunks
    prompt = instructions + "Context: [1] chunk ... [k] chunk" + question  --SmolLM2--> answer

Everything the page plots is returned: the chunks with their scores, the raw prompt string
(chat template included) and the completion. Generation is greedy and bounded (tokens and
seconds) so a click costs a few seconds on a laptop CPU.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from lessons.core.generate import Generation, chat_prompt, generate
from lessons.retrieval.vector_store import Chunk, Hit, VectorStore, chunk_documents, contains_answer, embed

RAG_DIR = Path(__file__).resolve().parents[2] / "assets" / "rag"

SYSTEM_WITH_CONTEXT = (
    "You answer questions about the company Brightwater Cycles. Use only the context. "
    "Answer in one short sentence. If the context does not contain the answer, say "
    "\"I don't know\"."
)
SYSTEM_NO_CONTEXT = "You answer questions about the company Brightwater Cycles. Answer in one short sentence."


# --------------------------------------------------------------------------- data
@lru_cache(maxsize=1)
def handbook() -> dict:
    return json.loads((RAG_DIR / "handbook.json").read_text(encoding="utf-8"))


def documents() -> list[dict]:
    return handbook()["documents"]


@lru_cache(maxsize=1)
def questions() -> list[dict]:
    """[{"q", "answer", "doc"}]: the evaluation set for retrieval hit-rate."""
    return json.loads((RAG_DIR / "questions.json").read_text(encoding="utf-8"))["questions"]


# --------------------------------------------------------------------------- index
@dataclass
class Index:
    chunks: list[Chunk]
    store: VectorStore
    size: int
    overlap: int
    seconds: float   # time to embed every chunk


def build_index(encoder, size: int = 40, overlap: int = 10, docs: list[dict] | None = None) -> Index:
    """Chunk the handbook, embed every chunk with the encoder (a models.LoadedModel)."""
    t0 = time.perf_counter()
    chunks = chunk_documents(docs if docs is not None else documents(), size, overlap)
    vecs = embed([c.text for c in chunks], encoder)                 # (N, 384)
    store = VectorStore(vecs.shape[1])
    store.add(vecs, chunks)
    return Index(chunks, store, size, overlap, time.perf_counter() - t0)


def retrieve(index: Index, encoder, query: str, k: int = 3) -> tuple[list[Hit], np.ndarray]:
    """Top-k chunks for the query, and the query vector (for the map)."""
    q = embed([query], encoder)[0]
    return index.store.search(q, k), q


# --------------------------------------------------------------------------- generation
def build_rag_prompt(tokenizer, question: str, hits: list[Hit] | None) -> str:
    """With hits: numbered context passages before the question. Without: the bare question."""
    if not hits:
        return chat_prompt(tokenizer, question, SYSTEM_NO_CONTEXT)
    ctx = "\n".join(f"[{i + 1}] {h.item.text}" for i, h in enumerate(hits))
    return chat_prompt(tokenizer, f"Context:\n{ctx}\n\nQuestion: {question}", SYSTEM_WITH_CONTEXT)


def answer(llm, question: str, hits: list[Hit] | None, max_new_tokens: int = 40,
           max_seconds: float = 30.0) -> Generation:
    return generate(llm, build_rag_prompt(llm.tokenizer, question, hits), max_new_tokens, max_seconds)


# --------------------------------------------------------------------------- evaluation
@dataclass
class HitRate:
    k: int
    rate: float                 # fraction of questions with the answer in a top-k chunk
    rows: list[dict]            # per question: q, answer, hit, rank of the first good chunk, top score


def hit_rate(index: Index, encoder, k: int = 3, qs: list[dict] | None = None) -> HitRate:
    """Retrieval hit-rate@k: a question counts as a hit when one of its top-k chunks
    contains the reference answer text (so the score does not depend on chunk ids)."""
    qs = qs if qs is not None else questions()
    qv = embed([q["q"] for q in qs], encoder)                      # (Q, 384)
    rows = []
    for q, v in zip(qs, qv):
        all_hits = index.store.search(v, len(index.store))
        rank = next((r + 1 for r, h in enumerate(all_hits) if contains_answer(h.item.text, q["answer"])), None)
        rows.append({"question": q["q"], "answer": q["answer"], "hit": rank is not None and rank <= k,
                     "rank": rank, "top chunk": all_hits[0].item.doc_id if all_hits else "",
                     "top score": round(all_hits[0].score, 3) if all_hits else 0.0})
    rate = sum(r["hit"] for r in rows) / max(len(rows), 1)
    return HitRate(k, rate, rows)


def hit_rate_curve(hr: HitRate, k_max: int = 8) -> tuple[list[int], list[float]]:
    """Hit-rate@k for every k = 1..k_max, what the RAG page plots: (ks, rates), two lists of
    length k_max. Each question's ``rank`` (the position of its first chunk that contains the
    answer, None if no chunk does) is measured once over the WHOLE ranking, so one search per
    question gives the whole curve: rate(k) = share of questions with rank <= k. The curve
    never goes down (a bigger k only adds chunks) and rates[k - 1] == hit_rate(..., k).rate."""
    ranks = [r["rank"] for r in hr.rows]
    ks = list(range(1, int(k_max) + 1))
    rates = [sum(1 for r in ranks if r is not None and r <= k) / max(len(ranks), 1) for k in ks]
    return ks, rates


_STOP = frozenset("the a an of in on at to is are for and or by with per every called named".split())


def _answer_words(text: str) -> list[str]:
    """Lower-case words with thousands separators removed ('3,450' -> '3450') and a plural
    's' dropped ('years' -> 'year'), so 'the 10-year warranty' matches '10 years'."""
    text = re.sub(r"(?<=\d)[,\u202f](?=\d{3}\b)", "", text.lower())
    words = re.findall(r"\w+", text)
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.isdigit() else w for w in words]


def answer_is_correct(completion: str, answer: str) -> bool:
    """Is the generated answer right? Every content word of the reference answer (numbers
    included, stop words ignored) appears in the completion. Lenient on form, strict on
    facts: the same rule for every model and for answers with and without context."""
    need = [w for w in _answer_words(answer) if w not in _STOP]
    have = set(_answer_words(completion))
    return bool(need) and all(w in have for w in need)


def search_tool(index: Index, encoder, k: int = 1):
    """Retrieval as a tool for an agent (lessons.prompting.react): search[query] -> the best chunk(s)."""

    def search(arg: str) -> str:
        if not arg.strip():
            return "Error: empty search query."
        hits, _ = retrieve(index, encoder, arg, k)
        return " | ".join(h.item.text for h in hits)

    return search
