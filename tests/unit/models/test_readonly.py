"""Shared models are read-only in code, and lessons that read a model's internals stay correct
while other sessions run forward passes on the same model at the same time (Streamlit runs
every session in a thread of one process, on the ONE cached model).

The concurrency test failed on the old lessons.transformer.next_token.trace, which registered a forward
hook on the shared SmolLM2's final norm: another thread's forward pass fired the hook and
overwrote the captured tensor (wrong traces, or "stack expects each tensor to be equal size").
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import torch

from lessons import models
from lessons.transformer import attention, embeddings, next_token
from lessons.decoding import sampling

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = 6           # each lesson thread repeats its call this many times
PROMPTS = ["The capital of France is", "Once upon a time, in a small village, there lived a"]
NOISE = ["Hi", "A much longer prompt that other learners type while you read the trace page, "
         "with many more tokens than yours so that any tensor captured from their pass has "
         "another shape."]


def _trace_fields(t: next_token.NextTokenTrace) -> dict:
    return {"blocks": t.block_outputs, "final": t.final_hidden, "logits": t.logits,
            "lens": t.lens_labels, "top": t.top_labels}


def _same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a)


@pytest.mark.slow
def test_loaders_freeze_and_session_copies_train(smol, minilm):
    for lm in (smol, minilm):
        assert not lm.model.training
        assert not any(p.requires_grad for p in lm.model.parameters())
    copy = models.session_copy(smol.model)
    assert copy.training and all(p.requires_grad for p in copy.parameters())
    assert not any(p.requires_grad for p in smol.model.parameters())   # the shared one stays frozen
    with pytest.raises(RuntimeError):   # backward through a shared model fails loudly
        smol.model(input_ids=torch.tensor([[1, 2, 3]])).logits.sum().backward()


def test_no_code_registers_hooks():
    """Hooks on a shared module fire for every session's forward pass: none in our code."""
    hook = re.compile(r"\.register_(forward|forward_pre|full_backward|backward)_hook\(")
    found = [str(p.relative_to(ROOT)) for d in ("lessons", "ui", "pages") for p in (ROOT / d).rglob("*.py")
             if hook.search(p.read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.slow
def test_internals_identical_under_concurrent_forward_passes(smol, minilm):
    jobs = {   # name -> (call, comparable result)
        "trace_0": lambda: _trace_fields(next_token.trace(smol, PROMPTS[0])),
        "trace_1": lambda: _trace_fields(next_token.trace(smol, PROMPTS[1])),
        "attention_smol": lambda: {"att": attention.run_attention(smol, PROMPTS[1]).attentions},
        "attention_minilm": lambda: {"att": attention.run_attention(minilm, PROMPTS[1]).attentions},
        "contextual": lambda: {"sims": embeddings.contextual(minilm, "bank", "I sat on the river bank.",
                                                             "I paid at the bank.").layer_similarity},
    }
    serial = {name: call() for name, call in jobs.items()}
    assert len(serial["trace_0"]["lens"]) == smol.model.config.num_hidden_layers

    stop = threading.Event()
    start = threading.Barrier(len(jobs) + 2)
    wrong: list[str] = []

    def lesson(name, call):
        start.wait()
        for _ in range(ROUNDS):
            try:
                if not _same(call(), serial[name]):
                    wrong.append(f"{name}: different result")
            except Exception as exc:  # noqa: BLE001  (a crash is a wrong result too)
                wrong.append(f"{name}: {type(exc).__name__}: {exc}")

    def noise(lm, i):
        start.wait()
        while not stop.is_set():
            if lm is smol:
                sampling.next_token_logits(lm.model, lm.tokenizer, NOISE[i % 2])
            else:
                with torch.no_grad():
                    lm.model(**lm.tokenizer(NOISE[i % 2], return_tensors="pt"))
            i += 1

    threads = [threading.Thread(target=lesson, args=item) for item in jobs.items()]
    noisy = [threading.Thread(target=noise, args=(smol, 0)), threading.Thread(target=noise, args=(minilm, 1))]
    for t in threads + noisy:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in noisy:
        t.join()
    assert wrong == []
    assert not any(p.requires_grad for p in smol.model.parameters())
