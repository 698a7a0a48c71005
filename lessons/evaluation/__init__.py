"""Evaluating generated text, one concept per module.

rouge.py           ROUGE-1/2/L/Lsum by hand (mirrors rouge-score), tokenizers, highlights
bleu.py            BLEU by hand (mirrors sacreBLEU: 13a, clipping, brevity, smoothing), chrF
presets.py         worked candidate/reference pairs for the ROUGE & BLEU page
corpus_scoring.py  CSV reader with limits, per-row and corpus scores, the built-in sample
summaries.py       zero-/few-shot summaries of a real model, scored

Modules of this package may import each other; nothing outside it imports them except pages,
ui/ and tests.
"""
