"""The Week 2 training demos' starting models and cheap versions of their claims (issue #15.3,
#11.2). The full default runs (250/150 steps) are measured in bench/interaction_finetune.py; here
only a few steps run, so the file takes well under a minute on one core."""
import pytest

from lessons import models
from lessons.finetune import lora_training, forgetting, instructions, prompt_tuning

pytestmark = pytest.mark.skipif(not (models.INSTRUCTION_TUNED_DIR / "mood" / "model.safetensors").is_file(),
                                reason="assets/instruction_tuned missing: run scripts/build_instruction_tuned.py")


@pytest.fixture(scope="module")
def mood_start():
    return models.load_instruction_tuned("mood", "cpu")


@pytest.fixture(scope="module")
def two_tasks():
    return models.load_instruction_tuned("two_tasks", "cpu")


def test_forgetting_start_model_knows_task_b_and_not_task_a(mood_start):
    # the page's sentence: "it answers task B 100 % right, so there is something to forget"
    b = instructions.score(mood_start.model, mood_start.tokenizer, instructions.split("mood", "test"))
    a = instructions.score(mood_start.model, mood_start.tokenizer, instructions.split("archaic", "test")[:12])
    assert b["accuracy"] == 1.0 and a["accuracy"] == 0.0
    assert not any(p.requires_grad for p in mood_start.model.parameters())  # shared models are frozen


def test_prompt_tuning_model_needs_its_instruction_for_archaic(two_tasks):
    tok, m = two_tasks.tokenizer, two_tasks.model
    written = prompt_tuning.score(m, tok, prompt_tuning.examples("archaic", "test", blank=False)[:24])
    blank = prompt_tuning.score(m, tok, prompt_tuning.examples("archaic", "test", blank=True)[:24])
    mood_blank = prompt_tuning.score(m, tok, prompt_tuning.examples("mood", "test", blank=True)[:24])
    assert written["accuracy"] >= 0.9      # the skill is there ...
    assert blank["accuracy"] <= 0.1        # ... but without the instruction it picks the wrong one
    assert mood_blank["accuracy"] >= 0.9   # the page: "On 'mood' there is nothing to gain"
    assert prompt_tuning.examples("archaic", "test")[0].prompt.startswith("Instruction: \nInput: ")


def test_soft_prompt_moves_blank_instruction_answers_in_a_few_steps(two_tasks):
    model = models.session_copy(two_tasks.model)
    fp = models.state_fingerprint(model)
    res = prompt_tuning.train_soft_prompt(model, two_tasks.tokenizer, "archaic", n_virtual=16, steps=6, lr=0.1,
                               n_test=8, max_seconds=600)
    assert res["history"][-1]["loss"] < res["history"][0]["loss"]
    assert res["written"]["accuracy"] >= 0.9 and models.state_fingerprint(model) == fp


def test_lower_learning_rate_falls_more_slowly_as_the_lora_page_says():
    # Try-this: "Set the learning rate to 1e-3: the loss falls far more slowly in the same steps."
    lm = models.load_tiny_gpt("cpu")
    D = lora_training.LIVE_DEFAULTS
    final = {}
    for lr in (1e-3, D["lr"]):
        bank = lora_training.AdapterBank(models.session_copy(lm.model))
        bank.fresh_adapter("archaic", D["r"], D["alpha"], D["targets"])
        res = lora_training.train(bank.model, lm.tokenizer, instructions.split("archaic", "train"), steps=20, lr=lr,
                             seed=0, max_seconds=600)
        final[lr] = sum(h["loss"] for h in res.history[-5:]) / 5
    assert final[1e-3] > final[D["lr"]] + 0.3


def test_forgetting_verdict_says_what_was_measured():
    before = {"task_b_accuracy": 1.0}
    full = {"task_b_accuracy": 0.0, "task_a_word_accuracy": 0.85}
    same = forgetting.verdict(before, full, {"task_b_accuracy": 0.05, "task_a_word_accuracy": 0.8}, 0.0)
    assert "about as much" in same and "100%" in same and "mixing" in same
    less = forgetting.verdict(before, full, {"task_b_accuracy": 0.9, "task_a_word_accuracy": 0.8}, 0.0)
    assert "clearly less" in less
    more = forgetting.verdict(before, {"task_b_accuracy": 0.6, "task_a_word_accuracy": 0.8},
                              {"task_b_accuracy": 0.0, "task_a_word_accuracy": 0.8}, 0.25)
    assert "MORE" in more and "m = 0.25" in more



@pytest.mark.slow
def test_each_adapter_does_its_own_task_and_the_base_neither():
    """Try-this on the live LoRA page: "Train 'archaic', then 'mood', then swap adapters in
    section 3: each adapter does its own task on the very same frozen base, and the base alone
    does neither." Both adapters at the page's defaults on one bank, as the page trains them.
    Measured (seed 0, the page's default): archaic 86% exact with its adapter, mood 100%; every
    other pairing 0% (mood's floor, always answering the commonest label, is 53%)."""
    lm = models.load_tiny_gpt("cpu")
    bank = lora_training.AdapterBank(models.session_copy(lm.model))
    fp = bank.base_fingerprint()
    tasks = ("archaic", "mood")
    for t in tasks:
        lora_training.train_adapter(bank, lm.tokenizer, t, max_seconds=3600)
    assert bank.base_fingerprint() == fp
    for t in tasks:
        test = instructions.split(t, "test")[:36]
        floor = instructions.majority_baseline(t)["accuracy"]
        own = bank.score(t, lm.tokenizer, test)["accuracy"]
        other = bank.score(next(o for o in tasks if o != t), lm.tokenizer, test)["accuracy"]
        base = bank.score(None, lm.tokenizer, test)["accuracy"]
        assert own >= 0.5 and own > floor, (t, own, floor)
        assert other <= floor and base <= floor, (t, other, base, floor)
