"""lessons.transformer.next_token: the stage-by-stage pass of SmolLM2 equals the model's own forward."""
import pytest
import torch

from lessons.transformer import next_token



@pytest.mark.slow
def test_top10_matches_model_logits(smol):
    tr = next_token.trace(smol, "The capital of France is", top_k=10)
    ids = torch.tensor([tr.ids])
    with torch.no_grad():
        ref = smol.model(input_ids=ids).logits[0, -1]
    torch.testing.assert_close(tr.logits, ref, atol=1e-4, rtol=1e-5)
    assert tr.top_ids == ref.topk(10).indices.tolist()
    torch.testing.assert_close(torch.tensor(tr.top_probs), ref.softmax(-1).topk(10).values, atol=1e-6, rtol=0)
    assert tr.top_labels[0] == "␣Paris"
    assert tr.lens_labels[-1] == "␣Paris"  # reading out after the last block = the final answer
    assert abs(float(tr.probs.sum()) - 1) < 1e-4   # float32 over 49,152 entries: the order of the sum moves the last digits


def test_stage_shapes(smol):
    tr = next_token.trace(smol, "Hello there, how are")
    T = len(tr.ids)
    assert tr.embeddings.shape == (T, 576)
    assert tr.block_outputs.shape == (30, T, 576)
    assert tr.final_hidden.shape == (576,) and tr.logits.shape == (49152,)
    shapes = [s.shape for s in tr.stages]
    assert shapes[0] == f"(1, {T})" and shapes[1] == f"(1, {T}, 576)"
    assert shapes[2] == f"(1, {T}, 576) → (1, {T}, 576)" and shapes[5] == "(49152,)" and shapes[6] == "(49152,)"
    # the embedding stage is a plain lookup in the (tied) embedding table
    W = smol.model.model.embed_tokens.weight
    torch.testing.assert_close(tr.embeddings, W[tr.ids].detach())
    assert smol.model.lm_head.weight.data_ptr() == W.data_ptr()  # tied weights, as the page says


@pytest.mark.slow
def test_long_prompt_keeps_the_end(smol):
    tr = next_token.trace(smol, "a b c d " * 40 + "The capital of France is")
    assert tr.truncated and len(tr.ids) == next_token.MAX_TOKENS
    assert tr.labels[-1] == "␣is"
