"""Test support for the Week 2 training pages: the real tiny GPT when assets/tiny_gpt exists,
else a small stand-in checkpoint with the same format (GPT-2 architecture + byte-level BPE),
so the pages' mechanics are tested either way."""
from __future__ import annotations

from pathlib import Path

import torch

from lessons import models


def stand_in_checkpoint(folder: Path) -> Path:
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers import models as tm
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from lessons import corpus

    t = Tokenizer(tm.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=512, special_tokens=["<|endoftext|>"],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    t.train_from_iterator(corpus.shakespeare_text("train")[:200_000].split("\n\n"), trainer=tr)
    tok = PreTrainedTokenizerFast(tokenizer_object=t, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                  pad_token="<|endoftext|>")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=len(tok), n_positions=256,
                                       bos_token_id=0, eos_token_id=0, pad_token_id=0))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def use_tiny_gpt_or_stand_in(monkeypatch, tmp_factory) -> bool:
    """Returns True when the real checkpoint is used."""
    if models.tiny_gpt_available():
        return True
    monkeypatch.setattr(models.paths, "TINY_GPT_DIR", stand_in_checkpoint(tmp_factory.mktemp("tiny_gpt")))
    return False
