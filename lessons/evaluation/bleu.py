"""BLEU and chrF, computed by hand so that every count behind a score can be shown.

Papineni et al. (2002) "BLEU: a Method for Automatic Evaluation of Machine Translation".
Mirrors ``sacrebleu`` 2.x (metrics/bleu.py): the 13a tokenizer, clipped ("modified") n-gram
precisions, closest reference length, brevity penalty and the smoothing methods of Chen &
Cherry (2014). tests/unit/evaluation/test_rouge_bleu.py proves every figure equals ``sacrebleu``.
chrF (Popovic 2015) is sacreBLEU's own, shown beside BLEU.
"""
from __future__ import annotations

import collections
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

MAX_NGRAM_ORDER = 4
SMOOTH_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}

# mteval-v13a tokenizer (what sacreBLEU uses by default), rule by rule.
_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # split most punctuation off
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),   # period/comma unless preceded by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),   # period/comma unless followed by a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),        # dash after a digit
]


@lru_cache(maxsize=2 ** 16)
def tokenize_13a(line: str) -> str:
    """sacreBLEU's default '13a' tokenization of one segment (returns space-joined tokens)."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (line.replace("&quot;", '"').replace("&amp;", "&")
                .replace("&lt;", "<").replace("&gt;", ">"))
    line = f" {line} "
    for pattern, repl in _13A_RULES:
        line = pattern.sub(repl, line)
    return " ".join(line.split())


def _bleu_tokens(text: str, lowercase: bool) -> list[str]:
    if lowercase:
        text = text.lower()
    return tokenize_13a(text.rstrip()).split()   # sacreBLEU strips trailing space first


def all_ngrams(tokens: Sequence[str], max_order: int = MAX_NGRAM_ORDER) -> collections.Counter:
    return collections.Counter(tuple(tokens[i:i + n]) for n in range(1, max_order + 1)
                               for i in range(len(tokens) - n + 1))


def closest_ref_len(hyp_len: int, ref_lens: Sequence[int]) -> int:
    """The reference length closest to the hypothesis length (ties: the shorter one)."""
    best_diff, best = -1, -1
    for rl in ref_lens:
        diff = abs(hyp_len - rl)
        if best_diff == -1 or diff < best_diff:
            best_diff, best = diff, rl
        elif diff == best_diff and rl < best:
            best = rl
    return best


@dataclass
class BleuRow:
    ngram: str
    n: int
    candidate: int
    max_reference: int   # the largest count in any single reference
    clipped: int         # min(candidate, max_reference)


@dataclass
class SegmentStats:
    sys_len: int
    ref_len: int
    correct: list[int]   # clipped matches per order 1..4
    total: list[int]     # candidate n-grams per order 1..4
    rows: list[BleuRow]
    hyp_tokens: list[str]
    ref_tokens: list[list[str]]


def segment_stats(candidate: str, references: Sequence[str], lowercase: bool = False,
                  max_order: int = MAX_NGRAM_ORDER) -> SegmentStats:
    """Sufficient statistics of one segment: lengths and clipped n-gram counts.
    With several references, each n-gram may be credited up to its MAX count in any one
    reference; the reference length is the one closest to the candidate's."""
    hyp = _bleu_tokens(candidate, lowercase)
    refs = [_bleu_tokens(r, lowercase) for r in references if r is not None]
    ref_max: collections.Counter = collections.Counter()
    for r in refs:
        ref_max |= all_ngrams(r, max_order)     # Counter union keeps the MAX count per n-gram
    hyp_counts = all_ngrams(hyp, max_order)
    correct, total = [0] * max_order, [0] * max_order
    rows = []
    for g, c in hyp_counts.items():
        n = len(g)
        total[n - 1] += c
        clipped = min(c, ref_max.get(g, 0))
        correct[n - 1] += clipped
        rows.append(BleuRow(" ".join(g), n, c, ref_max.get(g, 0), clipped))
    ref_len = closest_ref_len(len(hyp), [len(r) for r in refs])
    return SegmentStats(len(hyp), ref_len, correct, total, rows, hyp, refs)


@dataclass
class BleuResult:
    score: float                  # 0..100
    precisions: list[float]       # 0..100 per order (after smoothing)
    counts: list[float]
    totals: list[float]
    brevity_penalty: float
    sys_len: int
    ref_len: int
    orders_used: int              # n-gram orders inside the geometric mean
    smoothed: list[bool]          # which precisions came from smoothing
    log_precisions: list[float]
    smooth_method: str = "exp"
    smooth_value: Optional[float] = None
    effective_order: bool = True
    signature: str = ""
    segment: Optional[SegmentStats] = None
    n_refs: int = 1


def _log(p: float) -> float:
    return -9999999999 if p == 0.0 else math.log(p)   # sacreBLEU floors log(0)


def compute_bleu(correct: Sequence[float], total: Sequence[float], sys_len: int, ref_len: int,
                 smooth_method: str = "exp", smooth_value: Optional[float] = None,
                 effective_order: bool = False, max_order: int = MAX_NGRAM_ORDER) -> BleuResult:
    """BLEU = BP * exp( (1/N) * sum_n log p_n ),  BP = 1 if c >= r else exp(1 - r/c).

    p_n = clipped matches / candidate n-grams (in %). Smoothing for p_n = 0:
      exp   (default, NIST/mteval): the k-th zero precision becomes 100 / (2^k * total_n)
      floor: 100 * value / total_n     add-k: (correct+k)/(total+k) for n >= 2
      none : stays 0, so the score is 0.
    effective_order stops at the largest n with any candidate n-grams (short sentences)."""
    if smooth_method not in SMOOTH_DEFAULTS:
        raise ValueError(f"unknown smoothing {smooth_method!r}")
    if smooth_value is None:
        smooth_value = SMOOTH_DEFAULTS[smooth_method]
    correct, total = list(correct), list(total)
    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * max_order
    smoothed = [False] * max_order
    common = dict(smooth_method=smooth_method, smooth_value=smooth_value, effective_order=effective_order)
    if not any(correct):   # nothing matched at all: BLEU is 0 whatever the smoothing
        return BleuResult(0.0, precisions, correct, total, bp, sys_len, ref_len, max_order, smoothed,
                          [_log(p) for p in precisions], **common)
    mteval = 1.0
    used = max_order
    for n in range(1, max_order + 1):
        if smooth_method == "add-k" and n > 1:
            correct[n - 1] += smooth_value
            total[n - 1] += smooth_value
        if total[n - 1] == 0:
            break
        if effective_order:
            used = n
        if correct[n - 1] == 0:
            if smooth_method == "exp":
                mteval *= 2
                precisions[n - 1] = 100.0 / (mteval * total[n - 1])
                smoothed[n - 1] = True
            elif smooth_method == "floor":
                precisions[n - 1] = 100.0 * smooth_value / total[n - 1]
                smoothed[n - 1] = True
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    logs = [_log(p) for p in precisions]
    score = bp * math.exp(sum(logs[:used]) / used)
    return BleuResult(score, precisions, correct, total, bp, sys_len, ref_len, used, smoothed, logs, **common)


def bleu_signature(n_refs: int, lowercase: bool = False, effective_order: bool = True,
                   smooth_method: str = "exp", smooth_value: Optional[float] = None) -> str:
    """sacreBLEU's reproducibility signature, e.g.
    nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:2.6.0"""
    import sacrebleu  # only for its version number

    smooth = smooth_method
    if SMOOTH_DEFAULTS[smooth_method] is not None:
        value = SMOOTH_DEFAULTS[smooth_method] if smooth_value is None else smooth_value
        smooth += f"[{value:.2f}]"
    nrefs = "var" if n_refs == -1 else n_refs
    return (f"nrefs:{nrefs}|case:{'lc' if lowercase else 'mixed'}|eff:{'yes' if effective_order else 'no'}"
            f"|tok:13a|smooth:{smooth}|version:{sacrebleu.__version__}")


def bleu_breakdown(candidate: str, references: Sequence[str] | str, smooth_method: str = "exp",
                   smooth_value: Optional[float] = None, effective_order: bool = True,
                   lowercase: bool = False) -> BleuResult:
    """Sentence BLEU with every count. Defaults equal ``sacrebleu.sentence_bleu(candidate,
    references)`` (13a, exp smoothing, effective order) to 1e-9."""
    if isinstance(references, str):
        references = [references]
    if not references:
        raise ValueError("BLEU needs at least one reference")
    seg = segment_stats(candidate, references, lowercase)
    res = compute_bleu(seg.correct, seg.total, seg.sys_len, seg.ref_len, smooth_method,
                       smooth_value, effective_order)
    res.segment = seg
    res.n_refs = len(seg.ref_tokens)
    res.signature = bleu_signature(res.n_refs, lowercase, effective_order, smooth_method, smooth_value)
    return res


def corpus_bleu_breakdown(candidates: Sequence[str], references: Sequence[Sequence[str]],
                          smooth_method: str = "exp", smooth_value: Optional[float] = None,
                          effective_order: bool = False, lowercase: bool = False) -> BleuResult:
    """Corpus BLEU: SUM the statistics of all segments, then compute once (not the mean of
    sentence BLEUs). ``references[i]`` is the list of references of candidate i. Equals
    ``sacrebleu.corpus_bleu(candidates, [refs_1, refs_2, ...])``."""
    if len(candidates) != len(references):
        raise ValueError("one list of references per candidate is needed")
    if not candidates:
        raise ValueError("the corpus is empty")
    sys_len = ref_len = 0
    correct, total = [0] * MAX_NGRAM_ORDER, [0] * MAX_NGRAM_ORDER
    n_refs = set()
    for cand, refs in zip(candidates, references):
        refs = [refs] if isinstance(refs, str) else list(refs)
        seg = segment_stats(cand, refs, lowercase)
        n_refs.add(len(seg.ref_tokens))
        sys_len += seg.sys_len
        ref_len += seg.ref_len
        correct = [a + b for a, b in zip(correct, seg.correct)]
        total = [a + b for a, b in zip(total, seg.total)]
    res = compute_bleu(correct, total, sys_len, ref_len, smooth_method, smooth_value, effective_order)
    res.n_refs = n_refs.pop() if len(n_refs) == 1 else -1
    res.signature = bleu_signature(res.n_refs, lowercase, effective_order, smooth_method, smooth_value)
    return res


def chrf(candidate: str, references: Sequence[str] | str) -> float:
    """chrF (Popovic 2015): character n-gram F-score (beta = 2, recall weighted), from
    sacreBLEU. Shown beside BLEU: it gives partial credit to 'summarise' vs 'summarize'."""
    from sacrebleu.metrics import CHRF

    if isinstance(references, str):
        references = [references]
    return CHRF().sentence_score(candidate, list(references)).score


def corpus_chrf(candidates: Sequence[str], references: Sequence[str]) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF().corpus_score(list(candidates), [list(references)]).score


def smoothing_terms(result: BleuResult) -> list[dict]:
    """The precisions that smoothing replaced, in order: {"order", "kth" (1 = first zero),
    "total" (candidate n-grams), "precision"}. exp: p = 100 / (2^kth * total); floor:
    p = 100 * floor / total."""
    out, kth = [], 0
    for k, was_smoothed in enumerate(result.smoothed):
        if was_smoothed:
            kth += 1
            out.append({"order": k + 1, "kth": kth, "total": result.totals[k], "precision": result.precisions[k]})
    return out
