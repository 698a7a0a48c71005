"""Week 2 training demos with their DEFAULT page settings, timed end to end on the tiny GPT.

Figures (targets: each <= 60 s on 2 idle CPU cores):
* lora_train_default_s      - the live LoRA page's default run: score the base, train the
                              adapter (lora_training.LIVE_DEFAULTS: 250 steps, r = 16 on all four
                              layer types), score the adapter (target: >= 50 % exact on test);
* lora_step_ms              - one LoRA training step (batch 16) inside that run;
* forgetting_default_s      - the forgetting page's default run (shipped start model that knows
                              task B; full fine-tuning and LoRA on task A, 150 steps each, evals);
* prompt_tuning_default_s   - the prompt-tuning page's default run (two-task model, blank
                              instruction, 16 virtual tokens, 150 steps; target: +20 points);
* *_cpu_s                   - CPU seconds of this process for the same work: on a machine
                              shared with other jobs the wall time is inflated, CPU time less so.
Run: `.venv/bin/python bench/interaction.py lora`.
"""
from __future__ import annotations

import time


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - w, 1), round(time.process_time() - c, 1)


def measure() -> dict:
    from lessons import models
    from lessons.finetune import lora_training, forgetting, prompt_tuning

    if not models.tiny_gpt_available():
        return {"lora_error": "assets/tiny_gpt missing: run scripts/pretrain_tiny_gpt.py"}
    lm = models.load_tiny_gpt("cpu")
    tok = lm.tokenizer
    shared = models.state_fingerprint(lm.model)
    figures = {}

    bank = lora_training.AdapterBank(models.session_copy(lm.model))
    # the page's defaults (lora_training.LIVE_DEFAULTS): bounded by steps, the seconds are a safety net
    res, wall, cpu = _timed(lambda: lora_training.train_adapter(bank, tok, "archaic", seed=0))
    figures.update(lora_train_default_s=wall, lora_train_default_cpu_s=cpu,
                   lora_step_ms=round(1000 * res["train"]["seconds_per_step"], 1),
                   lora_steps_done=res["train"]["steps_done"],
                   lora_test_accuracy_before=round(res["before"]["accuracy"], 3),
                   lora_test_accuracy_after=round(res["after"]["accuracy"], 3),
                   lora_test_words_right_after=round(res["after"]["word_accuracy"], 3))

    start = models.load_instruction_tuned("mood", "cpu").model  # knows task B (scripts/build_instruction_tuned.py)

    def forget():
        before = forgetting.evaluate(start, tok, "archaic", "mood")
        return before, forgetting.compare_full_and_lora(start, tok, mix=0.0, seed=0)  # page defaults

    (before, out), wall, cpu = _timed(forget)
    figures.update(forgetting_default_s=wall, forgetting_default_cpu_s=cpu,
                   forgetting_task_b_before=round(before["task_b_accuracy"], 3),
                   forgetting_task_b_after_full=round(out["full"]["after"]["task_b_accuracy"], 3),
                   forgetting_task_b_after_lora=round(out["lora"]["after"]["task_b_accuracy"], 3),
                   forgetting_task_a_words_after_full=round(out["full"]["after"]["task_a_word_accuracy"], 3),
                   forgetting_task_a_words_after_lora=round(out["lora"]["after"]["task_a_word_accuracy"], 3),
                   forgetting_ppl_before=round(before["shakespeare_ppl"], 1),
                   forgetting_ppl_after_full=round(out["full"]["after"]["shakespeare_ppl"], 1),
                   forgetting_ppl_after_lora=round(out["lora"]["after"]["shakespeare_ppl"], 1))

    D = prompt_tuning.DEMO_DEFAULTS  # two-task tiny GPT, instruction left blank
    frozen = models.session_copy(models.load_instruction_tuned(D["model"], "cpu").model)
    res, wall, cpu = _timed(lambda: prompt_tuning.train_soft_prompt(frozen, tok, D["task"], n_virtual=D["n_virtual"],
                                                          steps=D["steps"], lr=D["lr"], seed=0,
                                                          max_seconds=D["max_seconds"]))
    figures.update(prompt_tuning_default_s=wall, prompt_tuning_default_cpu_s=cpu,
                   prompt_tuning_accuracy_written_instruction=round(res["written"]["accuracy"], 3),
                   prompt_tuning_accuracy_before=round(res["before"]["accuracy"], 3),
                   prompt_tuning_accuracy_after=round(res["after"]["accuracy"], 3))
    figures["lora_shared_model_unchanged"] = models.state_fingerprint(lm.model) == shared
    return figures
