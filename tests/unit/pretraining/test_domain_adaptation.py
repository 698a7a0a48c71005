"""The domain-adaptation page's recorded table (lessons/pretraining/recorded.py): current, and what
the code measures now. (Perplexity itself is checked against transformers' own loss in
tests/unit/core/test_perplexity.py; the page in tests/app/pretraining/test_domain_adaptation.py.)"""
import math

import pytest

from lessons import models
from lessons.core import records
from lessons.core.threads import torch_threads
from lessons.pretraining import domain_adaptation
from lessons.pretraining import recorded as domain_recorded
from tests.floats import close, same


@pytest.fixture(scope="module")
def lab(smol):
    return domain_recorded.Lab(models.load_tiny_gpt("cpu"), smol)


def test_the_domain_records_are_current(lab):
    """Records made by this code, these two models and this torch exist for every run of RUNS
    (the table, the default training run, the Try-this's), and assets/recorded/ holds no other
    record of these kinds (scripts/record_runs.py)."""
    store = records.FileStore()
    want: dict = {}
    for kind, s in domain_recorded.RUNS:
        key = domain_recorded.key(lab, kind, s)[2]
        assert store.get(kind, key) is not None, f"no current record of {kind} {s}: run scripts/record_runs.py"
        want.setdefault(kind, set()).add(key)
    for kind, keys in want.items():
        assert set(store.keys(kind)) == keys, f"stale {kind} records: run scripts/record_runs.py"
    assert domain_recorded.training() == domain_adaptation.TRAIN_DEFAULTS     # the page's defaults are recorded


def test_the_record_changes_with_the_text():
    """The settings hold each shipped text's sha256: an edited text is a different run."""
    s = domain_recorded.settings()
    assert set(s["texts"]) == {domain_adaptation.SHAKESPEARE, domain_adaptation.MODERN}
    assert all(len(h) == 64 for h in s["texts"].values())


@pytest.mark.slow
def test_measuring_now_gives_the_recorded_table(lab):
    """Cells measured now, on one thread as recorded, equal the record's: the whole recipe for the
    tiny GPT, and SmolLM2 on the modern text (the same code path as its Shakespeare cell; each
    SmolLM2 cell is the slow part of the page's first render, which is why it opens with the record)."""
    rec = domain_recorded.recorded(lab, domain_recorded.KIND, domain_recorded.settings())
    assert rec is not None
    want = {(r["model"], r["domain"]): r for r in rec.result["rows"]}
    assert list(want) == [(m, d) for m in domain_adaptation.MODELS.values()
                          for d in (domain_adaptation.SHAKESPEARE, domain_adaptation.MODERN)]
    now = domain_recorded.run(lab, domain_recorded.KIND, domain_recorded.settings(), only=("tiny",)).result["rows"]
    with torch_threads(domain_recorded.THREADS):
        smol = lab.models["smollm2"]
        r = domain_adaptation.text_perplexity(smol.model, smol.tokenizer, domain_adaptation.modern_text())
    now.append(domain_adaptation.domain_row(domain_adaptation.MODELS["smollm2"], domain_adaptation.MODERN, r))
    assert len(now) == 3
    for got in now:
        rec_row = want[got["model"], got["domain"]]
        assert got["tokens scored"] == rec_row["tokens scored"] == 1024
        for k in ("perplexity", "bits per character"):
            assert close(got[k], rec_row[k]), (got, rec_row)


def test_what_the_page_teaches_from_the_record(lab):
    """Each model is least surprised by its own kind of text: the tiny GPT (Shakespeare only) by
    Shakespeare, SmolLM2 (web text) by modern English, per character."""
    rec = domain_recorded.recorded(lab, domain_recorded.KIND, domain_recorded.settings())
    cell = {(r["model"][:4], r["domain"]): r for r in rec.result["rows"]}
    assert cell["tiny", domain_adaptation.MODERN]["perplexity"] > 1.5 * cell["tiny", domain_adaptation.SHAKESPEARE]["perplexity"]
    assert (cell["Smol", domain_adaptation.MODERN]["bits per character"]
            < cell["Smol", domain_adaptation.SHAKESPEARE]["bits per character"])


@pytest.mark.slow
@pytest.mark.parametrize("over", [{}, {"steps": 100, "lr": 3e-3}], ids=["defaults", "try-this-3e-3"])
def test_continued_pretraining_now_follows_its_record(lab, over):
    """The first 4 steps of a recorded training run, trained now (the same run, stopped early), give
    the record's losses, and the same starting perplexities and sample."""
    s = domain_recorded.training(**over)
    rec = domain_recorded.recorded(lab, domain_recorded.TRAINING, s)
    assert rec is not None
    now = domain_recorded.run(lab, domain_recorded.TRAINING, s, stop_after=4).result
    assert now["steps"] == 4 and now["before_sample"] == rec.result["before_sample"]
    assert same(now["curve"][0], rec.result["curve"][0])
    for a, b in zip(now["losses"], rec.result["losses"][:4], strict=True):
        assert math.isclose(a, b, rel_tol=1e-5), (a, b)
