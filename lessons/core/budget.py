"""Budgets: did a scored generation end by itself or was it cut off?

A generation ends by itself (EOS, a stop string, a final-answer line) or hits its budget (max new
tokens, seconds, steps). An accuracy over answers that were cut off measures the budget, not the
model ("X does not help" may only mean "X needs more tokens"). So every page and bench that scores
generations reports the cut-off share next to the accuracy (summary), and a result with more
than MAX_CUT_OFF_SHARE cut off is labelled as such and is not used for a conclusion (text).
Pure Python.
"""
from __future__ import annotations

# generate.Generation.stopped_by values that mean the budget ended it.
CUT_OFF = ("token limit", "time limit")
MAX_CUT_OFF_SHARE = 0.10


def was_cut_off(stopped_by: str) -> bool:
    """True when the generation hit its token or time budget (not EOS, not a stop string)."""
    return stopped_by in CUT_OFF


def summary(cut_offs) -> dict:
    """{"n", "cut_off", "cut_off_share", "conclusive"} over an iterable of booleans (True = that
    scored generation was cut off by its budget). ``conclusive`` is False when more than
    MAX_CUT_OFF_SHARE of them were cut off: such an accuracy says little about the model."""
    flags = [bool(c) for c in cut_offs]
    n, k = len(flags), sum(flags)
    share = k / n if n else 0.0
    return {"n": n, "cut_off": k, "cut_off_share": round(share, 3), "conclusive": share <= MAX_CUT_OFF_SHARE}


def text(summary: dict) -> str:
    """One line for a page or a table: '2 of 24 cut off by the budget (8 %)', plus a warning
    when the result cannot carry a conclusion."""
    n, k = summary["n"], summary["cut_off"]
    line = f"{k} of {n} cut off by their budget ({100 * summary['cut_off_share']:.0f} %)"
    if not summary["conclusive"]:
        line += (f": more than {100 * MAX_CUT_OFF_SHARE:.0f} % were cut off, so this result measures the budget, "
                 "not the model; do not draw a conclusion from it")
    return line
