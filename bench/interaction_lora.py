"""Week 2 training demos with their DEFAULT page settings, timed end to end on the tiny GPT.

Figures (targets: each <= 60 s on 2 idle CPU cores):
* lora_train_default_s      - the live LoRA page's default run: score the base, train the
                              adapter (150 steps, r = 8 on c_attn + lm_head), score the adapter;
* lora_step_ms              - one LoRA training step (batch 16) inside that run;
* forgetting_default_s      - the forgetting page's default run (start model on task B,
                              then full fine-tuning and LoRA on task A, 80 steps each, evals);
* prompt_tuning_default_s   - the prompt-tuning page's default run (8 virtual tokens, 100 steps);
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
    from lessons.finetune import adapters, forgetting, prompt_tuning as pt

    if not models.tiny_gpt_available():
        return {"lora_error": "assets/tiny_gpt missing: run scripts/pretrain_tiny_gpt.py"}
    lm = models.load_tiny_gpt("cpu")
    tok = lm.tokenizer
    shared = models.state_fingerprint(lm.model)
    figures = {}

    bank = adapters.AdapterBank(models.session_copy(lm.model))
    res, wall, cpu = _timed(lambda: adapters.train_adapter(bank, tok, "archaic", r=8, alpha=16, targets=["c_attn", "lm_head"],
                                                     steps=150, lr=1e-2, seed=0, max_seconds=45))
    figures.update(lora_train_default_s=wall, lora_train_default_cpu_s=cpu,
                   lora_step_ms=round(1000 * res["train"]["seconds_per_step"], 1),
                   lora_steps_done=res["train"]["steps_done"],
                   lora_test_accuracy_before=round(res["before"]["accuracy"], 3),
                   lora_test_accuracy_after=round(res["after"]["accuracy"], 3),
                   lora_test_words_right_after=round(res["after"]["word_accuracy"], 3))

    def forgetting():
        start, _ = forgetting.prepare_start(lm.model, tok, "mood", steps=50, seed=0, max_seconds=15)
        before = forgetting.evaluate(start, tok, "archaic", "mood")
        return before, forgetting.compare_full_and_lora(start, tok, steps=80, mix=0.0, r=8, seed=0)

    (before, out), wall, cpu = _timed(forgetting)
    figures.update(forgetting_default_s=wall, forgetting_default_cpu_s=cpu,
                   forgetting_task_b_before=round(before["task_b_accuracy"], 3),
                   forgetting_task_b_after_full=round(out["full"]["after"]["task_b_accuracy"], 3),
                   forgetting_task_b_after_lora=round(out["lora"]["after"]["task_b_accuracy"], 3),
                   forgetting_task_a_words_after_full=round(out["full"]["after"]["task_a_word_accuracy"], 3),
                   forgetting_task_a_words_after_lora=round(out["lora"]["after"]["task_a_word_accuracy"], 3),
                   forgetting_ppl_before=round(before["shakespeare_ppl"], 1),
                   forgetting_ppl_after_full=round(out["full"]["after"]["shakespeare_ppl"], 1),
                   forgetting_ppl_after_lora=round(out["lora"]["after"]["shakespeare_ppl"], 1))

    res, wall, cpu = _timed(lambda: pt.train_soft_prompt(models.session_copy(lm.model), tok, "mood", n_virtual=8,
                                                          steps=100, lr=0.1, seed=0, max_seconds=45))
    figures.update(prompt_tuning_default_s=wall, prompt_tuning_default_cpu_s=cpu,
                   prompt_tuning_accuracy_before=round(res["before"]["accuracy"], 3),
                   prompt_tuning_accuracy_after=round(res["after"]["accuracy"], 3))
    figures["lora_shared_model_unchanged"] = models.state_fingerprint(lm.model) == shared
    return figures
