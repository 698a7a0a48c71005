"""lessons.finetune: data, batches, training loop bounds, LoRA on a frozen base, adapters,
forgetting metrics. Mechanics run on a small stand-in GPT-2 (fast, deterministic); the
learning checks run on the real tiny GPT once assets/tiny_gpt exists."""
import copy

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from lessons import corpus, models
from lessons.core.loop import StopReason
from lessons.finetune import lora, lora_training, forgetting, instructions


@pytest.fixture(scope="module")
def tok():
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers import models as tm

    t = Tokenizer(tm.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=512, special_tokens=["<|endoftext|>"],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    t.train_from_iterator(corpus.shakespeare_text("train")[:200_000].split("\n\n"), trainer=tr)
    return PreTrainedTokenizerFast(tokenizer_object=t, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


@pytest.fixture(scope="module")
def gpt(tok):
    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=len(tok), n_positions=256,
                     bos_token_id=0, eos_token_id=0, pad_token_id=0)
    return GPT2LMHeadModel(cfg).eval()


def test_datasets_two_tasks_with_splits():
    assert {"archaic", "mood"} <= set(instructions.task_names())
    for row in instructions.split_table():
        assert row["train"] > row["validation"] > 0 and row["test"] > 0
    a = instructions.load_task("archaic")
    assert all(e.output != e.input for e in a)
    assert {e.output for e in instructions.load_task("mood")} == {"love", "war"}
    # no example is in two splits
    for t in instructions.task_names():
        tr = {e.input for e in instructions.split(t, "train")}
        assert not tr & {e.input for e in instructions.split(t, "test")}


def test_template_and_label_mask(tok):
    ex = instructions.split("mood", "train")[:3]
    b = instructions.make_batch(tok, ex)
    assert b["input_ids"].shape == b["labels"].shape == b["attention_mask"].shape
    for i, e in enumerate(ex):
        keep = b["labels"][i] != -100
        assert tok.decode(b["labels"][i][keep]) == " " + e.output + "\n"  # only the completion
        assert tok.decode(b["input_ids"][i][b["attention_mask"][i] == 1]) == e.prompt + e.completion
    assert ex[0].prompt.startswith("Instruction: Is this line about love or war?\nInput: ")


def test_batched_generation_equals_one_by_one(gpt, tok):
    prompts = [e.prompt for e in instructions.split("archaic", "test")[:3]] + ["Instruction: x\nInput: y\nResponse:"]
    together = instructions.generate(gpt, tok, prompts, max_new_tokens=4)
    alone = [instructions.generate(gpt, tok, [p], max_new_tokens=4)[0] for p in prompts]
    assert together == alone


@pytest.mark.slow
def test_lora_training_lowers_loss_and_leaves_base_alone(gpt, tok):
    shared_before = models.state_fingerprint(gpt)
    bank = lora_training.AdapterBank(models.session_copy(gpt))
    out = lora_training.train_adapter(bank, tok, "mood", r=4, alpha=8, targets=["c_attn"], steps=12, lr=1e-2,
                           batch_size=8, n_test=6)
    hist = out["train"]["history"]
    assert out["train"]["steps_done"] == 12
    assert sum(h["loss"] for h in hist[-3:]) < sum(h["loss"] for h in hist[:3])
    assert out["fingerprint_before"] == out["fingerprint_after"] == shared_before
    assert out["trainable"] == lora.lora_parameter_count(gpt, 4, ["c_attn"])
    assert models.state_fingerprint(gpt) == shared_before
    assert out["after"]["loss"] < out["before"]["loss"]


@pytest.mark.slow
def test_adapters_swap_on_one_base(gpt, tok):
    bank = lora_training.AdapterBank(models.session_copy(gpt))
    lora_training.train_adapter(bank, tok, "mood", steps=4, batch_size=4, n_test=2)
    lora_training.train_adapter(bank, tok, "archaic", r=2, steps=4, batch_size=4, n_test=2)
    assert bank.names == ["mood", "archaic"]
    x = instructions.make_batch(tok, instructions.split("mood", "test")[:2])
    with torch.no_grad():
        outs = {}
        for name in (None, "mood", "archaic"):
            with bank.use(name):
                outs[name] = bank.model(input_ids=x["input_ids"]).logits
        ref = gpt(input_ids=x["input_ids"]).logits
    assert torch.allclose(outs[None], ref, atol=1e-5)  # adapter off == the base
    assert not torch.allclose(outs["mood"], outs["archaic"], atol=1e-4)
    # retraining one adapter (new rank) keeps the other and the base
    lora_training.train_adapter(bank, tok, "mood", r=8, steps=2, batch_size=4, n_test=2)
    assert bank.configs["mood"]["r"] == 8 and bank.configs["archaic"]["r"] == 2
    assert bank.base_fingerprint() == models.state_fingerprint(gpt)


def test_train_is_bounded_and_stoppable(gpt, tok):
    """On the shared run loop: progress(row, run) after each step; its return value is ignored;
    only should_stop() stops, and a step that sees it before its update is not applied."""
    m = models.session_copy(gpt)
    seen = []
    res = lora_training.train(m, tok, instructions.split("mood", "train"), steps=50, batch_size=4,
                         progress=lambda row, run: seen.append(row["step"]) or True,
                         should_stop=lambda: len(seen) >= 3)
    assert res.steps_done == 3 and res.stopped is StopReason.STOPPED and seen == [1, 2, 3]
    assert res.to_dict()["stopped"] == "stopped" and [h["step"] for h in res.to_dict()["history"]] == [1, 2, 3]
    # a Stop seen after the backward pass: that step's update is not applied
    m2, asked = models.session_copy(gpt), []
    before = models.state_fingerprint(m2)
    res = lora_training.train(m2, tok, instructions.split("mood", "train"), steps=5, batch_size=4,
                         should_stop=lambda: asked.append(1) or len(asked) >= 2)
    assert res.steps_done == 0 and res.stopped is StopReason.STOPPED
    assert models.state_fingerprint(m2) == before
    res = lora_training.train(m, tok, instructions.split("mood", "train"), steps=10_000, batch_size=4, max_seconds=0.0)
    assert res.steps_done == 1 and res.stopped is StopReason.TIME
    res = lora_training.train(m, tok, instructions.split("mood", "train"), steps=2, batch_size=4)
    assert res.steps_done == 2 and res.stopped is StopReason.STEPS
    frozen = models.session_copy(gpt)
    for p in frozen.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError):
        lora_training.train(frozen, tok, instructions.split("mood", "train"), steps=1)


def test_mixing_puts_task_b_in_batches(tok, gpt, monkeypatch):
    seen = []
    real = instructions.make_batch

    def spy(tokenizer, examples):
        seen.append([e.task for e in examples])
        return real(tokenizer, examples)

    monkeypatch.setattr(lora_training, "make_batch", spy)
    lora_training.train(models.session_copy(gpt), tok, instructions.split("archaic", "train"), steps=2, batch_size=8,
             mix_examples=instructions.split("mood", "train"), mix=0.25)
    assert seen[0].count("mood") == 2 and seen[0].count("archaic") == 6


@pytest.mark.slow
def test_full_vs_lora_forgetting_mechanics(gpt, tok):
    before = models.state_fingerprint(gpt)
    start, _ = forgetting.prepare_start(gpt, tok, steps=3)
    assert models.state_fingerprint(gpt) == before  # the shared model is never trained
    full = forgetting.finetune_on_task(start, tok, "full", steps=3, n_test=4)
    lo = forgetting.finetune_on_task(start, tok, "lora", steps=3, r=4, targets=["c_attn"], n_test=4)
    assert full["trainable"] == full["total"] == sum(p.numel() for p in gpt.parameters())
    assert lo["trainable"] == lora.lora_parameter_count(gpt, 4, ["c_attn"])
    assert full["base_changed"] and not lo["base_changed"]
    assert lo["memory_mb"]["total"] < full["memory_mb"]["total"]
    for k in ("task_a_accuracy", "task_b_accuracy", "shakespeare_ppl"):
        assert k in full["after"] and k in lo["after"]


@pytest.mark.slow
def test_the_lora_forgetting_run_is_repeatable_whatever_ran_before(gpt, tok):
    """Same seed, same LoRA run, even when other code drew from torch's global generator in
    between (another session, another lesson): peft's A init must come from the seed."""
    nodrop = copy.deepcopy(gpt)
    for m in nodrop.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0           # as in the app's models (no dropout), so only the seed decides
    start, _ = forgetting.prepare_start(nodrop, tok, steps=2)

    def lora_run():
        live = {}
        forgetting.finetune_on_task(start, tok, "lora", steps=2, r=4, targets=["c_attn"], n_test=2, live=live)
        return [p.detach().clone() for n, p in live["model"].named_parameters() if "lora_" in n]

    first = lora_run()
    torch.rand(1000)            # the global generator moves on, as it does on a shared server
    second = lora_run()
    assert len(first) == len(second) > 0
    assert all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.slow
def test_a_stopped_forgetting_run_keeps_what_was_trained(gpt, tok):
    """Stop during full fine-tuning: it is scored as it was and LoRA is skipped. A run cut off
    from outside (a page's script ended inside progress) during LoRA: the caller's ``live``
    dict holds the finished full run and the LoRA model, and finish_comparison scores it."""
    from lessons.core.loop import StopReason
    start, _ = forgetting.prepare_start(gpt, tok, steps=2)
    asked = []
    out = forgetting.compare_full_and_lora(start, tok, steps=5, r=4, targets=["c_attn"], n_test=4,
                                           should_stop=lambda: asked.append(1) or len(asked) > 4)
    assert set(out) == {"full"} and out["full"]["train"]["steps_done"] == 2
    assert out["full"]["train"]["stopped"] == StopReason.STOPPED.value and "task_b_accuracy" in out["full"]["after"]

    class Ended(Exception):
        pass

    def progress(method, row, run):
        if method == "lora" and row["step"] == 2:
            raise Ended

    live: dict = {}
    with pytest.raises(Ended):
        forgetting.compare_full_and_lora(start, tok, steps=3, r=4, targets=["c_attn"], n_test=4,
                                         progress=progress, live=live)
    assert live["full"]["train"]["stopped"] == StopReason.STEPS.value and live["training"]["method"] == "lora"
    forgetting.finish_comparison(live, tok)
    assert set(live) == {"full", "lora"} and "model" not in live["lora"]
    assert live["lora"]["train"]["steps_done"] == 2 and live["lora"]["train"]["stopped"] == StopReason.STOPPED.value
    assert not live["lora"]["base_changed"] and "task_a_accuracy" in live["lora"]["after"]


@pytest.fixture(scope="module")
def tiny():
    if not models.tiny_gpt_available():
        pytest.fail("assets/tiny_gpt is missing: run scripts/pretrain_tiny_gpt.py")
    return models.load_tiny_gpt()


@pytest.mark.slow
def test_real_tiny_gpt_learns_a_task_with_lora(tiny):
    before = models.state_fingerprint(tiny.model)
    bank = lora_training.AdapterBank(models.session_copy(tiny.model))
    out = lora_training.train_adapter(bank, tiny.tokenizer, "archaic", targets=["c_attn", "lm_head"], steps=40,
                           lr=1e-2, n_test=12, max_seconds=600)
    assert out["after"]["loss"] < 0.6 * out["before"]["loss"]
    assert out["after"]["word_accuracy"] > out["before"]["word_accuracy"]
    assert models.state_fingerprint(tiny.model) == before == out["fingerprint_after"]


@pytest.mark.slow
def test_real_tiny_gpt_forgets_and_mixing_helps():
    """Full fine-tuning on task A makes the model forget task B; mixing B into the batches
    keeps it (the claim the forgetting page makes), from the page's own starting point: the
    shipped tiny GPT instruction-tuned on task B (assets/instruction_tuned/mood)."""
    lm = models.load_instruction_tuned("mood", "cpu")
    start, tok = lm.model, lm.tokenizer
    b_before = instructions.score(start, tok, instructions.split("mood", "test")[:16])["accuracy"]
    assert b_before >= 0.9
    plain = forgetting.finetune_on_task(start, tok, "full", steps=60, mix=0.0, n_test=16, max_seconds=600)
    mixed = forgetting.finetune_on_task(start, tok, "full", steps=60, mix=0.5, n_test=16, max_seconds=600)
    assert plain["after"]["task_b_accuracy"] <= b_before - 0.3
    assert mixed["after"]["task_b_accuracy"] > plain["after"]["task_b_accuracy"]
