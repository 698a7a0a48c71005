"""Page layer of the pruning lesson: the tiny GPT's token ids of the training and held-out plays,
tokenized once per process (the distillation page trains in a class-run worker, which makes its own)."""
from __future__ import annotations


import streamlit as st

from lessons.efficiency import distillation


@st.cache_resource(show_spinner="Tokenizing Shakespeare for the tiny GPT ...", max_entries=2)
def shakespeare_ids(device: str, _tokenizer):
    """(train ids, validation ids): lessons.efficiency.distillation.page_ids, once per process."""
    return distillation.page_ids(_tokenizer)
