"""tests/floats.py: what "the same run as its record" accepts, and what it refuses."""
from tests.floats import same


def test_rounding_between_cpus_is_the_same_run():
    assert same({"ppl": 95.74673640806071, "n": 1024}, {"ppl": 95.74669002777813, "n": 1024})
    assert same([0, 694.6689773939654], [0, 694.6693619675824])
    assert same({"task_b_loss": 0.0005664668537469374}, {"task_b_loss": 0.0005655720467782683})


def test_a_different_figure_count_or_text_is_not():
    assert not same({"ppl": 95.75}, {"ppl": 95.85})
    assert not same({"n": 1024}, {"n": 1023}) and not same({"a": 1.0}, {"b": 1.0})
    assert not same([1.0, 2.0], [1.0, 2.0, 3.0]) and not same("tiny GPT", "SmolLM2")
    assert not same(True, 1.0) and not same(0.002, 0.001)
    assert same(98.731, 98.730, abs_tol=1.01e-3) and not same(98.731, 98.729, abs_tol=1.01e-3)
