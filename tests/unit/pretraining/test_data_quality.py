"""Heuristic quality filters on the messy sample written for the app."""
import pytest

from lessons.pretraining import data_quality as dq


def _by_source(report):
    return {d.source: d for d in report.docs}


def test_each_kind_of_junk_is_caught_by_the_right_filter():
    r = dq.run_filters(dq.load_sample())
    d = _by_source(r)
    assert d["news"].kept and d["recipe"].kept and d["science"].kept
    assert d["news-copy"].rejected_by == "duplicate"            # exact copy
    assert d["news-syndicated"].rejected_by == "duplicate"      # same text, other case/punctuation
    assert d["forum-dup"].rejected_by == "duplicate"            # near-duplicate (one sentence added)
    assert d["forum-dup"].max_jaccard >= 0.8
    assert d["short"].rejected_by == "length"
    assert d["spam"].rejected_by in ("length", "symbols")
    assert d["table"].rejected_by == "symbols" and d["code"].rejected_by == "symbols"
    assert d["french"].rejected_by == "language" and d["german"].rejected_by == "language"
    assert d["cookie-banner"].rejected_by == "boilerplate"
    assert d["repeated"].rejected_by == "repetition"


def test_funnel_adds_up_and_kept_fraction():
    r = dq.run_filters(dq.load_sample())
    assert r.funnel[0] == ("raw documents", len(r.docs))
    assert r.funnel[-1][1] == len(r.kept)
    counts = [n for _, n in r.funnel]
    assert counts == sorted(counts, reverse=True)
    assert 0.2 < r.kept_fraction < 0.6
    assert r.kept_fraction == pytest.approx(len(r.kept) / len(r.docs))


def test_disabling_filters_keeps_more():
    docs = dq.load_sample()
    everything = dq.run_filters(docs, dq.FilterConfig(enabled=()))
    assert everything.kept_fraction == 1.0
    no_dedup = dq.run_filters(docs, dq.FilterConfig(enabled=tuple(f for f in dq.FILTER_ORDER if f != "duplicate")))
    assert len(no_dedup.kept) > len(dq.run_filters(docs).kept)


def test_stats_by_hand():
    s = dq.doc_stats("The cat and the dog.\nThe cat and the dog.\n$$$")
    assert s["words"] == 10
    assert s["stopwords"] == 2                                  # "the", "and"
    assert s["repeated_lines"] == pytest.approx(1 / 3)
    assert s["symbol_ratio"] == pytest.approx(5 / 35)           # (2 dots + 3 dollars) / 35 non-space chars
    assert dq.jaccard({1, 2, 3}, {2, 3, 4}) == pytest.approx(0.5)
    assert dq.normalise("Hello,  WORLD!") == "hello world"


def test_odd_input_does_not_crash():
    r = dq.run_filters([{"id": "a", "text": ""}, {"id": "b", "text": "🙂" * 50},
                        {"id": "c", "text": "<script>alert(1)</script>"}, {"id": "d", "text": "東京は日本の首都です。" * 5}])
    assert all(not d.kept for d in r.docs)
