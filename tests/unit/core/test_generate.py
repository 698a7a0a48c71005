"""lessons.core.generate, the one generation helper: each entry point against transformers'
own generate() on the shipped tiny GPT (greedy, seeded sampling, repetition penalty), the
stop rule, whitespace, private seeding, and the model's mode left as it was; sample_tokens
(RLHF's KV-cache sampler) against generate()'s sampling on a left-padded batch. ~4 s."""
from __future__ import annotations

import pytest
import torch

from lessons import models
from lessons.core.generate import Generation, generate, generate_with, greedy_batch, pad_id, sample_tokens
from lessons.core.tensors import left_pad

needs_ckpt = pytest.mark.skipif(not models.tiny_gpt_available(), reason="assets/tiny_gpt missing")
PROMPTS = ["ROMEO\n", "KING HENRY IV\nWhat says", "To be, or not"]


@pytest.fixture(scope="module")
def tiny():
    return models.load_tiny_gpt("cpu")


def _hf(lm, prompt, n, **kw):
    """transformers directly: the reference the helper must reproduce."""
    enc = lm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = lm.model.generate(**enc, max_new_tokens=n, pad_token_id=pad_id(lm.tokenizer), **kw)
    return lm.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)


@pytest.mark.slow
@needs_ckpt
def test_greedy_batch_is_transformers_greedy_cut_at_the_stop(tiny):
    together = greedy_batch(tiny.model, tiny.tokenizer, PROMPTS, 10, "\n")
    for p, got in zip(PROMPTS, together):
        ref = _hf(tiny, p, 10, do_sample=False).split("\n")[0].strip()
        assert got == ref
        assert greedy_batch(tiny.model, tiny.tokenizer, [p], 10, "\n") == [got]   # batch = alone
    assert any(together)                       # not all empty: the check compared real text


@needs_ckpt
def test_greedy_batch_leaves_the_mode_and_takes_custom_inputs(tiny):
    m = models.session_copy(tiny.model).train()
    plain = greedy_batch(m, tiny.tokenizer, PROMPTS[:1], 6, "\n")
    assert m.training                          # measured in eval mode, handed back in train mode
    # the same model inputs built by hand (embeddings instead of ids) give the same answer
    emb = greedy_batch(m, tiny.tokenizer, PROMPTS[:1], 6, "\n",
                       lambda ids, mask, pos: {"inputs_embeds": m.get_input_embeddings()(ids)})
    assert emb == plain


@pytest.mark.slow
@needs_ckpt
def test_generate_with_greedy_and_repetition_penalty_match_transformers(tiny):
    for p in PROMPTS:
        g = generate_with(tiny.model, tiny.tokenizer, p, 20, None)
        assert isinstance(g, Generation) and g.n_new_tokens == 20 and g.stopped_by == "token limit"
        assert g.completion == _hf(tiny, p, 20, do_sample=False).strip()
    p = PROMPTS[0]
    pen = generate_with(tiny.model, tiny.tokenizer, p, 30, None, repetition_penalty=1.5)
    assert pen.completion == _hf(tiny, p, 30, do_sample=False, repetition_penalty=1.5).strip()
    assert pen.completion != generate_with(tiny.model, tiny.tokenizer, p, 30, None).completion


@pytest.mark.slow
@needs_ckpt
def test_sampling_is_seeded_privately_and_equals_manual_seed_then_generate(tiny):
    p, kw = PROMPTS[0], dict(do_sample=True, temperature=0.8, top_k=40)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = generate(tiny, p, 25, None, seed=5, **kw).completion
    assert torch.equal(torch.random.get_rng_state(), state)   # the global generator is untouched
    assert generate(tiny, p, 25, None, seed=5, **kw).completion == a
    assert generate(tiny, p, 25, None, seed=6, **kw).completion != a
    torch.manual_seed(5)
    assert a == _hf(tiny, p, 25, **kw).strip()


@pytest.mark.slow
@needs_ckpt
def test_stop_strings_and_whitespace(tiny):
    raw = generate_with(tiny.model, tiny.tokenizer, "ROMEO\n", 30, None, do_sample=True, seed=3, strip=False)
    stripped = generate_with(tiny.model, tiny.tokenizer, "ROMEO\n", 30, None, do_sample=True, seed=3)
    assert stripped.completion == raw.completion.strip()
    assert "\n" in raw.completion                              # the play's layout is kept
    greedy = generate_with(tiny.model, tiny.tokenizer, "KING HENRY IV\n", 30, None, strip=False)
    assert "\n" in greedy.completion.strip()                  # so the stop below has work to do
    cut = generate_with(tiny.model, tiny.tokenizer, "KING HENRY IV\n", 30, None, ("\n",))
    assert cut.completion == greedy.completion.split("\n")[0].strip()
    assert cut.stopped_by == "stop string" and cut.n_new_tokens < 30


def _batch(tok, prompts):
    return left_pad([tok(p, add_special_tokens=False)["input_ids"] for p in prompts], pad_id(tok))   # (B, P)


@pytest.mark.slow
@needs_ckpt
def test_sample_tokens_is_transformers_sampling_on_a_left_padded_batch(tiny):
    tok, ids_mask = tiny.tokenizer, _batch(tiny.tokenizer, PROMPTS)
    ids, mask = ids_mask
    assert (mask == 0).any()                                    # the batch really is left-padded
    torch.manual_seed(99)
    state = torch.random.get_rng_state()
    eos = torch.tensor([tok.eos_token_id])
    acts, amask = sample_tokens(tiny.model, ids, mask, 12, temperature=0.8, stop_ids=eos, pad=pad_id(tok),
                                generator=torch.Generator().manual_seed(4))
    assert torch.equal(torch.random.get_rng_state(), state)    # drawn from the private generator only
    assert acts.shape == amask.shape == (3, 12) and bool(amask.all())   # EOS never came: 12 real tokens
    torch.manual_seed(4)                                        # generate() draws from the global one
    with torch.no_grad():
        ref = tiny.model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=0.8, top_k=0,
                                  top_p=1.0, max_new_tokens=12, pad_token_id=pad_id(tok))
    assert torch.equal(acts, ref[:, ids.shape[1]:])             # the same tokens, row by row


@needs_ckpt
def test_sample_tokens_stops_each_row_at_a_stop_token_and_is_seeded(tiny):
    tok = tiny.tokenizer
    ids, mask = _batch(tok, PROMPTS + ["O"])
    # A frequent stop set (every token with a space or a newline), so rows stop at different steps.
    stops = torch.tensor(sorted(i for t, i in tok.get_vocab().items() if any(c in tok.convert_tokens_to_string([t])
                                                                               for c in " \n")))
    before = models.state_fingerprint(tiny.model)
    run = lambda seed: sample_tokens(tiny.model, ids, mask, 20, generator=torch.Generator().manual_seed(seed),  # noqa: E731
                                     stop_ids=stops, pad=pad_id(tok))
    acts, amask = run(0)
    B, T = acts.shape
    assert B == 4 and T < 20                                    # every row stopped, so the loop ended early
    lengths = amask.sum(1).tolist()
    assert len(set(lengths)) > 1                                # ... at different steps
    for i, n in enumerate(lengths):
        assert amask[i].tolist() == [1] * n + [0] * (T - n)     # real actions first, then nothing
        assert not torch.isin(acts[i, :n - 1], stops).any()     # only the last real action is a stop
        assert n == T or bool(torch.isin(acts[i, n - 1], stops))
        assert (acts[i, n:] == pad_id(tok)).all()               # after the stop: pad
    again = run(0)
    assert torch.equal(again[0], acts) and torch.equal(again[1], amask)     # same seed, same actions
    assert not torch.equal(run(1)[0][:, :1], acts[:, :1])       # another seed, other first tokens
    assert models.state_fingerprint(tiny.model) == before       # read-only on the model
    empty = sample_tokens(tiny.model, ids, mask, 0, generator=torch.Generator().manual_seed(0))
    assert empty[0].shape == empty[1].shape == (4, 0)
