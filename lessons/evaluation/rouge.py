"""ROUGE, computed by hand so that every count behind a score can be shown.

Lin, C.-Y. (2004) "ROUGE: A Package for Automatic Evaluation of Summaries". Mirrors
google-research ``rouge_score`` (rouge_scorer.py): the same tokenizer rules, n-gram clipping,
LCS table, back-tracking and the summary-level "union LCS" of rougeLsum. The counting is our
own code; tests/unit/evaluation/test_rouge_bleu.py proves every figure equals ``rouge_score.RougeScorer``
to 1e-9 on a case table. Only the Porter stemmer *object* is borrowed from nltk (exactly what
rouge-score uses).
"""
from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
TOKENIZERS = ("default", "unicode")  # "default" == rouge-score's tokenizer


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
