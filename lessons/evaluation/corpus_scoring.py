"""Scoring a whole corpus: a CSV reader with limits, per-row ROUGE/BLEU/chrF and the
corpus figures, a formula-safe scores download, and the built-in dialogue-summary sample
(written for this app)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Callable, Optional, Sequence

from lessons.evaluation.bleu import bleu_breakdown, corpus_bleu_breakdown
from lessons.evaluation.rouge import rouge_breakdown

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "evaluation"
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
