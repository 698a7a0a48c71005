"""Chinchilla arithmetic: C = 6ND, 20 tokens/parameter, the two loss fits."""
import math

import numpy as np
import pytest

from lessons.pretraining import scaling_laws as s


def test_compute_optimal_reproduces_chinchilla():
    # Chinchilla itself: 70B parameters, 1.4T tokens -> C = 6 * 70e9 * 1.4e12 = 5.88e23 FLOPs.
    b = s.compute_optimal(5.88e23)
    assert b.params == pytest.approx(70e9, rel=1e-9)
    assert b.tokens == pytest.approx(1.4e12, rel=1e-9)
    assert 6 * b.params * b.tokens == pytest.approx(5.88e23)
    assert b.tokens / b.params == pytest.approx(20.0)


def test_compute_optimal_scales_as_sqrt_and_validates():
    a, b = s.compute_optimal(1e20), s.compute_optimal(4e20)
    assert b.params / a.params == pytest.approx(2.0) and b.tokens / a.tokens == pytest.approx(2.0)
    assert s.compute_optimal(1e20, tokens_per_param=5).tokens / s.compute_optimal(1e20, 5).params == pytest.approx(5)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            s.compute_optimal(bad)


def test_fits_use_the_published_constants():
    assert (s.CHINCHILLA.E, s.CHINCHILLA.A, s.CHINCHILLA.B, s.CHINCHILLA.alpha, s.CHINCHILLA.beta) == (
        1.69, 406.4, 410.7, 0.34, 0.28)
    assert (s.EPOCH.E, s.EPOCH.A, s.EPOCH.B, s.EPOCH.alpha, s.EPOCH.beta) == (
        1.8172, 482.01, 2085.43, 0.3478, 0.3658)
    # Hand check: L(70e9, 1.4e12) with the paper's constants.
    hand = 1.69 + 406.4 / 70e9 ** 0.34 + 410.7 / 1.4e12 ** 0.28
    assert s.CHINCHILLA.loss(70e9, 1.4e12) == pytest.approx(hand)
    assert 1.9 < hand < 2.0


@pytest.mark.parametrize("fit", [s.CHINCHILLA, s.EPOCH])
def test_closed_form_optimum_is_the_minimum_of_the_iso_flop_curve(fit):
    C = 1e22
    n_opt, d_opt = fit.optimal_split(C)
    assert 6 * n_opt * d_opt == pytest.approx(C)
    N, D, L = s.iso_flop_curve(fit, C, n_points=2001, span=3.0)
    assert np.allclose(6 * N * D, C)
    n_grid = N[np.argmin(L)]
    assert abs(math.log10(n_grid) - math.log10(n_opt)) < 0.01
    assert fit.loss(n_opt, d_opt) <= L.min() + 1e-9


def test_epoch_refit_gives_about_20_tokens_per_parameter():
    # The refit's optimum is close to the rule of thumb at Chinchilla scale (~20 tokens/param).
    n, d = s.EPOCH.optimal_split(5.88e23)
    assert 10 < d / n < 40


def test_famous_models_table():
    rows = {r["model"]: r for r in s.famous_models_table()}
    assert rows["Chinchilla"]["tokens_per_param"] == pytest.approx(20.0)
    assert rows["GPT-3"]["flops"] == pytest.approx(6 * 175e9 * 300e9)
    assert rows["GPT-3"]["tokens_per_param"] < 2           # under-trained by the 20x rule
    assert rows["GPT-3"]["optimal_params"] < 175e9
    assert rows["Llama 3 8B"]["tokens_per_param"] > 1000    # deliberately over-trained for cheap inference


def test_human_numbers():
    assert s.human(70.06e9) == "70.1B" and s.human(1.4e12) == "1.4T" and s.human(135e6) == "135M"
    assert s.human(999) == "999"
