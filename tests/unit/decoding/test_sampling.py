"""lessons.decoding.sampling against transformers' own logits processors (the reference)."""
import itertools

import pytest
import torch
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from lessons.decoding import sampling


def reference(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """What generate(do_sample=True) samples from: the warpers in the order
    GenerationMixin._get_logits_processor appends them (temperature, top-k, top-p),
    each added only when its setting is not 'off', then softmax."""
    procs = LogitsProcessorList()
    if temperature != 1.0:
        procs.append(TemperatureLogitsWarper(float(temperature)))
    if top_k != 0:
        procs.append(TopKLogitsWarper(top_k=top_k, min_tokens_to_keep=1))
    if top_p < 1.0:
        procs.append(TopPLogitsWarper(top_p=top_p, min_tokens_to_keep=1))
    scores = procs(torch.zeros((1, 1), dtype=torch.long), logits[None].clone())
    return torch.softmax(scores, dim=-1)[0]


GRID = list(itertools.product([0.05, 0.3, 0.7, 1.0, 1.5, 3.0], [0, 1, 2, 5, 50, 500], [0.05, 0.5, 0.9, 0.95, 1.0]))


@pytest.mark.slow
@pytest.mark.parametrize("scale", [0.5, 3.0, 10.0])
def test_filter_distribution_matches_transformers_warpers(scale):
    g = torch.Generator().manual_seed(int(scale * 10))
    for trial in range(3):
        logits = torch.randn(1000, generator=g) * scale
        for t, k, p in GRID:
            ours = sampling.filter_distribution(logits, temperature=t, top_k=k, top_p=p)
            ref = reference(logits, t, k, p)
            assert ours.shape == (1000,)
            assert torch.allclose(ours, ref, atol=1e-6, rtol=0), (t, k, p, (ours - ref).abs().max())
            assert torch.equal(ours > 0, ref > 0), (t, k, p)   # same survivors exactly


def test_explain_filtering_final_equals_filter_distribution():
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(5000, generator=g) * 4
    for t, k, p in itertools.product([0.0, 0.4, 1.0, 2.0], [0, 3, 100], [0.3, 0.9, 1.0]):
        s = sampling.explain_filtering(logits, t, k, p, n=30)
        assert torch.equal(s.probs_final, sampling.filter_distribution(logits, t, k, p)), (t, k, p)
        kept = [c for c, r in zip(s.cum_before_p, s.removed_by) if r == ""]
        assert kept == sorted(kept) and all(0 < c <= 1 + 1e-6 for c in s.cum_before_p)


def test_ties_and_tiny_vocab_match_transformers():
    logits = torch.tensor([2.0, 2.0, 2.0, 1.0, 0.0, -1.0])
    for t, k, p in itertools.product([0.5, 1.0], [1, 2, 3, 10], [0.3, 0.6, 1.0]):
        assert torch.allclose(sampling.filter_distribution(logits, t, k, p), reference(logits, t, k, p), atol=1e-7)


def test_off_settings_are_plain_softmax_and_near_zero_temperature_is_greedy():
    logits = torch.randn(300, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(sampling.filter_distribution(logits), torch.softmax(logits, -1), atol=1e-7)
    g = sampling.filter_distribution(logits, temperature=0.0)
    assert g.sum() == 1 and g[logits.argmax()] == 1
    # the limit is approached continuously: the argmax's share grows as T shrinks
    top = [float(sampling.filter_distribution(logits, temperature=t)[logits.argmax()]) for t in (2, 1, 0.5, 0.1)]
    assert top == sorted(top) and top[0] < top[-1]
    assert sampling.filter_distribution(torch.tensor([3.0, 2.0, 1.0]), temperature=0.05)[0] > 0.999


@pytest.mark.parametrize("t", [5e-5, 1e-5, 1e-6])
def test_tiny_temperatures_let_ties_and_near_ties_share_like_transformers(t):
    # two exact ties and a near-tie 1e-5 below them: T = 1e-5 must not collapse to a one-hot
    logits = torch.tensor([2.0, 2.0, 2.0 - 1e-5, 1.0, -3.0])
    ours = sampling.filter_distribution(logits, temperature=t)
    ref = reference(logits, t, 0, 1.0)
    assert torch.allclose(ours, ref, atol=1e-6, rtol=0)
    assert ours[0] == ours[1] and float(ours[0]) < 0.51
    assert float(ours[:3].sum()) == pytest.approx(1.0, abs=1e-6)
    s = sampling.explain_filtering(logits, t, 0, 1.0, n=5)
    assert torch.equal(s.probs_final, ours) and not s.greedy


def test_temperature_zero_is_greedy_and_exact_ties_share():
    g = sampling.filter_distribution(torch.tensor([1.0, 4.0, 4.0, 0.0]), temperature=0.0)
    assert g.tolist() == [0.0, 0.5, 0.5, 0.0]
    s = sampling.explain_filtering(torch.tensor([1.0, 4.0, 4.0, 0.0]), 0.0, 0, 1.0, n=4)
    assert s.greedy and s.n_kept == 2 and torch.equal(s.probs_final, g)


def _transformers_rejects(t, k, p) -> bool:
    try:
        if t != 1.0:
            TemperatureLogitsWarper(t)
        if k != 0:
            TopKLogitsWarper(top_k=k)
        if p != 1.0:
            TopPLogitsWarper(top_p=p)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("t,k,p", [(-0.5, 0, 1.0), (float("nan"), 0, 1.0),
                                   (1.0, -1, 1.0), (1.0, 2.5, 1.0), (1.0, 0, 1.5), (1.0, 0, -0.1),
                                   # transformers lets these two through (p = 0 keeps one token,
                                   # NaN compares False); top_p is defined on (0, 1], so we refuse
                                   (1.0, 0, 0.0), (1.0, 0, float("nan"))])
def test_settings_transformers_rejects_raise_a_clear_error(t, k, p):
    logits = torch.randn(10, generator=torch.Generator().manual_seed(0))
    assert _transformers_rejects(t, k, p) or p == 0 or p != p
    for fn in (sampling.filter_distribution, sampling.explain_filtering):
        with pytest.raises(sampling.SamplingSettingsError) as err:
            fn(logits, t, k, p)
        assert any(w in str(err.value) for w in ("temperature", "top_k", "top_p"))
    assert issubclass(sampling.SamplingSettingsError, ValueError)


def test_valid_edge_settings_are_accepted():
    logits = torch.randn(10, generator=torch.Generator().manual_seed(0))
    for t, k, p in [(0.0, 0, 1.0), (1e-9, 0, 1.0), (1.0, 0, 1.0), (1.0, 3.0, 1.0), (1.0, 1, 1e-6)]:
        assert float(sampling.filter_distribution(logits, t, k, p).sum()) == pytest.approx(1.0)


def test_explain_filtering_marks_what_each_step_removes():
    logits = torch.log(torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05]))
    s = sampling.explain_filtering(logits, temperature=1.0, top_k=4, top_p=0.8, n=5)
    assert s.ids == [0, 1, 2, 3, 4]
    # top-k=4 removes the 5th; top-p sees [0.5,0.2,0.15,0.1]/0.95: running total
    # 0.526, 0.737, 0.895 -> the third token reaches 0.8, the fourth is removed
    assert s.removed_by == ["", "", "", "top-p", "top-k"]
    assert s.n_kept == 3
    assert s.p_final[3] == 0 and abs(sum(s.p_final) - 1) < 1e-6
    assert abs(s.cum_before_p[2] - 0.85 / 0.95) < 1e-6
    assert abs(s.entropy_raw - sampling.entropy_bits(torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05]))) < 1e-5
    assert s.entropy_final < s.entropy_raw
    ref = reference(logits, 1.0, 4, 0.8)
    assert torch.allclose(s.probs_final, ref, atol=1e-6)


def test_entropy_bits_known_values():
    assert sampling.entropy_bits(torch.tensor([1.0, 0.0])) == 0
    assert abs(sampling.entropy_bits(torch.full((8,), 1 / 8)) - 3.0) < 1e-6


def test_draw_samples_is_seeded_and_converges():
    p = torch.tensor([0.6, 0.3, 0.1, 0.0])
    a = sampling.draw_samples(p, 500, seed=3)
    b = sampling.draw_samples(p, 500, seed=3)
    c = sampling.draw_samples(p, 500, seed=4)
    assert a.ids == b.ids and a.tv_distance == b.tv_distance
    assert a.ids != c.ids
    assert 3 not in a.ids                      # a removed token is never drawn
    # same draws as torch.multinomial with the same seed
    ref = torch.multinomial(p, 500, replacement=True, generator=torch.Generator().manual_seed(3))
    assert a.ids == ref[:50].tolist()
    assert abs(sum(a.empirical) + a.other_empirical - 1) < 1e-6
    big = sampling.draw_samples(p, 20000, seed=0)
    assert big.tv_distance < a.tv_distance + 0.02 and big.tv_distance < 0.02
    # for large n the exact average approaches the normal approximation
    normal = 0.5 * sum((2 * q * (1 - q) / (3.141592653589793 * 20000)) ** 0.5 for q in [0.6, 0.3, 0.1])
    assert abs(sampling.expected_tv(p, 20000) - normal) < 0.01 * normal


def test_expected_tv_is_the_exact_average_and_never_above_one():
    from scipy.stats import binom

    p = torch.tensor([0.5, 0.25, 0.15, 0.07, 0.03, 0.0])
    for n in (1, 10, 100):
        k = torch.arange(n + 1).double().numpy()
        brute = 0.5 * sum(float((binom.pmf(k, n, q) * abs(k / n - q)).sum()) for q in p.tolist())
        assert abs(sampling.expected_tv(p, n) - brute) < 1e-9
    # a long flat tail with few draws (the case the old normal approximation put at 6.7)
    flat = torch.softmax(torch.zeros(49_152), 0)
    assert 0.99 < sampling.expected_tv(flat, 10) <= 1.0
    runs = [sampling.draw_samples(torch.tensor([0.6, 0.3, 0.1]), 30, seed=s).tv_distance for s in range(300)]
    assert abs(sum(runs) / len(runs) - sampling.expected_tv(torch.tensor([0.6, 0.3, 0.1]), 30)) < 0.01


def test_token_label_is_readable():
    class Tok:
        def decode(self, ids):
            return {1: " Paris", 2: "\n", 3: ""}[ids[0]]
    assert sampling.token_label(Tok(), 1) == "␣Paris"
    assert sampling.token_label(Tok(), 2) == "↵"
    assert sampling.token_label(Tok(), 3) == "<3>"
