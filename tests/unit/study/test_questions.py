"""The question bank (assets/questions), the truth checks, the link codec and the prose
reader of presenter mode."""
from __future__ import annotations

import functools
import math

import pytest

from lessons import course, models
from study import checks, prose, questions, share

LESSONS = [l for l in course.discover() if l.week > 0]


def test_every_lesson_has_a_valid_question_file_with_a_predict_question():
    bank = questions.load_all()
    assert set(bank) == {l.url for l in LESSONS}, "one file per lesson, named by the lesson's url"
    for url, qs in bank.items():
        assert 3 <= len(qs) <= 5, url
        assert any(q.kind == "predict" for q in qs), f"{url}: no predict-then-check question"
        for q in qs:
            assert q.explain.strip() and q.text.strip()
            if q.kind == "choice":
                assert 0 <= q.answer < len(q.options)


class _Models:
    smollm2 = staticmethod(functools.cache(models.load_smollm2))
    minilm = staticmethod(functools.cache(models.load_minilm))
    tiny_gpt = staticmethod(functools.cache(models.load_tiny_gpt))
    gpt2_tokenizer = staticmethod(functools.cache(models.load_gpt2_tokenizer))


PREDICTS = [q for qs in questions.load_all().values() for q in qs if q.kind == "predict"]


@pytest.mark.parametrize("q", PREDICTS, ids=[f"{q.lesson}.{q.id}" for q in PREDICTS])
def test_every_predict_question_gets_its_truth_from_the_lesson(q):
    truth = checks.run(q.check, q.params, _Models())
    if q.options:
        assert truth in q.options, f"the check answered {truth!r}, not one of the options"
        assert questions.grade(q, truth, truth) and not questions.grade(q, "something else", truth)
    else:
        assert isinstance(truth, (int, float)) and math.isfinite(truth)
        assert questions.grade(q, truth, truth)
        assert not questions.grade(q, truth + q.tolerance + max(1.0, abs(truth)), truth)


def test_known_truths_match_the_course_numbers():
    m = _Models()
    assert checks.run("lora.matrix", {"d": 512, "k": 64, "r": 8}, m) == 4608
    assert checks.run("dpo.loss", {"pi_w": -1, "pi_l": -2, "ref_w": -1, "ref_l": -2, "beta": 0.1}, m) == \
        pytest.approx(math.log(2))
    assert checks.run("ppo.clipped_objective", {"ratio": 1.5, "advantage": 1.0, "clip_eps": 0.2}, m) == \
        pytest.approx(1.2)
    assert checks.run("scaling.optimal_params_b", {"flops": 1.2e21}, m) == pytest.approx(math.sqrt(1e19) / 1e9)


@pytest.mark.parametrize("text, error", [
    ('[[question]]\nid="a"\nkind="choice"\ntext="t"\noptions=["x","y"]\nanswer=2\nexplain="e"\n', "answer"),
    ('[[question]]\nid="a"\nkind="choice"\ntext="t"\noptions=["x","y"]\nanswer=0\nexplain=""\n', "explain"),
    ('[[question]]\nid="a"\nkind="predict"\ntext="t"\ncheck="no.such"\nexplain="e"\n', "unknown check"),
    ('[[question]]\nid="a"\nkind="quiz"\ntext="t"\nexplain="e"\n', "kind"),
    ('[[question]]\nid="a"\nkind="choice"\ntext="t"\noptions=["x","x"]\nanswer=0\nexplain="e"\n', "options"),
    ('[[question]]\nid="a"\nkind="choice"\ntext="t"\noptions=["x","y"]\nanswer=0\nexplain="e"\nsurprise=1\n', "unknown"),
    ('[[question]]\nid="a"\nkind="predict"\ntext="t"\ncheck="lora.matrix"\ntolerance=-1\nexplain="e"\n', "tolerance"),
    ('not toml = = 1', "toml"),
])
def test_the_validator_rejects_broken_files(tmp_path, text, error):
    f = tmp_path / "x.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(questions.QuestionError):
        questions.load_file(f)


def test_grading_numbers_and_options():
    q = questions.Question("l", "i", "predict", "t", "e", check="lora.matrix", tolerance=0.1)
    assert questions.grade(q, 1.05, 1.0) and not questions.grade(q, 1.2, 1.0)
    assert not questions.grade(q, float("nan"), 1.0) and not questions.grade(q, "abc", 1.0)
    c = questions.Question("l", "i", "choice", "t", "e", options=("a", "b"), answer=1)
    assert questions.grade(c, 1) and not questions.grade(c, 0)


@pytest.mark.parametrize("value", [True, False, 0, 7, -3, 0.3, 1.0, 2.5e-4, "text", "3", "true", "'q", "",
                                   "[x]", "emoji 🎲 and ünïcode", [1, 2], (0.2, 0.8), ["c_attn", "c_proj"]])
def test_link_values_read_back_with_the_same_type(value):
    back = share.decode(share.encode(value))
    assert share.same_value(back, value) and type(back) in (type(value), list)


def test_bad_link_parameters_are_reported_not_applied():
    good, bad = share.settings_from_params({"sampling.temperature": "0.3", "present": "1", "x y": "1",
                                            "study.q.a": "1", "lora_d": "[{\"a\": 1}]", "n": "nan"})
    assert good == {"sampling.temperature": 0.3}
    assert set(bad) == {"x y", "study.q.a", "lora_d", "n"}
    with pytest.raises(share.Unshareable):
        share.encode({"a": 1})
    with pytest.raises(share.Unshareable):
        share.encode("x" * (share.MAX_VALUE_CHARS + 1))


def test_presenter_mode_reads_the_pages_own_prose():
    texts = prose.page_prose(next(l.path for l in LESSONS if l.url == "sampling"))
    kinds = [k for k, _ in texts]
    assert "markdown" in kinds and "latex" in kinds
    assert any("logit" in t for _, t in texts)
