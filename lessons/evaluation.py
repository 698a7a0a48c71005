"""ROUGE and BLEU, computed by hand so that every count behind a score can be shown.

* ROUGE -- Lin, C.-Y. (2004) "ROUGE: A Package for Automatic Evaluation of Summaries".
  Mirrors google-research ``rouge_score`` (rouge_scorer.py): the same tokenizer rules,
  n-gram clipping, LCS table, back-tracking and the summary-level "union LCS" of rougeLsum.
* BLEU -- Papineni et al. (2002) "BLEU: a Method for Automatic Evaluation of Machine
  Translation". Mirrors ``sacrebleu`` 2.x (metrics/bleu.py): the 13a tokenizer, clipped
  ("modified") n-gram precisions, closest reference length, brevity penalty and the
  smoothing methods of Chen & Cherry (2014).

The counting here is our own code; the tests (tests/unit/test_evaluation.py) prove that
every figure equals ``rouge_score.RougeScorer`` and ``sacrebleu`` to 1e-9 on a case table.
Only the Porter stemmer *object* is borrowed from nltk (exactly what rouge-score uses).

The second half holds what the corpus page and the model page need: a CSV reader with
limits, per-row and corpus scores, the built-in dialogue-summary sample, and zero-/few-shot
summarization prompts for SmolLM2.
"""
from __future__ import annotations

import collections
import csv
import io
import json
import math
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Sequence

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
TOKENIZERS = ("default", "unicode")  # "default" == rouge-score's tokenizer
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "evaluation"


# =========================================================================== tokenization
@dataclass(frozen=True)
class Token:
    """One ROUGE token: ``text`` is what is compared (lower-cased, maybe stemmed);
    ``start:end`` is its span in the ORIGINAL text, so a page can highlight it."""

    text: str
    start: int
    end: int


# rouge-score's default tokenizer: lower-case, every run of characters outside [a-z0-9]
# becomes a separator. So "Café" -> ["caf"], and Chinese/Russian/Arabic text -> [] (!).
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")
_ROUGE_VALID = re.compile(r"^[a-z0-9]+$")
# Our non-default option: Unicode word characters, and every CJK ideograph/kana as its own
# token (those scripts do not put spaces between words).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNICODE_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


@lru_cache(maxsize=1)
def _porter():
    from nltk.stem import porter  # the same stemmer object rouge-score builds

    return porter.PorterStemmer()


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _porter().stem(word)


def rouge_tokens(text: str, use_stemmer: bool = False, tokenizer: str = "default") -> list[Token]:
    """Tokens with their spans in ``text``.

    ``tokenizer="default"`` reproduces rouge_score.tokenize.tokenize exactly (a test checks
    it against the library on a case table and random strings): lower-case, split on
    anything outside [a-z0-9], Porter-stem words longer than 3 characters, keep tokens that
    are still [a-z0-9]+. ``"unicode"`` keeps letters of every script (NOT the default)."""
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {tokenizer!r}; use one of {TOKENIZERS}")
    # Lower-case, remembering where each lowered char came from: a few characters grow when
    # lowered (e.g. 'İ' -> 'i̇'), so spans are mapped back character by character then.
    low_text = text.lower()
    if len(low_text) == len(text):
        origin = None                      # the usual case: positions are unchanged
    else:
        origin = []
        for i, ch in enumerate(text):
            origin.extend([i] * len(ch.lower()))
    pattern = _ROUGE_TOKEN if tokenizer == "default" else _UNICODE_TOKEN
    out = []
    for m in pattern.finditer(low_text):
        word = m.group(0)
        if use_stemmer and len(word) > 3:
            word = _stem(word)
        if tokenizer == "default" and not _ROUGE_VALID.match(word):
            continue
        if not word:
            continue
        if origin is None:
            out.append(Token(word, m.start(), m.end()))
        else:
            out.append(Token(word, origin[m.start()], origin[m.end() - 1] + 1))
    return out


def tokenize(text: str, use_stemmer: bool = False, tokenizer: str = "default") -> list[str]:
    return [t.text for t in rouge_tokens(text, use_stemmer, tokenizer)]


class UnicodeTokenizer:
    """A rouge_score-compatible tokenizer object (``.tokenize(text)``) for our Unicode
    option, so ``RougeScorer(..., tokenizer=UnicodeTokenizer())`` scores the same tokens."""

    def __init__(self, use_stemmer: bool = False):
        self.use_stemmer = use_stemmer

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.use_stemmer, "unicode")


# =========================================================================== ROUGE
def fmeasure(precision: float, recall: float) -> float:
    """Harmonic mean F1 = 2PR / (P + R), 0 when both are 0 (as rouge_score.scoring)."""
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


@dataclass
class NgramRow:
    ngram: tuple[str, ...]
    candidate: int   # count in the candidate
    reference: int   # count in the reference
    clipped: int     # min(candidate, reference): a candidate n-gram is credited at most as
                     # often as it occurs in the reference ("clipping")


@dataclass
class RougeN:
    n: int
    precision: float
    recall: float
    fmeasure: float
    overlap: int            # sum of clipped counts
    candidate_total: int    # number of candidate n-grams (precision denominator)
    reference_total: int    # number of reference n-grams (recall denominator)
    rows: list[NgramRow]    # every n-gram of either text, matched first
    cand_marked: list[int]  # candidate token indices covered by a credited n-gram
    ref_marked: list[int]


@dataclass
class RougeL:
    precision: float
    recall: float
    fmeasure: float
    lcs_length: int
    candidate_total: int
    reference_total: int
    table: list[list[int]]        # (len(ref)+1) x (len(cand)+1) DP table
    path: list[tuple[int, int]]   # cells visited by the back-trace, from the corner
    pairs: list[tuple[int, int]]  # (ref index, cand index) of each LCS token
    lcs: list[str]
    cand_marked: list[int]
    ref_marked: list[int]


@dataclass
class SentenceUnion:
    reference_sentence: list[str]
    union_lcs: list[str]          # union of the LCS with every candidate sentence
    hits: int                     # tokens of the union actually credited (no double count)


@dataclass
class RougeLsum:
    precision: float
    recall: float
    fmeasure: float
    hits: int
    candidate_total: int
    reference_total: int
    sentences: list[SentenceUnion]
    n_candidate_sentences: int


@dataclass
class RougeBreakdown:
    scores: dict                  # "rouge1"/"rouge2" -> RougeN, "rougeL" -> RougeL, ...
    candidate_tokens: list[Token]
    reference_tokens: list[Token]
    use_stemmer: bool
    tokenizer: str

    def __getitem__(self, key):
        return self.scores[key]

    def as_table(self) -> list[dict]:
        return [{"metric": k, "precision": s.precision, "recall": s.recall, "F1": s.fmeasure}
                for k, s in self.scores.items()]


def ngram_counts(tokens: Sequence[str], n: int) -> collections.Counter:
    """Counter of the len(tokens) - n + 1 n-grams (tuples) of a token list."""
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _mark_clipped(tokens: Sequence[str], n: int, budget: dict) -> list[int]:
    """Token indices covered by the first ``budget[g]`` occurrences of each n-gram g."""
    left = dict(budget)
    marked = set()
    for i in range(len(tokens) - n + 1):
        g = tuple(tokens[i:i + n])
        if left.get(g, 0) > 0:
            left[g] -= 1
            marked.update(range(i, i + n))
    return sorted(marked)


def rouge_n(cand: Sequence[str], ref: Sequence[str], n: int) -> RougeN:
    """ROUGE-N: clipped n-gram overlap / n-grams in the candidate (P) or reference (R)."""
    c_counts, r_counts = ngram_counts(cand, n), ngram_counts(ref, n)
    overlap = 0
    clipped = {}
    for g, rc in r_counts.items():           # iterate the reference, like rouge_score
        m = min(rc, c_counts.get(g, 0))
        if m:
            clipped[g] = m
        overlap += m
    c_total, r_total = sum(c_counts.values()), sum(r_counts.values())
    precision = overlap / max(c_total, 1)
    recall = overlap / max(r_total, 1)
    keys = list(dict.fromkeys(list(c_counts) + list(r_counts)))
    rows = [NgramRow(g, c_counts.get(g, 0), r_counts.get(g, 0), clipped.get(g, 0)) for g in keys]
    rows.sort(key=lambda r: (-r.clipped, -(r.candidate + r.reference)))
    return RougeN(n, precision, recall, fmeasure(precision, recall), overlap, c_total, r_total,
                  rows, _mark_clipped(cand, n, clipped), _mark_clipped(ref, n, clipped))


def lcs_table(ref: Sequence[str], cand: Sequence[str], as_list: bool = True):
    """T[i][j] = length of the LCS of ref[:i] and cand[:j]; shape (len(ref)+1, len(cand)+1).

    T[i][j] = T[i-1][j-1] + 1             if ref[i-1] == cand[j-1]  (extend a match)
            = max(T[i-1][j], T[i][j-1])   otherwise                 (drop one token)
    O(len(ref) * len(cand)) time and memory. Long texts use a numpy row update (same
    numbers); ``as_list=False`` may then return the numpy array (indexable as T[i][j])."""
    if len(cand) >= _NUMPY_MIN_COLS:
        table = _lcs_table_numpy(ref, cand)
        return table.tolist() if as_list else table
    table = [[0] * (len(cand) + 1)]
    for r in ref:
        prev = table[-1]
        row = [0]
        left = 0
        # walk the row with (cand_j, T[i-1][j-1], T[i-1][j]) triples: no indexing in the hot loop
        for c, diag, up in zip(cand, prev, prev[1:]):
            if r == c:
                left = diag + 1
            elif up > left:
                left = up
            row.append(left)
        table.append(row)
    return table


_NUMPY_MIN_COLS = 48


def _lcs_table_numpy(ref: Sequence[str], cand: Sequence[str]):
    """The same table, one row at a time in numpy (for long texts; a test checks equality).
    Because neighbouring cells differ by at most 1, the recurrence equals
        T[i][j] = max_{k <= j} a_k,   a_k = max(T[i-1][k], T[i-1][k-1] + 1 if match else 0)
    i.e. a running maximum (np.maximum.accumulate) over a vector built from the row above."""
    import numpy as np

    ids: dict[str, int] = {}
    r_ids = np.array([ids.setdefault(t, len(ids)) for t in ref], dtype=np.int64)
    c_ids = np.array([ids.setdefault(t, len(ids)) for t in cand], dtype=np.int64)
    match = r_ids[:, None] == c_ids[None, :]                  # (len(ref), len(cand))
    table = np.zeros((len(ref) + 1, len(cand) + 1), dtype=np.int64)
    for i in range(1, len(ref) + 1):
        prev = table[i - 1]
        a = np.maximum(prev[1:], np.where(match[i - 1], prev[:-1] + 1, 0))
        np.maximum.accumulate(a, out=table[i, 1:])
    return table


def lcs_backtrack(table, ref, cand) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Walk back from the bottom-right corner (rouge_score's _backtrack_norec order: on a
    match go diagonal, else move left only if that cell is strictly larger, otherwise up).
    Returns (cells visited, matched (ref_idx, cand_idx) pairs in order)."""
    i, j = len(ref), len(cand)
    path, pairs = [(i, j)], []
    while i > 0 and j > 0:
        if ref[i - 1] == cand[j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
        path.append((i, j))
    return path, pairs[::-1]


def rouge_l(cand: Sequence[str], ref: Sequence[str]) -> RougeL:
    """ROUGE-L: P = LCS/len(cand), R = LCS/len(ref) (0 if either text has no tokens)."""
    if not cand or not ref:
        return RougeL(0.0, 0.0, 0.0, 0, len(cand), len(ref), lcs_table(ref, cand), [], [], [], [], [])
    table = lcs_table(ref, cand, as_list=False)
    lcs = int(table[-1][-1])
    path, pairs = lcs_backtrack(table, ref, cand)
    precision, recall = lcs / len(cand), lcs / len(ref)
    return RougeL(precision, recall, fmeasure(precision, recall), lcs, len(cand), len(ref), table,
                  path, pairs, [ref[i] for i, _ in pairs], sorted(j for _, j in pairs),
                  sorted(i for i, _ in pairs))


def split_sentences(text: str) -> list[str]:
    """rougeLsum's sentence split: on newlines only (rouge_score without split_summaries);
    empty lines are dropped. One-line text is therefore ONE sentence."""
    return [s for s in text.split("\n") if len(s)]


def sentence_tokens(text: str, tokens: Sequence[Token]) -> list[list[str]]:
    """Tokens grouped by the sentences of :func:`split_sentences`. No token spans a newline,
    so this equals tokenizing each line on its own (a test checks it) without re-tokenizing."""
    out, k, pos = [], 0, 0
    for line in text.split("\n"):
        end = pos + len(line)
        sent = []
        while k < len(tokens) and tokens[k].start < end:
            sent.append(tokens[k].text)
            k += 1
        if len(line):
            out.append(sent)
        pos = end + 1
    return out


def _lcs_blocks(ref_sents: list[list[str]], cand_sents: list[list[str]]):
    """Every (reference sentence, candidate sentence) LCS table at once, for long summaries.
    Sentences are laid side by side, each after a zero row/column, in one big numpy table
    whose running maximum restarts at every candidate sentence (an offset per segment), so
    block (s, k) is exactly lcs_table(ref_sents[s], cand_sents[k]). Returns a getter."""
    import numpy as np

    ids: dict[str, int] = {}
    col_ids, col_seg, col_start = [], [], []
    for k, c in enumerate(cand_sents):
        col_start.append(len(col_ids))
        col_ids += [-1] + [ids.setdefault(t, len(ids)) for t in c]   # -1: the zero column
        col_seg += [k] * (len(c) + 1)
    row_start, rows = [], []
    for r in ref_sents:
        row_start.append(len(rows))
        rows += [None] + [ids.setdefault(t, len(ids)) for t in r]     # None: the zero row
    col_ids = np.array(col_ids, dtype=np.int64)
    boundary = col_ids < 0
    offset = np.array(col_seg, dtype=np.int64) * (max(map(len, ref_sents)) + 2)
    table = np.zeros((len(rows), len(col_ids)), dtype=np.int64)
    for i, tok in enumerate(rows):
        if tok is None:
            continue                      # a zero row starts each reference sentence
        prev = table[i - 1]
        diag = np.empty_like(prev)
        diag[0], diag[1:] = 0, prev[:-1]
        a = np.maximum(prev, np.where(col_ids == tok, diag + 1, 0))
        a[boundary] = 0
        table[i] = np.maximum.accumulate(a + offset) - offset   # running max, restarted per sentence

    def block(s: int, k: int):
        r0, c0 = row_start[s], col_start[k]
        return table[r0:r0 + len(ref_sents[s]) + 1, c0:c0 + len(cand_sents[k]) + 1]

    return block


def rouge_lsum(cand_sents: list[list[str]], ref_sents: list[list[str]]) -> RougeLsum:
    """Summary-level LCS (Lin 2004, sec. 3.2): for each reference sentence, take the UNION
    of its LCS with every candidate sentence; credit each token at most as often as it
    occurs in both summaries (ROUGE-1.5.5's guard against double counting)."""
    m = sum(map(len, ref_sents))
    n = sum(map(len, cand_sents))
    if not ref_sents or not cand_sents or not m or not n:
        return RougeLsum(0.0, 0.0, 0.0, 0, n, m, [], len(cand_sents))
    left_r = collections.Counter(t for s in ref_sents for t in s)
    left_c = collections.Counter(t for s in cand_sents for t in s)
    blocks = _lcs_blocks(ref_sents, cand_sents) if m * n >= 4096 else None
    hits, details = 0, []
    for s, r in enumerate(ref_sents):
        union = set()
        for k, c in enumerate(cand_sents):
            table = blocks(s, k) if blocks else lcs_table(r, c)
            union.update(i for i, _ in lcs_backtrack(table, r, c)[1])
        union_tokens = [r[i] for i in sorted(union)]
        sent_hits = 0
        for t in union_tokens:
            if left_c[t] > 0 and left_r[t] > 0:
                sent_hits += 1
                left_c[t] -= 1
                left_r[t] -= 1
        hits += sent_hits
        details.append(SentenceUnion(list(r), union_tokens, sent_hits))
    recall, precision = hits / m, hits / n
    return RougeLsum(precision, recall, fmeasure(precision, recall), hits, n, m, details, len(cand_sents))


def rouge_breakdown(candidate: str, reference: str, use_stemmer: bool = False,
                    tokenizer: str = "default") -> RougeBreakdown:
    """ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum with every intermediate count.

    Equal (1e-9) to ``rouge_score.rouge_scorer.RougeScorer(ROUGE_TYPES, use_stemmer)
    .score(reference, candidate)``; note rouge_score's argument order is (target, prediction).
    """
    cand_tok = rouge_tokens(candidate, use_stemmer, tokenizer)
    ref_tok = rouge_tokens(reference, use_stemmer, tokenizer)
    cand, ref = [t.text for t in cand_tok], [t.text for t in ref_tok]
    cand_sents = sentence_tokens(candidate, cand_tok)
    ref_sents = sentence_tokens(reference, ref_tok)
    scores = {
        "rouge1": rouge_n(cand, ref, 1),
        "rouge2": rouge_n(cand, ref, 2),
        "rougeL": rouge_l(cand, ref),
        "rougeLsum": rouge_lsum(cand_sents, ref_sents),
    }
    return RougeBreakdown(scores, cand_tok, ref_tok, use_stemmer, tokenizer)


def highlight_segments(text: str, tokens: Sequence[Token], marked: Sequence[int]) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, is_marked) runs so a page can colour the marked tokens.
    Pieces are raw learner text: the page must escape them before rendering."""
    marked = set(marked)
    out: list[tuple[str, bool]] = []
    pos = 0
    for k, tok in enumerate(tokens):
        if k not in marked:
            continue
        if tok.start > pos:
            out.append((text[pos:tok.start], False))
        out.append((text[tok.start:tok.end], True))
        pos = tok.end
    if pos < len(text):
        out.append((text[pos:], False))
    # merge neighbouring marked tokens separated only by spaces for readability
    merged: list[tuple[str, bool]] = []
    for piece, on in out:
        if merged and merged[-1][1] == on:
            merged[-1] = (merged[-1][0] + piece, on)
        else:
            merged.append((piece, on))
    return merged


# =========================================================================== BLEU
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


# =========================================================================== presets
PRESETS: dict[str, dict] = {
    "Dialogue summary": {
        "candidate": "Amanda baked cookies and will bring some to Jerry tomorrow.",
        "reference": "Amanda baked cookies and will bring Jerry some tomorrow.",
        "lesson": "A good summary: most words and word pairs match, the order is almost the same.",
    },
    "Clipping: one word repeated": {
        "candidate": "the the the the the the the",
        "reference": "the cat is on the mat",
        "lesson": "Without clipping, 'the' x7 would have unigram precision 7/7. Clipped at the 2 "
                  "occurrences in the reference it is 2/7: repeating a word cannot buy a score.",
    },
    "Faithful paraphrase scores low": {
        "candidate": "The meeting was moved to Friday because the manager is ill.",
        "reference": "Since the boss is sick, the meeting will happen at the end of the week instead.",
        "lesson": "Same meaning, different words: ROUGE and BLEU only count surface overlap, so a "
                  "correct paraphrase looks bad. chrF is a little kinder; humans would rate it well.",
    },
    "Shuffled words": {
        "candidate": "cookies tomorrow and Jerry baked some Amanda bring will",
        "reference": "Amanda baked cookies and will bring Jerry some tomorrow.",
        "lesson": "Every word is there, so ROUGE-1 recall is perfect, but the sentence is nonsense: "
                  "ROUGE-2 (word pairs) and ROUGE-L (order) collapse. Always report more than ROUGE-1.",
    },
    "rougeL vs rougeLsum (two sentences)": {
        "candidate": "Jerry will pick up the cake.\nAmanda is sending the invitations today.",
        "reference": "Amanda is sending the invitations today.\nJerry will pick up the cake.",
        "lesson": "The sentences are swapped. rougeL treats the text as one sequence, so the LCS "
                  "can only follow one sentence; rougeLsum splits on newlines and takes a union "
                  "LCS per reference sentence, so it credits both.",
    },
    "Numbers and punctuation": {
        "candidate": "The meeting is at 10:30, room 4-B; bring 2 laptops!",
        "reference": "Meeting at 10:30 in room 4B, bring two laptops.",
        "lesson": "rouge-score drops punctuation ('10:30' -> '10', '30'; '4-B' -> '4', 'b'). "
                  "sacreBLEU's 13a splits them too but keeps ':' and '-' as tokens of their own "
                  "(and leaves '3.5' or '1,000' whole). '2' and 'two' never match.",
    },
    "Stemming helps": {
        "candidate": "The cats were running and jumped over the fences.",
        "reference": "The cat runs and jumps over the fence.",
        "lesson": "With the Porter stemmer, cats->cat, running/runs->run, jumped/jumps->jump, "
                  "fences->fenc match. Turn the stemming toggle on and off.",
    },
    "Non-Latin text (the pitfall)": {
        "candidate": "猫はマットの上に座った。Кошка сидит на коврике.",
        "reference": "猫がマットの上に座っている。Кошка сидела на коврике.",
        "lesson": "rouge-score's default tokenizer keeps only a-z and 0-9, so Japanese and "
                  "Russian words vanish and every ROUGE score is 0. Choose the Unicode tokenizer "
                  "(not the default) to score them; BLEU's 13a tokenizer keeps them.",
    },
}


# =========================================================================== corpus scoring
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_ROWS = 5000
MAX_CELL_CHARS = 5000


class CorpusError(ValueError):
    """A problem with an uploaded file; the message is meant for the learner as is."""


def load_sample() -> list[dict]:
    """The built-in dialogue-summary sample (written for this app): id, dialogue,
    reference summary, and a hand-written 'system' candidate summary of varied quality."""
    with open(ASSETS / "dialogues.json", encoding="utf-8") as fh:
        return json.load(fh)


def sample_pairs() -> list[dict]:
    return [{"candidate": d["candidate"], "reference": d["summary"]} for d in load_sample()]


def parse_pairs_csv(data: bytes, max_bytes: int = MAX_CSV_BYTES, max_rows: int = MAX_CSV_ROWS):
    """Read a CSV with columns candidate,reference (any case, any extra columns ignored).
    Returns (pandas.DataFrame with exactly those two str columns, list of notes).
    Raises CorpusError with a clear message for anything unusable."""
    import pandas as pd

    if data is None or len(data) == 0:
        raise CorpusError("The file is empty.")
    if len(data) > max_bytes:
        raise CorpusError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB "
                          f"(about {max_rows:,} rows). Score a smaller sample.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CorpusError("The file is UTF-16 text, not UTF-8. Save it as 'CSV UTF-8' and try again.")
    head = data[:4096]
    if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 20:
        kind = ("an Excel workbook or another zip archive" if head.startswith(b"PK\x03\x04")
                else "an image, a spreadsheet or another binary file")
        raise CorpusError(f"This looks like {kind} renamed to .csv, not UTF-8 text. "
                          "Export it as 'CSV UTF-8' and try again.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError("The file is not UTF-8 text (Latin-1 or Windows-1252?). Save it as 'CSV UTF-8' "
                          "and try again.") from None
    if "\x00" in text:
        raise CorpusError("The file contains binary data; upload a plain-text CSV.")
    try:
        # the csv module (strict) rather than pandas: a row with the wrong number of fields
        # or an unclosed quote must be an error, never silently re-aligned.
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise CorpusError(f"This is not a well-formed CSV file ({exc}).") from None
    records = [r for r in records if r]   # blank lines
    if not records:
        raise CorpusError("The file has no rows.")
    header = [h.strip().lower() for h in records[0]]
    missing = [c for c in ("candidate", "reference") if c not in header]
    if missing:
        raise CorpusError(f"Missing column(s): {', '.join(missing)}. The first line must be a header "
                          f"with 'candidate' and 'reference' (found: {', '.join(records[0])[:200] or 'none'}).")
    for k, r in enumerate(records[1:max_rows + 2], start=2):
        if len(r) != len(header):
            raise CorpusError(f"This is not a well-formed CSV file (line {k} has {len(r)} fields, "
                              f"the header has {len(header)}). Quote texts that contain commas.")
    ci, ri = header.index("candidate"), header.index("reference")
    df = pd.DataFrame({"candidate": [r[ci] for r in records[1:]],
                       "reference": [r[ri] for r in records[1:]]}, dtype=str)
    notes = []
    if len(df) == 0:
        raise CorpusError("The file has a header but no rows.")
    if len(df) > max_rows:
        raise CorpusError(f"The file has {len(df):,} rows; the limit is {max_rows:,}. Score a smaller sample.")
    for c in ("candidate", "reference"):
        df[c] = df[c].astype(str).str.replace("\x00", "", regex=False)
        long = df[c].str.len() > MAX_CELL_CHARS
        if long.any():
            notes.append(f"{int(long.sum())} {c} cell(s) longer than {MAX_CELL_CHARS:,} characters were cut.")
            df.loc[long, c] = df.loc[long, c].str.slice(0, MAX_CELL_CHARS)
    empty = (df["reference"].str.strip() == "")
    if empty.all():
        raise CorpusError("Every reference is empty: there is nothing to score against.")
    if empty.any():
        notes.append(f"{int(empty.sum())} row(s) with an empty reference score 0.")
    return df.reset_index(drop=True), notes


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) can
# send data away, =cmd|... used to start programs): CSV injection, OWASP's list plus the
# full-width forms that some spreadsheets also accept.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralize_cell(value):
    """A text cell that a spreadsheet would run as a formula, prefixed with ' (shown as text)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def scores_csv(table) -> bytes:
    """The scores table (a pandas.DataFrame) as UTF-8 CSV bytes, every text cell neutralised
    against formula injection (numbers are left as numbers)."""
    from pandas.api.types import is_numeric_dtype

    safe = table.copy()
    safe.columns = [neutralize_cell(str(c)) for c in safe.columns]
    for c in safe.columns:
        if not is_numeric_dtype(safe[c]):
            safe[c] = safe[c].map(neutralize_cell)
    # Every text cell quoted: pandas leaves a lone "\r" unquoted, which would split a cell
    # into a new row (and that row could start with a formula).
    return safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


def score_corpus(candidates: Sequence[str], references: Sequence[str],
                 progress: Optional[Callable[[int, int], None]] = None) -> tuple[list[dict], dict]:
    """Per-row ROUGE F1s, sentence BLEU and chrF, plus corpus figures.
    ROUGE has no corpus formula in rouge-score: the corpus value is the MEAN of row F1s.
    BLEU's corpus value sums the n-gram statistics over rows (corpus_bleu_breakdown)."""
    from sacrebleu.metrics import CHRF

    chrf_metric = CHRF()
    rows = []
    n = len(candidates)
    for i, (c, r) in enumerate(zip(candidates, references)):
        rb = rouge_breakdown(c, r)
        bl = bleu_breakdown(c, [r])
        rows.append({
            "row": i + 1,
            "rouge1": rb["rouge1"].fmeasure, "rouge2": rb["rouge2"].fmeasure,
            "rougeL": rb["rougeL"].fmeasure, "rougeLsum": rb["rougeLsum"].fmeasure,
            "bleu": bl.score, "chrf": chrf_metric.sentence_score(c, [r]).score,
        })
        if progress and (i % 50 == 0 or i == n - 1):
            progress(i + 1, n)
    corpus = {}
    if rows:
        for k in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            corpus[k] = sum(r[k] for r in rows) / len(rows)
        cb = corpus_bleu_breakdown(list(candidates), [[r] for r in references])
        corpus["bleu"] = cb.score
        corpus["bleu_signature"] = cb.signature
        corpus["mean_sentence_bleu"] = sum(r["bleu"] for r in rows) / len(rows)
        corpus["chrf"] = chrf_metric.corpus_score(list(candidates), [list(references)]).score
    return rows, corpus


# =========================================================================== scoring a real model
SUMMARY_INSTRUCTION = "Summarize the dialogue in one short sentence."


def summary_messages(dialogue: str, examples: Sequence[dict] = ()) -> list[dict]:
    """Chat messages for zero-shot (no examples) or few-shot summarization. Few-shot puts
    each example in as a previous user/assistant turn -- in-context learning (Week 1)."""
    msgs = [{"role": "system", "content": "You are a helpful assistant that writes short, factual summaries."}]
    for ex in examples:
        msgs.append({"role": "user", "content": f"{SUMMARY_INSTRUCTION}\n\n{ex['dialogue']}"})
        msgs.append({"role": "assistant", "content": ex["summary"]})
    msgs.append({"role": "user", "content": f"{SUMMARY_INSTRUCTION}\n\n{dialogue}"})
    return msgs


def generate_summary(lm, dialogue: str, examples: Sequence[dict] = (), max_new_tokens: int = 48) -> str:
    """Greedy decoding (deterministic) with the model's chat template; the shared model is
    only read (no_grad, no state change)."""
    import torch

    tok, model = lm.tokenizer, lm.model
    prompt = tok.apply_chat_template(summary_messages(dialogue, examples), tokenize=False,
                                     add_generation_prompt=True)
    enc = tok(prompt, return_tensors="pt").to(lm.device)   # input_ids: (1, T)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=int(max_new_tokens), do_sample=False,
                             pad_token_id=tok.eos_token_id or tok.pad_token_id)
    text = tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return " ".join(text.split())


def summarize_and_score(lm, items: Sequence[dict], shots: Sequence[dict], max_new_tokens: int = 48,
                        progress: Optional[Callable[[int, int, str], None]] = None,
                        max_seconds: float = 240.0) -> list[dict]:
    """For each dialogue: zero-shot and few-shot summaries, each scored against the
    reference with ROUGE-1/2/L and BLEU. Bounded by max_new_tokens and max_seconds."""
    out = []
    total = 2 * len(items)
    done = 0
    t0 = time.time()
    for it in items:
        row = {"id": it["id"], "dialogue": it["dialogue"], "reference": it["summary"]}
        for mode, ex in (("zero-shot", ()), ("few-shot", shots)):
            if time.time() - t0 > max_seconds:
                row[mode] = ""
                row[f"{mode} skipped"] = True
            else:
                row[mode] = generate_summary(lm, it["dialogue"], ex, max_new_tokens)
            rb = rouge_breakdown(row[mode], it["summary"])
            row[f"{mode} rouge1"] = rb["rouge1"].fmeasure
            row[f"{mode} rouge2"] = rb["rouge2"].fmeasure
            row[f"{mode} rougeL"] = rb["rougeL"].fmeasure
            row[f"{mode} bleu"] = bleu_breakdown(row[mode], [it["summary"]]).score
            done += 1
            if progress:
                progress(done, total, f"{mode}: dialogue {it['id']}")
        out.append(row)
    return out
