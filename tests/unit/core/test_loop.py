"""lessons.core: the run loop's budget, stop reasons, history and cooperative stop; the ONE
perplexity (against the model's own loss, and the same value from every lesson that reports a
Shakespeare perplexity of the shipped tiny GPT); the one pad rule and left padding; the one
forward-pass timer (one definition behind the distillation and pruning pages)."""
from __future__ import annotations

import math

import pytest
import torch

from lessons import models
from lessons.efficiency import distillation, pruning
from lessons.pretraining import domain_adaptation
from lessons.core import generate as core_generate
from lessons.core.loop import Run, StopReason, run_loop
from lessons.core.perplexity import SLICES, describe, perplexity, validation_ids, validation_perplexity
from lessons.core.tensors import entropy_bits, evaluating, left_pad, param_count
from lessons.core.timing import ms_per_forward, ms_per_forward_interleaved
from lessons.finetune import forgetting


# --------------------------------------------------------------------------- run loop
def test_loop_runs_every_step_and_keeps_history():
    seen = []
    run = run_loop(lambda i: {"loss": 1.0 / i}, steps=5, max_seconds=60,
                   progress=lambda row, r: seen.append((row["step"], r.steps_done)))
    assert run.stopped is StopReason.STEPS and run.steps_done == 5
    assert [r["step"] for r in run.history] == [1, 2, 3, 4, 5] and run.series("loss")[-1] == 0.2
    assert seen == [(i, i) for i in range(1, 6)]
    assert run.describe() == "all 5 steps done"


def test_loop_time_budget_and_cooperative_stop():
    clock = {"t": 0}

    def slow(i):
        import time
        time.sleep(0.02)
        return {"i": i}

    run = run_loop(slow, steps=10_000, max_seconds=0.05)
    assert run.stopped is StopReason.TIME and 1 <= run.steps_done < 10_000
    # should_stop is asked before every step: stop after the 3rd
    run = run_loop(lambda i: clock.update(t=i) or {"i": i}, steps=10, max_seconds=60,
                   should_stop=lambda: clock["t"] >= 3)
    assert run.stopped is StopReason.STOPPED and run.steps_done == 3 and run.describe() == "stopped by you"
    # a step that sees the stop request before its update returns None: not recorded
    run = run_loop(lambda i: None if i == 4 else {"i": i}, steps=10, max_seconds=60)
    assert run.stopped is StopReason.STOPPED and run.steps_done == 3


def test_loop_resumes_a_run_it_is_given():
    run = run_loop(lambda i: {"i": i}, steps=3, max_seconds=60)
    run = run_loop(lambda i: {"i": i}, steps=5, max_seconds=60, run=run)
    assert [r["i"] for r in run.history] == [1, 2, 3, 4, 5] and isinstance(run, Run)


# --------------------------------------------------------------------------- small helpers
def test_eta_follows_the_recent_pace_not_the_mean():
    run = Run(20, 600.0)
    assert run.eta_s() is None                                   # nothing measured yet
    run.history.append({"step": 1, "seconds": 4.0})
    assert run.eta_s() == pytest.approx(19 * 4.0)               # one step: its own time
    # then the server gets busy: steps 2..11 take 2 s each instead of 0.5 s
    for i in range(2, 12):
        run.history.append({"step": i, "seconds": 4.0 + 2.0 * (i - 1)})
    assert run.eta_s() == pytest.approx(9 * 2.0)                # 9 steps left at the last 10 steps' pace
    assert run.eta_s(window=1) == pytest.approx(9 * 2.0)
    for i in range(12, 21):
        run.history.append({"step": i, "seconds": 24.0 + (i - 11)})
    assert run.eta_s() == 0.0                                   # done


def test_left_pad_entropy_param_count_and_eval_mode():
    ids, mask = left_pad([[5, 6, 7], [9]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 9]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert float(entropy_bits(torch.tensor([0.5, 0.5, 0.0]))) == pytest.approx(1.0)
    lin = torch.nn.Linear(3, 2)
    lin.weight.requires_grad_(False)
    assert param_count(lin) == 8 and param_count(lin, trainable_only=True) == 2
    lin.train()
    with evaluating(lin):
        assert not lin.training
    assert lin.training


class _Seen(torch.nn.Module):
    """Records how it was called: mode, grad and input shape of every forward."""

    def __init__(self):
        super().__init__()
        self.emb, self.calls = torch.nn.Embedding(4, 2), []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled(), tuple(x.shape)))
        return self.emb(x)


def test_ms_per_forward_is_one_timer_in_eval_mode_and_interleaved():
    a, b = _Seen().train(), _Seen()
    ms = ms_per_forward(a, block=8, repeats=3)
    assert ms > 0 and a.training                          # handed back in train mode ...
    assert a.calls == [(False, False, (1, 8))] * 4        # ... timed in eval mode, no_grad: warm-up + 3
    a.calls.clear()
    both = ms_per_forward_interleaved([a, b], block=5, repeats=3)
    assert len(both) == 2 and min(both) > 0
    assert len(a.calls) == len(b.calls) == 4
    assert distillation.ms_per_forward is ms_per_forward  # the name the distillation page calls


def test_one_pad_rule():
    class Tok:
        pad_token_id, eos_token_id = None, 7
    assert core_generate.pad_id(Tok()) == 7
    Tok.pad_token_id = 3
    assert core_generate.pad_id(Tok()) == 3


# --------------------------------------------------------------------------- perplexity
def test_perplexity_is_the_models_own_loss():
    from lessons.pretraining import tiny_gpt

    cfg = tiny_gpt.tiny_gpt_config(vocab_size=50, n_layer=1, n_embd=16, n_head=2, n_positions=32)
    m = tiny_gpt.fresh_model(cfg, seed=1).eval()
    ids = torch.randint(0, 50, (70,), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        losses = [m(ids[i:i + 16][None], labels=ids[i:i + 16][None]).loss.item() for i in range(0, 64, 16)]
    assert perplexity(m, ids, block=16) == pytest.approx(math.exp(sum(losses) / 4), rel=1e-5)
    assert perplexity(m, ids, block=16, max_windows=2) == pytest.approx(math.exp(sum(losses[:2]) / 2), rel=1e-5)


@pytest.fixture(scope="module")
def tiny():
    if not models.tiny_gpt_available():
        pytest.skip("assets/tiny_gpt missing")
    return models.load_tiny_gpt()


@pytest.mark.slow
def test_every_lesson_reports_one_shakespeare_perplexity(tiny):
    """The shipped tiny GPT's Shakespeare perplexity is ONE number on every page."""
    s = SLICES["shakespeare"]
    ids = validation_ids(tiny.tokenizer)
    assert len(ids) == s.n_tokens == 1024 and "16 windows of 64" in describe()
    one = validation_perplexity(tiny.model, tiny.tokenizer)
    # the pages' own id tensors (ui/efficiency.shakespeare_ids: tokenized held-out plays)
    from lessons import corpus
    val = distillation.token_ids(tiny.tokenizer, corpus.shakespeare_text("validation")[:40_000])
    reported = {
        "distillation page (teacher)": perplexity(tiny.model, val, 64, 16),
        "pruning page (dense = 0 % sparsity)": pruning.sparsity_curve(tiny.model, val, [0.0])[0]["perplexity"],
        "forgetting page (pretrained model)": forgetting.evaluate(tiny.model, tiny.tokenizer, "archaic", "mood",
                                                                  n_test=1)["shakespeare_ppl"],
        "domain adaptation part 1 (Shakespeare row)": domain_adaptation.text_perplexity(
            tiny.model, tiny.tokenizer, corpus.shakespeare_text("validation")[:8000])["perplexity"],
        "pretraining-live metric": validation_perplexity(tiny.model, tiny.tokenizer),
        "domain adaptation part 2 (Shakespeare curve, step 0)": domain_adaptation.continued_pretraining(
            models.session_copy(tiny.model), tiny.tokenizer, *domain_adaptation.split_paragraphs(
                domain_adaptation.modern_text()), None, steps=1, eval_every=1).curve[0][2],
    }
    for where, value in reported.items():
        assert value == pytest.approx(one, rel=1e-6), where
    assert 50 < one < 1000
