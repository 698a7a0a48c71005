"""lessons.prompting.in_context_learning: the labelled sets, prompt building, the chat template, the token budget,
and batched prefix-cached scoring == scoring every full prompt alone."""
import pytest
import torch
from transformers import AutoConfig, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from lessons import models
from lessons.prompting import in_context_learning


@pytest.fixture(scope="module")
def tok():
    return AutoTokenizer.from_pretrained(models.smollm2_cache_path()) if models.smollm2_cache_is_valid() \
        else models.load_smollm2("cpu").tokenizer


@pytest.fixture(scope="module")
def tiny_llama(tok):
    """A randomly initialised 2-layer Llama with SmolLM2's vocabulary: cheap, same code paths."""
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048)
    return LlamaForCausalLM(cfg).eval()


@pytest.mark.parametrize("key", list(in_context_learning.TASK_FILES))
def test_tasks_are_labelled_balanced_and_held_out(key):
    t = in_context_learning.load_task(key)
    assert 20 <= len(t.test) <= 40
    counts = {lab: sum(e.label == lab for e in t.test) for lab in t.labels}
    assert min(counts.values()) == max(counts.values())           # balanced: chance = 1/len(labels)
    assert all(e.label in t.labels for e in t.examples + t.test)
    assert not {e.text for e in t.examples} & {e.text for e in t.test}  # examples never tested on
    assert len({e.label for e in t.examples}) == len(t.labels)


def test_plain_prompt_layout():
    t = in_context_learning.load_task("sentiment")
    p = in_context_learning.build_plain(t, list(t.examples[:2]), "Nice & cheap <b>")
    assert p.startswith(t.instruction + "\n\n")
    assert p.endswith("Review: Nice & cheap <b>\nSentiment:")
    assert p.count("Sentiment:") == 3 and f"Sentiment: {t.examples[0].label}" in p
    assert in_context_learning.build_plain(t, [], "x", instruction="") == "Review: x\nSentiment:"


def test_chat_template_raw(tok):
    t = in_context_learning.load_task("sentiment")
    p = in_context_learning.build_prompt(t, list(t.examples[:1]), "Great!", tok, use_chat=True)
    assert p.startswith("<|im_start|>system\n" + t.instruction + "<|im_end|>\n")
    assert f"<|im_start|>user\nReview: {t.examples[0].text}<|im_end|>\n<|im_start|>assistant\n{t.examples[0].label}<|im_end|>" in p
    assert p.endswith("<|im_start|>user\nReview: Great!<|im_end|>\n<|im_start|>assistant\n")


def test_label_tokens_are_word_starts_and_disjoint(tok):
    for key in in_context_learning.TASK_FILES:
        t = in_context_learning.load_task(key)
        ids = in_context_learning.label_token_ids(tok, t.labels)
        assert all(ids[lab] for lab in t.labels)
        seen = set()
        for lab, lst in ids.items():
            assert not seen & set(lst)
            seen |= set(lst)
            for i in lst:
                assert lab.startswith(tok.decode([i]).strip().lower())
    # " positive" is one token in SmolLM2's vocabulary and is among the ids
    assert tok(" positive", add_special_tokens=False)["input_ids"][0] in in_context_learning.label_token_ids(tok, ["positive", "negative"])["positive"]


def test_token_budget_uses_the_context_window(tok):
    cfg = AutoConfig.from_pretrained(models.smollm2_cache_path())

    class M:
        config = cfg
    b = in_context_learning.token_budget(tok, M(), "The capital of France is", 20)
    assert b.context_window == 8192
    assert b.prompt_tokens == 5 and b.total == 25 and b.fits
    assert not in_context_learning.TokenBudget(8000, 500, 8192).fits


@pytest.mark.slow
def test_batched_prefix_cache_scoring_equals_one_by_one(tok, tiny_llama):
    t = in_context_learning.load_task("sentiment")
    for chat in (False, True):
        prompts = [in_context_learning.build_prompt(t, list(t.examples), it.text, tok, use_chat=chat) for it in t.test[:7]]
        batched = in_context_learning.next_token_logprobs_batch(tiny_llama, tok, prompts, batch_size=4)
        assert batched.shape == (7, len(tok))
        for i, p in enumerate(prompts):
            ids = tok(p, return_tensors="pt", add_special_tokens=False)["input_ids"]
            with torch.no_grad():
                ref = torch.log_softmax(tiny_llama(ids).logits[0, -1], -1)
            assert torch.allclose(batched[i], ref, atol=1e-4), (chat, i, (batched[i] - ref).abs().max())


def test_score_condition_counts_correct_answers(tok, tiny_llama):
    t = in_context_learning.load_task("topics")
    c = in_context_learning.score_condition(tiny_llama, tok, t, list(t.examples[:1]))
    assert c.name == "one-shot" and len(c.predictions) == len(t.test)
    assert c.accuracy == sum(p == e.label for p, e in zip(c.predictions, t.test)) / len(t.test)
    for row in c.probs:
        assert abs(sum(row.values()) - 1) < 1e-5
    assert 0 <= c.label_mass <= 1
    assert in_context_learning.label_probs(torch.zeros(len(tok)), tok, t.labels)[1] == pytest.approx(
        sum(len(v) for v in in_context_learning.label_token_ids(tok, t.labels).values()) / len(tok))


@pytest.mark.slow
def test_few_shot_beats_zero_shot_on_smollm2():
    """The measured claim of the lesson, on the real model: examples in the prompt help."""
    lm = models.load_smollm2("cpu")
    t = in_context_learning.load_task("sentiment")
    res = in_context_learning.compare_shots(lm.model, lm.tokenizer, t, list(t.examples))
    assert [r.name for r in res] == ["zero-shot", "one-shot", "4-shot"]
    zero, one, few = res
    assert few.accuracy > zero.accuracy and one.accuracy > zero.accuracy
    assert few.label_mass > zero.label_mass              # the examples teach the answer format
