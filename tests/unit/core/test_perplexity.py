"""Surprisal / perplexity against transformers' own loss; continued pretraining on a copy."""
import math

import pytest
import torch

from lessons import corpus, models
from lessons.pretraining import domain_adaptation, tiny_gpt, surprisal
from lessons.core.perplexity import perplexity


@pytest.fixture(scope="module")
def tiny():
    if not models.tiny_gpt_available():
        pytest.fail("assets/tiny_gpt is missing: run scripts/pretrain_tiny_gpt.py")
    return models.load_tiny_gpt("cpu")


def test_mean_surprisal_equals_transformers_loss(tiny):
    text = "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer"
    s = surprisal.surprisal(tiny.model, tiny.tokenizer, text)
    ids = torch.tensor([tiny.tokenizer(text)["input_ids"]])
    loss = tiny.model(ids, labels=ids).loss.item()
    assert s.mean_nats == pytest.approx(loss, rel=1e-5)
    assert s.perplexity == pytest.approx(math.exp(loss), rel=1e-5)
    assert s.nats[0] is None and len(s.tokens) == ids.shape[1]
    assert "".join(s.tokens) == text                         # byte-level pieces re-join exactly
    i = 3
    probs = torch.softmax(tiny.model(ids).logits[0, i - 1], -1)
    assert s.probs[i] == pytest.approx(probs[ids[0, i]].item(), rel=1e-4)
    with pytest.raises(ValueError):
        surprisal.surprisal(tiny.model, tiny.tokenizer, "a")


def test_split_paragraphs_is_disjoint():
    tr, ev = domain_adaptation.split_paragraphs(domain_adaptation.modern_text())
    paras_tr = set(tr.strip().split("\n\n"))
    paras_ev = set(ev.strip().split("\n\n"))
    assert paras_tr and paras_ev and not (paras_tr & paras_ev)


@pytest.mark.slow
def test_text_perplexity_and_bits_per_char(tiny):
    shakes = corpus.shakespeare_text("validation")[:4000]
    r_old = domain_adaptation.text_perplexity(tiny.model, tiny.tokenizer, shakes, block=64)
    ids = tiny_gpt.encode(tiny.tokenizer, shakes)
    assert r_old["perplexity"] == pytest.approx(perplexity(tiny.model, ids[:1024], block=64), rel=1e-6)
    r_new = domain_adaptation.text_perplexity(tiny.model, tiny.tokenizer, domain_adaptation.modern_text(), block=64)
    # The Shakespeare model is more surprised by modern English, per character.
    assert r_new["bits_per_char"] > r_old["bits_per_char"]


@pytest.mark.slow
def test_continued_pretraining_lowers_new_domain_ppl_on_a_copy(tiny):
    fp = models.state_fingerprint(tiny.model)
    copy = models.session_copy(tiny.model)
    tr, ev = domain_adaptation.split_paragraphs(domain_adaptation.modern_text())
    old = corpus.shakespeare_text("validation")[:3000]
    curve = []
    res = domain_adaptation.continued_pretraining(copy, tiny.tokenizer, tr, ev, old, steps=20, lr=1e-3, eval_every=10,
                                   max_seconds=300, seed=0, curve=curve)
    assert res.curve is curve and [c[0] for c in curve] == [0, 10, 20]
    assert res.after["new domain"] < 0.9 * res.before["new domain"]
    assert models.state_fingerprint(tiny.model) == fp             # the shared model is untouched
