"""The Week 2 training demos' starting models and their claims (issue #15.3, #11.2). The live LoRA
page's full default runs (two adapters, 250 steps each) are checked on their record
(lessons/finetune/recorded.py, with a 2-step live replay that proves the record is what the code
does); the other claims run a few steps here. Speed of the default runs: bench/interaction_finetune.py."""
import math

import pytest

from lessons import models
from lessons.core import records
from lessons.finetune import forgetting, instructions, lora_training, prompt_tuning
from lessons.finetune import recorded as lora_recorded

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



@pytest.fixture(scope="module")
def lora_lab():
    return lora_recorded.Lab(models.load_tiny_gpt("cpu"))


def test_lora_records_are_current(lora_lab):
    """The live LoRA page's default runs have records made by this code, this tiny GPT and this
    torch, and assets/recorded/lora-training/ holds nothing else (scripts/record_runs.py)."""
    store = records.FileStore()
    want = {lora_recorded.key(lora_lab, k, s)[2] for k, s in lora_recorded.RUNS}
    missing = [s for k, s in lora_recorded.RUNS if store.get(k, lora_recorded.key(lora_lab, k, s)[2]) is None]
    assert not missing, f"no current record (run scripts/record_runs.py): {missing}"
    assert set(store.keys(lora_recorded.KIND)) == want, "stale records: run scripts/record_runs.py"


@pytest.mark.slow
def test_the_lora_record_is_what_the_code_does(lora_lab):
    """Both adapters' first 2 steps, trained now, equal the record's first 2 steps, and the base's
    scores before training are the record's (a run takes the same path whatever its length)."""
    full = lora_recorded.recorded(lora_lab, lora_recorded.KIND, lora_recorded.settings())
    assert full is not None, "no current record of the LoRA page's default runs (scripts/record_runs.py)"
    live = lora_recorded.run(lora_lab, lora_recorded.KIND, lora_recorded.settings(), steps=2).result
    for t in lora_recorded.TASKS:
        got, rec = live["runs"][t], full.result["runs"][t]
        assert got["before"]["rows"] == rec["before"]["rows"], t
        assert got["fingerprint_before"] == rec["fingerprint_before"]
        for a, b in zip(got["train"]["history"], rec["train"]["history"][:2], strict=True):
            for k, v in a.items():
                if k not in ("seconds", "elapsed"):
                    assert math.isclose(v, b[k], rel_tol=1e-4, abs_tol=1e-5), (t, a.get("step"), k, v, b[k])


@pytest.mark.slow
def test_each_adapter_does_its_own_task_and_the_base_neither(lora_lab):
    """Try-this on the live LoRA page: "Train 'archaic', then 'mood', then swap adapters in
    section 3: each adapter does its own task on the very same frozen base, and the base alone
    does neither." Both adapters at the page's defaults on one bank, as the page trains them
    (the recorded run of lessons/finetune/recorded.py; trained here when no current record exists)."""
    s = lora_recorded.settings()
    rec = lora_recorded.recorded(lora_lab, lora_recorded.KIND, s)
    out = (rec or lora_recorded.run(lora_lab, lora_recorded.KIND, s)).result
    assert out["base_unchanged"]
    for t, sc in out["swap"].items():
        floor, own, base = sc["floor"], sc["own"], sc["base"]
        assert own >= 0.5 and own > floor, (t, own, floor)
        assert base <= floor and all(o <= floor for o in sc["other"].values()), (t, sc)
        assert own == out["runs"][t]["after"]["accuracy"]       # the swap table agrees with the run's own score
