"""rag: the handbook data, retrieval quality on our question set, prompts, bounded greedy
generation (checked against a hand-written argmax loop)."""
import pytest
import torch

from lessons import models
from lessons.retrieval import rag
from lessons.core import generate as core_generate
from lessons.retrieval.vector_store import contains_answer


@pytest.fixture(scope="module")
def encoder():
    return models.load_minilm("cpu")


@pytest.fixture(scope="module")
def index(encoder):
    return rag.build_index(encoder, 40, 10)


def test_every_question_is_answered_by_its_document():
    docs = {d["id"]: d["text"] for d in rag.documents()}
    assert 12 <= len(docs) and len(rag.questions()) >= 15
    for q in rag.questions():
        assert contains_answer(docs[q["doc"]], q["answer"]), q


@pytest.mark.slow
def test_retrieval_puts_the_right_chunk_on_top(index, encoder):
    hits, qv = rag.retrieve(index, encoder, "What is the coffee machine called?", 3)
    assert qv.shape == (384,)
    assert hits[0].item.doc_id == "office" and "Gustave" in hits[0].item.text
    assert hits[0].score > hits[1].score >= hits[2].score


def test_hit_rate_is_high_and_consistent_with_ranks(index, encoder):
    hr3 = rag.hit_rate(index, encoder, 3)
    hr1 = rag.hit_rate(index, encoder, 1)
    assert hr3.rate >= 0.9
    assert hr1.rate <= hr3.rate
    for r in hr3.rows:
        assert r["hit"] == (r["rank"] is not None and r["rank"] <= 3)


@pytest.mark.slow
@pytest.mark.parametrize("size,overlap", [(40, 10), (10, 0)])
def test_hit_rate_curve_equals_an_independent_numpy_ranking(encoder, size, overlap):
    """The page's hit-rate-vs-k curve against a ranking written out here: cosine = dot
    product of unit vectors, numpy argsort, first chunk containing the answer."""
    import numpy as np

    idx = rag.build_index(encoder, size, overlap)
    qs = rag.questions()
    qv = rag.embed([q["q"] for q in qs], encoder)                     # (Q, 384)
    order = np.argsort(-(qv @ idx.store.vectors.T), axis=1, kind="stable")   # (Q, N) best first
    ranks = []
    for q, row in zip(qs, order):
        good = [r + 1 for r, c in enumerate(row) if contains_answer(idx.chunks[c].text, q["answer"])]
        ranks.append(good[0] if good else np.inf)
    ks_ref = np.arange(1, 9)
    ref = (np.array(ranks)[:, None] <= ks_ref[None, :]).mean(0)       # (8,)

    ks, rates = rag.hit_rate_curve(rag.hit_rate(idx, encoder, 3), k_max=8)
    assert ks == ks_ref.tolist()
    assert rates == pytest.approx(ref.tolist(), abs=1e-12)
    assert all(a <= b for a, b in zip(rates, rates[1:]))
    for k in (1, 5):
        assert rates[k - 1] == pytest.approx(rag.hit_rate(idx, encoder, k).rate)
    if (size, overlap) == (10, 0):
        assert rates[0] < rates[-1]       # tiny chunks: k matters, so the curve is not flat


def test_prompts_with_and_without_context():
    tok = models.load_smollm2("cpu").tokenizer
    idx = rag.Index([], None, 40, 10, 0.0)
    from lessons.retrieval.vector_store import Chunk, Hit
    hit = Hit(0, 0.9, Chunk("office", "Office", "The coffee machine is named Gustave.", 0, 6))
    with_ctx = rag.build_rag_prompt(tok, "Coffee machine name?", [hit])
    without = rag.build_rag_prompt(tok, "Coffee machine name?", None)
    assert "[1] The coffee machine is named Gustave." in with_ctx and "Gustave" not in without
    assert with_ctx.endswith("<|im_start|>assistant\n") and "Use only the context" in with_ctx
    assert idx.size == 40


@pytest.mark.slow
def test_core_generate_is_a_bounded_argmax_loop():
    llm = models.load_smollm2("cpu")
    prompt = "The capital of France is"
    g = core_generate.generate(llm, prompt, max_new_tokens=3, max_seconds=120)
    ids = llm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        for _ in range(3):
            nxt = llm.model(ids).logits[0, -1].argmax()
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
    manual = llm.tokenizer.decode(ids[0, -3:], skip_special_tokens=True).strip()
    assert g.n_new_tokens == 3 and g.completion == manual and g.stopped_by == "token limit"
    assert "Paris" in g.completion
    cut = core_generate.generate(llm, prompt, max_new_tokens=3, max_seconds=120, stop=(" Paris",))
    assert "Paris" not in cut.completion and cut.stopped_by == "stop string"


def test_answer_is_correct_is_lenient_on_form_strict_on_facts():
    ok = [("Full-time employees get 27 days of paid vacation.", "27 days"),
          ("It costs 3450 euros.", "3,450 euros"), ("Frames are covered for 10 years.", "10-year"),
          ("The mascot is Pip, a grey heron.", "heron called Pip")]
    bad = [("I don't know.", "Eldrin"), ("It costs 3,540 euros.", "3,450 euros"), ("", "27 days"),
           ("Parental leave is 20 days.", "20 weeks")]
    assert all(rag.answer_is_correct(c, a) for c, a in ok)
    assert not any(rag.answer_is_correct(c, a) for c, a in bad)


def test_every_chat_prompt_has_an_explicit_system_message():
    """Without one, SmolLM2's (and Qwen's) template inserts its own default system prompt: we
    pass that default explicitly, so the prompt is unchanged and nothing is hidden."""
    tok = models.load_smollm2("cpu").tokenizer
    own = models.default_system(tok)
    assert own == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    bare = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert rag.chat_prompt(tok, "Hi") == bare            # identical to what the template did by itself
    assert rag.chat_prompt(tok, "Hi", "Be brief.").startswith("<|im_start|>system\nBe brief.<|im_end|>")

    class NoTemplate:
        def apply_chat_template(self, *a, **k):
            raise ValueError("no chat template")

    assert models.default_system(NoTemplate()) == models.DEFAULT_SYSTEM
