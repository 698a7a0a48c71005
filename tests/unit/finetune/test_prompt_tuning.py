"""lessons.finetune.prompt_tuning against peft's PromptTuningConfig, and the frozen-model guarantee."""
import copy

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from lessons import models
from lessons.core.loop import Run, StopReason
from lessons.finetune import instructions, prompt_tuning
from tests.unit.finetune.test_lora_training import tok  # noqa: F401  (module-scoped BPE fixture)


@pytest.fixture(scope="module")
def gpt(tok):  # noqa: F811
    torch.manual_seed(1)
    cfg = GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=len(tok), n_positions=256,
                     bos_token_id=0, eos_token_id=0, pad_token_id=0)
    return GPT2LMHeadModel(cfg).eval()


@pytest.mark.parametrize("n", [1, 8, 20])
def test_count_equals_peft(gpt, n):
    assert prompt_tuning.soft_prompt_count(n, 64) == prompt_tuning.peft_prompt_tuning_count(gpt, n) == n * 64


def test_same_logits_as_peft_prompt_tuning(gpt, tok):  # noqa: F811
    from peft import PromptTuningConfig, get_peft_model

    soft = prompt_tuning.SoftPrompt(gpt, 5, seed=3)
    pm = get_peft_model(copy.deepcopy(gpt), PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5))
    with torch.no_grad():
        pm.prompt_encoder["default"].embedding.weight.copy_(soft.prompt)
    b = instructions.make_batch(tok, instructions.split("mood", "test")[:3])
    with torch.no_grad():
        ours = gpt(**soft.prepend(gpt, b["input_ids"], b["attention_mask"], b["labels"]))
        ref = pm(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"])
    assert ours.logits.shape == ref.logits.shape
    assert torch.allclose(ours.logits, ref.logits, atol=1e-5)
    assert ours.loss.item() == pytest.approx(ref.loss.item(), rel=1e-5)


def test_init_from_text_copies_embeddings(gpt):
    soft = prompt_tuning.SoftPrompt(gpt, 4, init_ids=[5, 6])
    emb = gpt.get_input_embeddings().weight
    assert torch.equal(soft.prompt[0], emb[5]) and torch.equal(soft.prompt[3], emb[6])


@pytest.mark.slow
def test_training_moves_only_the_soft_prompt(gpt, tok):  # noqa: F811
    shared = models.state_fingerprint(gpt)
    copy_ = models.session_copy(gpt)
    out = prompt_tuning.train_soft_prompt(copy_, tok, "mood", n_virtual=4, steps=15, lr=0.1, batch_size=8, n_test=4)
    h = out["history"]
    assert out["trainable"] == 4 * 64
    assert sum(x["loss"] for x in h[-3:]) < sum(x["loss"] for x in h[:3])
    assert not out["grad_on_model"]  # the frozen model accumulates no gradients
    assert models.state_fingerprint(copy_) == models.state_fingerprint(gpt) == shared
    assert len(out["after"]["rows"]) == 4


def test_training_is_bounded(gpt, tok):  # noqa: F811
    out = prompt_tuning.train_soft_prompt(models.session_copy(gpt), tok, "mood", n_virtual=2, steps=1000,
                               max_seconds=0.0, n_test=1)
    assert len(out["history"]) == 1 and out["stopped"] == StopReason.TIME.value
    assert out["why"] == "time limit reached" and out["steps_planned"] == 1000


@pytest.mark.slow
def test_stop_keeps_the_run_and_applies_no_half_step(gpt, tok):  # noqa: F811
    """A Stop (should_stop) ends the shared run loop; the caller's Run keeps the history, and
    the soft prompt equals what the last recorded step left (the interrupted step is not applied)."""
    run, seen = Run(50, 600.0), []
    soft = prompt_tuning.make_soft_prompt(gpt, tok, "mood", 2, init="random")
    snapshots = []
    out = prompt_tuning.train_soft_prompt(models.session_copy(gpt), tok, "mood", steps=50, n_test=1, soft=soft, run=run,
                               progress=lambda row, r: snapshots.append(soft.prompt.detach().clone()),
                               should_stop=lambda: seen.append(1) or len(seen) >= 4)
    # asked before step 1 (1), before its update (2), before step 2 (3), before its update (4): stop
    assert run.stopped is StopReason.STOPPED and run.steps_done == 1 and out["history"] == run.history
    assert out["why"] == "stopped by you" and torch.equal(soft.prompt, snapshots[-1])
