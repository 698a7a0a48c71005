"""distillation: temperature softmax, the KD loss against torch's kl_div and a by-hand sum,
students, fair batches, bounded training that never touches the teacher."""

import pytest
import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel

from lessons.efficiency import distillation as kd
from lessons import models
from lessons.core.loop import StopReason


@pytest.fixture(scope="module")
def teacher():
    """A random GPT-2 standing in for the tiny GPT (same architecture family, vocab 256)."""
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=256, n_positions=64, n_layer=2, n_embd=32, n_head=2)
    return GPT2LMHeadModel(cfg).eval()


@pytest.fixture(scope="module")
def ids():
    g = torch.Generator().manual_seed(0)
    # a learnable sequence: a repeating pattern with noise
    base = torch.arange(2000) % 37
    noise = torch.randint(0, 256, (2000,), generator=g)
    return torch.where(torch.rand(2000, generator=g) < 0.1, noise, base)


def test_softmax_t_limits():
    z = torch.tensor([2.0, 1.0, 0.0, -1.0])
    assert torch.allclose(kd.softmax_t(z, 1.0), torch.softmax(z, -1))
    assert kd.softmax_t(z, 0.01)[0] > 0.999                        # T -> 0: one-hot
    assert torch.allclose(kd.softmax_t(z, 1e4), torch.full((4,), 0.25), atol=1e-3)  # T -> inf: uniform
    assert kd.entropy_bits(kd.softmax_t(z, 4.0)) > kd.entropy_bits(kd.softmax_t(z, 1.0))
    assert float(kd.entropy_bits(torch.full((8,), 1 / 8))) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        kd.softmax_t(z, 0.0)


@pytest.mark.parametrize("T", [1.0, 2.0, 5.0])
def test_kd_loss_matches_torch_kl_div_and_the_definition(T):
    torch.manual_seed(1)
    s, t = torch.randn(2, 5, 11), torch.randn(2, 5, 11)
    ref = F.kl_div(F.log_softmax(s.view(-1, 11) / T, -1), F.log_softmax(t.view(-1, 11) / T, -1),
                   log_target=True, reduction="batchmean") * T * T
    p, q = torch.softmax(t / T, -1), torch.softmax(s / T, -1)
    by_hand = T * T * (p * (p.log() - q.log())).sum(-1).mean()
    assert torch.allclose(kd.kd_kl(s, t, T), ref, atol=1e-6)
    assert torch.allclose(kd.kd_kl(s, t, T), by_hand, atol=1e-6)
    assert float(kd.kd_kl(t, t, T)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("T", [1.0, 2.0])
def test_kd_loss_with_a_minus_inf_teacher_logit_is_finite_like_torch(T):
    """A token the teacher rules out (-inf) contributes 0 log 0 = 0, as torch's kl_div with
    probability targets (xlogy) computes it; gradients reach the student and stay finite."""
    torch.manual_seed(3)
    s = torch.randn(3, 7, requires_grad=True)
    t = torch.randn(3, 7)
    t[0, 2] = float("-inf")
    t[1, [0, 5]] = float("-inf")
    got = kd.kd_kl(s, t, T)
    ref = F.kl_div(F.log_softmax(s / T, -1), torch.softmax(t / T, -1), reduction="batchmean") * T * T
    assert torch.isfinite(got) and torch.allclose(got, ref, atol=1e-6)
    got.backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert float(kd.kd_kl(t, t, T)) == pytest.approx(0.0, abs=1e-6)  # -inf in both: still 0


@pytest.mark.parametrize("T", [0.0, -1.0, float("nan")])
def test_kd_loss_refuses_a_temperature_that_is_not_positive(T):
    s, t = torch.randn(2, 5), torch.randn(2, 5)
    with pytest.raises(ValueError, match="T must be > 0"):
        kd.kd_kl(s, t, T)
    with pytest.raises(ValueError):
        kd.distillation_loss(s, t, None, T=T)


def test_mixed_loss_is_alpha_weighted():
    torch.manual_seed(2)
    s, t, y = torch.randn(3, 4, 9), torch.randn(3, 4, 9), torch.randint(0, 9, (3, 4))
    loss, parts = kd.distillation_loss(s, t, y, T=3.0, alpha=0.25)
    ce = F.cross_entropy(s.view(-1, 9), y.view(-1))
    assert parts["ce"] == pytest.approx(float(ce), abs=1e-6)
    assert float(loss) == pytest.approx(0.25 * parts["kd"] + 0.75 * float(ce), abs=1e-6)
    with pytest.raises(ValueError):
        kd.distillation_loss(s, t, None, alpha=0.5)


def test_student_is_smaller_and_seeded(teacher):
    a = kd.make_student(teacher.config, 1, 16, 2, seed=3)
    b = kd.make_student(teacher.config, 1, 16, 2, seed=3)
    assert kd.n_params(a) < kd.n_params(teacher) and a.config.vocab_size == 256
    assert models.state_fingerprint(a) == models.state_fingerprint(b)


def test_batches_are_shifted_and_reproducible(ids):
    b1 = list(kd.batches(ids, 4, 16, 3, seed=5))
    b2 = list(kd.batches(ids, 4, 16, 3, seed=5))
    for (x, y), (x2, y2) in zip(b1, b2):
        assert x.shape == (4, 16) and torch.equal(x[:, 1:], y[:, :-1]) and torch.equal(x, x2) and torch.equal(y, y2)


@pytest.mark.slow
def test_training_is_bounded_learns_and_leaves_the_teacher_alone(teacher, ids):
    before = models.state_fingerprint(teacher)
    runs = {}
    for mode, alpha in (("hard", 0.0), ("soft", 0.5)):
        st = kd.make_student(teacher.config, 1, 32, 2, seed=0)
        runs[mode] = kd.train_student(st, teacher, ids[:1500], ids[1500:], mode=mode, T=2.0, alpha=alpha,
                                      steps=12, max_seconds=60, batch=4, block=32, eval_every=6, eval_blocks=4)
    assert models.state_fingerprint(teacher) == before and not teacher.training
    for r in runs.values():
        assert r.steps == 12 and len(r.losses) == 12 and r.stopped is StopReason.STEPS
        assert r.val_ppl[0][0] == 0 and r.val_ppl[-1][0] == 12
        assert r.ce[-1] < r.ce[0]                                         # it learned something
    # same seed, same batches, alpha = 0 in "soft" mode == hard-label training
    st = kd.make_student(teacher.config, 1, 32, 2, seed=0)
    control = kd.train_student(st, teacher, ids[:1500], ids[1500:], mode="soft", T=2.0, alpha=0.0,
                               steps=12, max_seconds=60, batch=4, block=32, eval_every=6, eval_blocks=4)
    assert control.ce == pytest.approx(runs["hard"].ce, rel=1e-4)
    # a time budget of 0 s stops after the first step
    st = kd.make_student(teacher.config, 1, 32, 2, seed=0)
    quick = kd.train_student(st, teacher, ids[:1500], ids[1500:], steps=50, max_seconds=0.0, batch=2, block=16)
    assert quick.steps == 1 and quick.stopped is StopReason.TIME
    assert quick.val_ppl[-1][0] == 1          # the step the run ended on is evaluated


def test_soft_labels_of_a_real_tokenizer():
    tok = models.load_gpt2_tokenizer()
    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_layer=1, n_embd=16, n_head=2)).eval()
    sl = kd.soft_labels(m, tok, "Hello world", T=3.0, top_k=5)
    assert len(sl.tokens) == 5 and sl.p1 == sorted(sl.p1, reverse=True)
    assert sl.entropyT > sl.entropy1 and sl.topT < sl.top1
    with pytest.raises(ValueError):
        kd.soft_labels(m, tok, "", T=2.0)


@pytest.mark.slow
def test_train_pair_runs_in_lockstep_and_alpha_zero_is_the_control(teacher, ids):
    before = models.state_fingerprint(teacher)
    make = lambda: kd.make_student(teacher.config, 1, 32, 2, seed=4)  # noqa: E731
    runs = kd.train_pair(teacher, ids[:1500], ids[1500:], make, T=2.0, alpha=0.0, steps=8, max_seconds=60,
                         batch=4, block=32, eval_every=4, eval_blocks=4)
    hard, soft = runs["hard labels"], runs["distilled"]
    assert hard.steps == soft.steps == 8 and hard.mode == "hard" and soft.mode == "soft"
    assert hard.ce == pytest.approx(soft.ce, rel=1e-5)          # alpha = 0: same objective, same batches
    assert models.state_fingerprint(hard.model) == models.state_fingerprint(soft.model)
    assert models.state_fingerprint(teacher) == before
    distilled = kd.train_pair(teacher, ids[:1500], ids[1500:], make, T=2.0, alpha=1.0, steps=8, max_seconds=60,
                              batch=4, block=32, eval_every=4, eval_blocks=4)["distilled"]
    assert distilled.ce != pytest.approx(hard.ce, rel=1e-5)       # soft labels change the training
    cut = kd.train_pair(teacher, ids[:1500], ids[1500:], make, steps=50, max_seconds=0.0, batch=2, block=16)
    assert [r.steps for r in cut.values()] == [1, 1] and all(r.stopped is StopReason.TIME for r in cut.values())
    # a Stop seen inside step 3 (before any update) leaves BOTH students at step 2: still lockstep
    asked = []
    stop = kd.train_pair(teacher, ids[:1500], ids[1500:], make, steps=50, max_seconds=600, batch=2, block=16,
                         eval_every=100, eval_blocks=2, should_stop=lambda: asked.append(1) or len(asked) >= 6)
    for r in stop.values():
        assert r.steps == len(r.losses) == len(r.ce) == 2 and r.stopped is StopReason.STOPPED
        assert [s for s, _ in r.val_ppl] == [0, 2]


def test_a_run_cut_off_from_outside_is_kept_and_settled(teacher, ids):
    """A page's script can be ended inside ``progress`` (Streamlit raises at the next element
    call after a Stop click): the caller's ``runs`` dict still holds both students, and
    ``settle`` finishes them like a stopped run."""
    class Ended(Exception):
        pass

    def progress(row, run):
        if row["step"] == 3:
            raise Ended

    make = lambda: kd.make_student(teacher.config, 1, 32, 2, seed=4)  # noqa: E731
    held: dict = {}
    with pytest.raises(Ended):
        kd.train_pair(teacher, ids[:1500], ids[1500:], make, steps=50, max_seconds=600, batch=2, block=16,
                      eval_every=100, eval_blocks=2, progress=progress, runs=held)
    assert list(held) == ["hard labels", "distilled"] and held["distilled"].stopped is None
    kd.settle(held, ids[1500:])
    kd.settle(held, ids[1500:])                              # idempotent
    for r in held.values():
        assert r.steps == len(r.ce) == 3 and r.stopped is StopReason.STOPPED
        assert [s for s, _ in r.val_ppl] == [0, 3] and "opt" not in r.extra and not r.model.training
