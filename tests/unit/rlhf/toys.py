"""Small, fast stand-ins for the RLHF unit tests: a randomly initialised 2-layer GPT-2 on the
real GPT-2 tokenizer, and a tiny random Llama on SmolLM2's tokenizer. They test the
*mechanics* (shapes, masks, which parameters change); training quality is tested on the real
tiny GPT in test_ppo.py."""
from __future__ import annotations

import functools

import torch

from lessons import models


@functools.lru_cache(maxsize=1)
def gpt2_tok():
    tok = models.load_gpt2_tokenizer()
    tok.pad_token = tok.eos_token
    return tok


def toy_gpt(seed: int = 0):
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = gpt2_tok()
    torch.manual_seed(seed)
    cfg = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=len(tok), n_positions=128,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                     eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id)
    return GPT2LMHeadModel(cfg).eval(), tok
