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
import torch

from lessons.models import default_system
from lessons.vector_store import Chunk, Hit, VectorStore, chunk_documents, contains_answer, embed

RAG_DIR = Path(__file__).resolve().parent.parent / "assets" / "rag"

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
def chat_prompt(tokenizer, user: str, system: str | None = None) -> str:
    """The exact string the model reads, chat template included. There is ALWAYS an explicit
    system message: the given one, else the model's own default (models.default_system),
    which Qwen's and SmolLM2's templates would otherwise insert silently."""
    msgs = [{"role": "system", "content": system or default_system(tokenizer)}, {"role": "user", "content": user}]
    return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


@dataclass
class Generation:
    prompt: str
    completion: str
    n_prompt_tokens: int
    n_new_tokens: int
    seconds: float
    stopped_by: str   # "eos", "stop string", "token limit" or "time limit"


@torch.no_grad()
def greedy_generate(lm, prompt: str, max_new_tokens: int = 48, max_seconds: float = 30.0,
                    stop: tuple[str, ...] = ()) -> Generation:
    """Greedy decoding, bounded by tokens and wall-clock seconds; optional stop strings
    (the text is cut before the first stop string). Deterministic: same prompt, same text."""
    tok = lm.tokenizer
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(lm.device)
    n_prompt = enc["input_ids"].shape[1]
    kwargs = dict(max_new_tokens=int(max_new_tokens), do_sample=False, max_time=float(max_seconds),
                  pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
    if stop:
        kwargs.update(stop_strings=list(stop), tokenizer=tok)
    t0 = time.perf_counter()
    out = lm.model.generate(**enc, **kwargs)
    secs = time.perf_counter() - t0
    new = out[0, n_prompt:]
    text = tok.decode(new, skip_special_tokens=True)
    reason = "token limit"
    if len(new) and int(new[-1]) == tok.eos_token_id:
        reason = "eos"
    elif len(new) < max_new_tokens:
        reason = "time limit" if secs >= max_seconds * 0.98 else "stop string" if stop else "eos"
    for s in stop:
        if s in text:
            text = text[: text.index(s)]
            reason = "stop string"
    return Generation(prompt, text.strip(), n_prompt, int(len(new)), secs, reason)


def build_rag_prompt(tokenizer, question: str, hits: list[Hit] | None) -> str:
    """With hits: numbered context passages before the question. Without: the bare question."""
    if not hits:
        return chat_prompt(tokenizer, question, SYSTEM_NO_CONTEXT)
    ctx = "\n".join(f"[{i + 1}] {h.item.text}" for i, h in enumerate(hits))
    return chat_prompt(tokenizer, f"Context:\n{ctx}\n\nQuestion: {question}", SYSTEM_WITH_CONTEXT)


def answer(llm, question: str, hits: list[Hit] | None, max_new_tokens: int = 40,
           max_seconds: float = 30.0) -> Generation:
    return greedy_generate(llm, build_rag_prompt(llm.tokenizer, question, hits), max_new_tokens, max_seconds)


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
