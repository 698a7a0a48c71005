"""Week 3 distillation and pruning pages: every Try-this and caption that states an outcome,
performed with the pages' own lessons functions, defaults and seeds on the real tiny GPT."""
import math

import pytest

from lessons import models
from lessons.efficiency import pruning, distillation as kd
from lessons.core import records
from lessons.core.perplexity import perplexity
from lessons.efficiency import recorded as kd_recorded


@pytest.fixture(scope="module")
def tiny():
    return models.load_tiny_gpt("cpu")


@pytest.fixture(scope="module")
def ids(tiny):
    return kd.page_ids(tiny.tokenizer)          # the pages' train and validation slices


# --------------------------------------------------------------------------- distillation
def test_default_context_shows_dark_knowledge(tiny):
    """Try-this: 'with the default context, raise T from 1 to 1.5: the top token ' lord' falls
    from about a third to below 20%, and on the right the runners-up close in.'"""
    s1 = kd.soft_labels(tiny.model, tiny.tokenizer, kd.DEFAULT_CONTEXT, 1.0)
    s15 = kd.soft_labels(tiny.model, tiny.tokenizer, kd.DEFAULT_CONTEXT, 1.5)
    assert s1.tokens[0] == " lord" and 0.25 < s1.top1 < 0.45          # "about a third"
    assert s15.topT < 0.2
    # the right panel (p / p_top) rises for every runner-up
    assert all(b / s15.pT[0] > a / s1.p1[0] for a, b in zip(s1.p1[1:], s15.pT[1:]))
    # the caption: at T > 1 every bar on the left (absolute probability) drops for the top token
    assert s15.pT[0] < s1.p1[0]


def test_alpha_zero_is_the_control(tiny, ids):
    """Try-this: 'Set alpha = 0 for the distilled student too: both curves should coincide.'"""
    runs = kd.train_pair(tiny.model, *ids, lambda: kd.make_student(tiny.model.config, 2, 64, 2, seed=0),
                         T=2.0, alpha=0.0, steps=6, max_seconds=3600, seed=0, eval_every=3)
    assert runs["hard labels"].ce == runs["distilled"].ce
    assert runs["hard labels"].val_ppl == runs["distilled"].val_ppl


@pytest.fixture(scope="module")
def kd_lab(tiny):
    return kd_recorded.Lab(tiny)


def test_the_distillation_record_is_current(kd_lab):
    """The page's default run has a record made by this code, this teacher and this torch, and
    assets/recorded/distillation/ holds nothing else (scripts/record_runs.py)."""
    store = records.FileStore()
    _, _, key = kd_recorded.key(kd_lab, kd_recorded.KIND, kd_recorded.settings())
    assert store.get(kd_recorded.KIND, key) is not None, "no current record: run scripts/record_runs.py"
    assert store.keys(kd_recorded.KIND) == [key], "stale records: run scripts/record_runs.py"
    assert kd_recorded.settings()["steps"] == kd.PAGE_DEFAULTS["steps"]


@pytest.mark.slow
def test_the_distillation_record_is_what_the_code_does(kd_lab):
    """Both students' first 6 steps, trained now, equal the record's first 6 (a run takes the same
    path whatever its length), and so do the starting validation perplexities."""
    rec = kd_recorded.recorded(kd_lab, kd_recorded.KIND, kd_recorded.settings())
    assert rec is not None, "no current record of the distillation page's default run (scripts/record_runs.py)"
    live = kd_recorded.run(kd_lab, kd_recorded.KIND, kd_recorded.settings(), steps=6).result
    assert live["n_params_student"] == rec.result["n_params_student"]
    for name, got in live["students"].items():
        want = rec.result["students"][name]
        assert got["val_ppl"][0] == want["val_ppl"][0], name
        for k in ("ce", "losses"):
            assert len(got[k]) == 6
            for a, b in zip(got[k], want[k][:6]):
                assert math.isclose(a, b, rel_tol=1e-5), (name, k, a, b)


def test_distilled_student_pulls_ahead_as_the_caption_says(kd_lab):
    """The caption's 'what to expect' (figures read from the record): the distilled student pulls
    clearly ahead after a few dozen steps and stays ahead. Checked on the recorded default run
    (150 steps, validation every 25), which the test above proves is what the code does."""
    rec = kd_recorded.recorded(kd_lab, kd_recorded.KIND, kd_recorded.settings())
    assert rec is not None
    assert [s for s, _ in rec.result["students"]["distilled"]["val_ppl"]] == [0, 25, 50, 75, 100, 125, 150]
    for step in (50, 100, 150):
        v = kd_recorded.val_at(rec, step)
        assert v["distilled"] < 0.9 * v["hard labels"], (step, v)
    v = kd_recorded.val_at(rec, 100)
    assert v["distilled"] < 0.7 * v["hard labels"]
    start = kd_recorded.val_at(rec, 0)
    assert start["distilled"] == start["hard labels"]          # the same random start


# --------------------------------------------------------------------------- pruning
def test_pruning_claims(tiny, ids):
    _, val = ids
    dense = perplexity(tiny.model, val, 64, 16)
    # 'Move from 0% to 30%: perplexity barely moves.'
    p30 = perplexity(pruning.prune_copy(tiny.model, 0.3, "global").model, val, 64, 16)
    assert p30 < 1.1 * dense
    # 'At 99% sparsity, what does the model predict? (Only the embeddings and ~1% of the weights
    # are left.)' The page shows the pruned model's own top 10, which differs from the dense one.
    p99 = pruning.prune_copy(tiny.model, 0.99, "global")
    assert p99.achieved == pytest.approx(0.99, abs=0.005)
    nt = pruning.next_token_change(tiny.model, p99.model, tiny.tokenizer, "KING HENRY: What say you, my")
    assert len(nt.pruned_tokens) == 10 and nt.pruned_top == sorted(nt.pruned_top, reverse=True)
    assert nt.pruned_tokens != nt.tokens
    # 'Find the largest sparsity where the most likely next token is still the same': it exists.
    same = [s for s in (0.0, 0.3, 0.5, 0.7, 0.9, 0.99) if pruning.next_token_change(
        tiny.model, pruning.prune_copy(tiny.model, s, "global").model, tiny.tokenizer,
        "KING HENRY: What say you, my").same_top1]
    assert 0.0 in same and len(same) < 6
    # 'a sparse format ... only shrinks the file above about 50% sparsity'
    for s, smaller in ((0.4, False), (0.6, True)):
        size = pruning.storage_mb(1000, s)
        assert (size["sparse fp32 (CSR)"] < size["dense fp32"]) is smaller
