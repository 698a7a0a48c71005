"""Where pretraining data comes from: scraped web text is mostly thrown away.

Pipelines such as C4, Gopher's MassiveText and FineWeb run every document through cheap
heuristic filters; only a few percent of a raw crawl survives. The filters here are the
classic ones (simplified from Rae et al. 2021, "Gopher", appendix A, and Raffel et al. 2020,
C4), each with a threshold the learner can move:

* too short: fewer than `min_words` words;
* symbol spam: share of characters that are neither letters, digits nor spaces;
* mean word length outside [3, 10] characters (tables of numbers, URLs, gibberish);
* not English: Gopher's rule, keep a document only if it contains at least 2 of the
  stop words {the, be, to, of, and, that, have, with};
* boilerplate: share of lines that look like cookie banners, navigation or legal footers;
* repeated lines: share of lines that are duplicates of another line in the document;
* duplicates: a document whose normalised text equals (exact) or nearly equals (Jaccard
  similarity of word 5-gram shingles >= threshold) a document already kept.

Each document gets the FIRST filter that rejects it, so the funnel adds up.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "assets" / "data_quality" / "raw_web_sample.jsonl"

GOPHER_STOPWORDS = {"the", "be", "to", "of", "and", "that", "have", "with"}
BOILERPLATE = re.compile(
    r"(cookie|privacy policy|terms of (use|service)|all rights reserved|subscribe|sign up|log ?in|"
    r"click here|read more|share on|follow us|newsletter|copyright|©|skip to content|home \|)",
    re.I)
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.U)


@dataclass
class FilterConfig:
    min_words: int = 20
    max_symbol_ratio: float = 0.10
    min_mean_word_len: float = 3.0
    max_mean_word_len: float = 10.0
    min_stopwords: int = 2
    max_boilerplate_lines: float = 0.30
    max_repeated_lines: float = 0.30
    near_dup_jaccard: float = 0.80
    enabled: tuple[str, ...] = ("length", "symbols", "word length", "language", "boilerplate",
                                "repetition", "duplicate")


FILTER_ORDER = ("length", "symbols", "word length", "language", "boilerplate", "repetition", "duplicate")


@dataclass
class DocResult:
    doc_id: str
    source: str
    text: str
    words: int
    symbol_ratio: float
    mean_word_len: float
    stopwords: int
    boilerplate_lines: float
    repeated_lines: float
    max_jaccard: float
    rejected_by: str = ""     # "" = kept

    @property
    def kept(self) -> bool:
        return not self.rejected_by


@dataclass
class FilterReport:
    docs: list[DocResult]
    funnel: list[tuple[str, int]] = field(default_factory=list)   # (stage, docs remaining)

    @property
    def kept(self) -> list[DocResult]:
        return [d for d in self.docs if d.kept]

    @property
    def kept_fraction(self) -> float:
        return len(self.kept) / len(self.docs) if self.docs else 0.0

    @property
    def kept_char_fraction(self) -> float:
        total = sum(len(d.text) for d in self.docs)
        return sum(len(d.text) for d in self.kept) / total if total else 0.0


def load_sample(path: Path = SAMPLE_PATH) -> list[dict]:
    """The messy 'scraped' sample written for the app: [{id, source, text}]."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def normalise(text: str) -> str:
    """Lower-case, words only: two pages differing in spacing or punctuation match."""
    return " ".join(w.lower() for w in WORD.findall(text))


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = normalise(text).split()
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if (a or b) else 0.0


def doc_stats(text: str) -> dict:
    words = WORD.findall(text)
    chars = [c for c in text if not c.isspace()]
    symbols = sum(1 for c in chars if not c.isalnum())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    boiler = sum(1 for ln in lines if BOILERPLATE.search(ln))
    seen, repeated = set(), 0
    for ln in lines:
        key = ln.lower()
        if key in seen:
            repeated += 1
        seen.add(key)
    lower = {w.lower() for w in words}
    return {
        "words": len(words),
        "symbol_ratio": symbols / len(chars) if chars else 0.0,
        "mean_word_len": sum(len(w) for w in words) / len(words) if words else 0.0,
        "stopwords": len(GOPHER_STOPWORDS & lower),
        "boilerplate_lines": boiler / len(lines) if lines else 0.0,
        "repeated_lines": repeated / len(lines) if lines else 0.0,
    }


def run_filters(docs: list[dict], cfg: FilterConfig | None = None) -> FilterReport:
    """Apply the enabled filters in FILTER_ORDER; the first failing one is recorded."""
    cfg = cfg or FilterConfig()
    results: list[DocResult] = []
    kept_shingles: list[set] = []
    kept_norm: set[str] = set()
    for d in docs:
        text = d.get("text", "")
        s = doc_stats(text)
        r = DocResult(str(d.get("id", len(results))), d.get("source", ""), text, s["words"],
                      s["symbol_ratio"], s["mean_word_len"], s["stopwords"], s["boilerplate_lines"],
                      s["repeated_lines"], 0.0)
        checks = {
            "length": s["words"] < cfg.min_words,
            "symbols": s["symbol_ratio"] > cfg.max_symbol_ratio,
            "word length": not (cfg.min_mean_word_len <= s["mean_word_len"] <= cfg.max_mean_word_len),
            "language": s["stopwords"] < cfg.min_stopwords,
            "boilerplate": s["boilerplate_lines"] > cfg.max_boilerplate_lines,
            "repetition": s["repeated_lines"] > cfg.max_repeated_lines,
        }
        for name in FILTER_ORDER[:-1]:
            if name in cfg.enabled and checks[name]:
                r.rejected_by = name
                break
        if not r.rejected_by:
            sh = shingles(text)
            norm = normalise(text)
            r.max_jaccard = max((jaccard(sh, k) for k in kept_shingles), default=0.0)
            if "duplicate" in cfg.enabled and (norm in kept_norm or r.max_jaccard >= cfg.near_dup_jaccard):
                r.rejected_by = "duplicate"
            else:
                kept_shingles.append(sh)
                kept_norm.add(norm)
        results.append(r)
    funnel, remaining = [("raw documents", len(results))], len(results)
    for name in FILTER_ORDER:
        if name in cfg.enabled:
            remaining -= sum(1 for r in results if r.rejected_by == name)
            funnel.append((f"after {name}", remaining))
    return FilterReport(results, funnel)
