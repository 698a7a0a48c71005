"""The LM as a policy: sampling masks, left-padding-correct log-probs (checked against a plain
transformers forward of each row alone), LoRA reference = adapter disabled, memory report."""
import pytest
import torch
import torch.nn.functional as F

from lessons import models
from lessons.rlhf import policy
from tests.unit.rlhf.toys import toy_gpt


@pytest.fixture(scope="module")
def toy():
    return toy_gpt(seed=1)


def test_sample_masks_stop_tokens_and_determinism(toy):
    model, tok = toy
    before = models.state_fingerprint(model)
    prompts = ["My lord,", "O", "The king hath said that"]
    g = torch.Generator().manual_seed(0)
    ro = policy.sample(model, tok, prompts, max_new_tokens=10, generator=g)
    B, T = ro.action_mask.shape
    assert B == 3 and T <= 10 and ro.input_ids.shape == (3, ro.prompt_len + T)
    stops = policy.stop_token_ids(tok)
    for i in range(B):
        m = ro.action_mask[i].tolist()
        n = sum(m)
        assert m == [1] * n + [0] * (T - n)                      # real actions first, then padding
        acts = ro.input_ids[i, ro.prompt_len:ro.prompt_len + n]
        # only the last real action may be a stop token
        assert not torch.isin(acts[:-1], stops).any()
        assert n == T or torch.isin(acts[-1:], stops).all()
    again = policy.sample(model, tok, prompts, max_new_tokens=10, generator=torch.Generator().manual_seed(0))
    assert again.completions == ro.completions
    assert models.state_fingerprint(model) == before


def test_token_logprobs_match_unpadded_forward(toy):
    model, tok = toy
    ro = policy.sample(model, tok, ["Hi", "Now is the winter of"], 6, generator=torch.Generator().manual_seed(3))
    st = policy.token_stats(model, ro.input_ids, ro.attention_mask, ro.prompt_len)
    for i in range(2):
        keep = ro.attention_mask[i].bool()
        ids = ro.input_ids[i][keep][None]                     # the row alone, no padding
        n_prompt = int(ro.attention_mask[i, :ro.prompt_len].sum())
        logits = model(input_ids=ids).logits[0]
        ref = F.log_softmax(logits[n_prompt - 1:-1], -1).gather(-1, ids[0, n_prompt:, None]).squeeze(-1)
        n = int(ro.action_mask[i].sum())
        assert torch.allclose(st.logp[i, :n], ref, atol=1e-4)
        p = torch.softmax(logits[n_prompt - 1:-1], -1)
        ent = -(p * p.log()).sum(-1)
        assert torch.allclose(st.entropy[i, :n], ent, atol=1e-3)


def test_from_shared_reference_is_the_shared_model(toy):
    model, tok = toy
    pol = policy.from_shared(model, tok)
    assert pol.ref is model and pol.lm is not model
    assert all(p.data_ptr() != q.data_ptr() for p, q in zip(pol.lm.parameters(), model.parameters()))
    assert not any(p is q for p in pol.trainable_parameters() for q in model.parameters())
    mem = policy.memory_report(pol)
    assert mem.reference_mb == 0 and mem.naive_reference_mb > 0
    # full fine-tuning trains every weight of pi_theta and its value head: 100 %, never more
    assert mem.trainable_params == mem.total_params == sum(p.numel() for p in pol.parameters())


def test_lora_reference_is_base_with_adapter_disabled(toy):
    model, tok = toy
    pol = policy.with_lora(model, tok, r=4)
    with torch.no_grad():
        for n, p in pol.lm.named_parameters():           # make the adapter non-zero
            if "lora_B" in n:
                p.normal_(0, 0.5)
    ids = torch.tensor([tok.encode("To be or not to be")])
    with torch.no_grad():
        base_logits = model(input_ids=ids).logits
        with pol.reference() as ref:
            ref_logits = ref(input_ids=ids).logits
        lora_logits = pol.lm(input_ids=ids).logits
    assert torch.allclose(ref_logits, base_logits, atol=1e-5)      # pi_ref == the original model
    assert not torch.allclose(lora_logits, base_logits, atol=1e-3)  # pi_theta differs
    mem = policy.memory_report(pol)
    n_base = sum(p.numel() for p in model.parameters())
    assert mem.model_mb == pytest.approx(n_base * 4 / 2**20)
    assert mem.reference_mb == 0 and mem.trainable_params < 0.05 * mem.total_params
    assert mem.adam_mb < mem.naive_adam_mb / 20
