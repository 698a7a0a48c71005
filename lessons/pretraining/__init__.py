"""Pretraining: the self-supervised objectives (objectives.py), the tiny GPT and its training
loop (tiny_gpt.py), data quality, scaling laws, domain adaptation and the project lifecycle
that frames them."""
