"""Page-layer caches for the Week 3 application and optimisation lessons (RAG, reasoning,
ReAct, distillation, pruning). Everything cached here is either read-only (indexes, token
ids) or deterministic (greedy generations: the same prompt always gives the same text, so
sharing the result between sessions is safe)."""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

import streamlit as st

from lessons import corpus
from lessons.efficiency import distillation
from lessons.retrieval import rag
from lessons.core import generate as core_generate


@st.cache_resource(show_spinner="Chunking and embedding the handbook with MiniLM ...", max_entries=12)
def rag_index(size: int, overlap: int, device: str, _encoder) -> rag.Index:
    """One read-only index per (chunk size, overlap, device)."""
    return rag.build_index(_encoder, size, overlap)


# A small process-wide LRU instead of st.cache_data: a generation cut short by the time
# limit (a busy server) must NOT be cached and replayed to everybody.
_GEN_CACHE: "OrderedDict[tuple, dict]" = OrderedDict()
_GEN_LOCK = threading.Lock()
_GEN_MAX = 400


def generate(prompt: str, max_new_tokens: int, max_seconds: float, stop: tuple, model_name: str,
             device: str, llm) -> dict:
    """Greedy, bounded generation, cached by prompt: a replayed demo is instant."""
    key = (prompt, int(max_new_tokens), tuple(stop), model_name, device)
    with _GEN_LOCK:
        if key in _GEN_CACHE:
            _GEN_CACHE.move_to_end(key)
            return dict(_GEN_CACHE[key])
    g = dataclasses.asdict(core_generate.generate(llm, prompt, max_new_tokens, max_seconds, stop))
    if g["stopped_by"] != "time limit":
        with _GEN_LOCK:
            _GEN_CACHE[key] = g
            while len(_GEN_CACHE) > _GEN_MAX:
                _GEN_CACHE.popitem(last=False)
    return dict(g)


@st.cache_resource(show_spinner="Tokenizing Shakespeare for the tiny GPT ...", max_entries=2)
def shakespeare_ids(device: str, _tokenizer, train_chars: int = 200_000, val_chars: int = 40_000):
    """(train ids, validation ids) as 1-D LongTensors: a slice of the training plays and of
    the held-out plays, tokenized with the tiny GPT's own BPE."""
    train = distillation.token_ids(_tokenizer, corpus.shakespeare_text("train")[:train_chars])
    val = distillation.token_ids(_tokenizer, corpus.shakespeare_text("validation")[:val_chars])
    return train, val


def measured_box(section: str, what: str) -> None:
    """The bench figures for this page (bench/week3_apps.py), dated: what the models really
    did on the app's labelled set, so a learner can compare a single run with the average."""
    from lessons.core import measured

    lines = measured.week3_lines(section)
    if not lines:
        return
    data = measured.week3_apps()
    st.info(f"**Measured on {what}** ({data.get('date', '')}, greedy, `bench/week3_apps.py`):\n\n"
            + "\n".join(f"- {ln}" for ln in lines))
