"""Instruction fine-tuning of a small causal LM, one concept per module.

instructions.py   tasks, template, batches, completion loss, greedy answers, scores
adapters.py       full fine-tuning or LoRA (peft), the bounded training loop, the adapter bank
forgetting.py     catastrophic forgetting: full fine-tuning versus LoRA, with task mixing
prompt_tuning.py  soft prompts (Lester et al. 2021): trainable virtual tokens, frozen model

Modules of this package may import each other.
"""
