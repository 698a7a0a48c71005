"""Page layer of the efficiency lessons (distillation, pruning): the tiny GPT's token ids of
the training and held-out plays, tokenized once per process."""
from __future__ import annotations


import streamlit as st

from lessons import corpus
from lessons.efficiency import distillation


@st.cache_resource(show_spinner="Tokenizing Shakespeare for the tiny GPT ...", max_entries=2)
def shakespeare_ids(device: str, _tokenizer, train_chars: int = 200_000, val_chars: int = 40_000):
    """(train ids, validation ids) as 1-D LongTensors: a slice of the training plays and of
    the held-out plays, tokenized with the tiny GPT's own BPE."""
    train = distillation.token_ids(_tokenizer, corpus.shakespeare_text("train")[:train_chars])
    val = distillation.token_ids(_tokenizer, corpus.shakespeare_text("validation")[:val_chars])
    return train, val
