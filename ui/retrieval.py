"""Page layer of retrieval (RAG, ReAct's search tool): one read-only index per chunking."""
from __future__ import annotations


import streamlit as st

from lessons.retrieval import rag


@st.cache_resource(show_spinner="Chunking and embedding the handbook with MiniLM ...", max_entries=12)
def rag_index(size: int, overlap: int, device: str, _encoder) -> rag.Index:
    """One read-only index per (chunk size, overlap, device)."""
    return rag.build_index(_encoder, size, overlap)
