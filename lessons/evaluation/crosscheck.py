"""The reference libraries' own numbers, shown beside ours on the ROUGE & BLEU page (our
counting is in rouge.py and bleu.py; the unit tests prove they agree to 1e-9)."""
from __future__ import annotations

from typing import Sequence

from lessons.evaluation.rouge import ROUGE_TYPES, UnicodeTokenizer


def rouge_library(candidate: str, reference: str, use_stemmer: bool = False, tokenizer: str = "default") -> dict:
    """rouge-score's RougeScorer: {rouge type: Score(precision, recall, fmeasure)}."""
    from rouge_score import rouge_scorer

    tok = UnicodeTokenizer(use_stemmer) if tokenizer == "unicode" else None
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer, tokenizer=tok).score(reference, candidate)


def bleu_library(candidate: str, references: Sequence[str], smooth_method: str = "exp",
                 effective_order: bool = True) -> tuple[float, str]:
    """sacreBLEU's sentence BLEU with the same settings: (score 0..100, signature)."""
    from sacrebleu.metrics import BLEU

    metric = BLEU(smooth_method=smooth_method, effective_order=effective_order)
    return metric.sentence_score(candidate, list(references)).score, str(metric.get_signature())


def agrees(ours: float, theirs: float, tol: float = 1e-9) -> bool:
    return abs(ours - theirs) < tol
