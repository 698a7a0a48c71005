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
                assert q.answer in q.option_ids and q.right is not None


class _Models:
    smollm2 = staticmethod(functools.cache(models.load_smollm2))
    minilm = staticmethod(functools.cache(models.load_minilm))
    tiny_gpt = staticmethod(functools.cache(models.load_tiny_gpt))
    gpt2_tokenizer = staticmethod(functools.cache(models.load_gpt2_tokenizer))


PREDICTS = [q for qs in questions.load_all().values() for q in qs if q.kind == "predict"]


@pytest.mark.slow
@pytest.mark.parametrize("q", PREDICTS, ids=[f"{q.lesson}.{q.id}" for q in PREDICTS])
def test_every_predict_question_gets_its_truth_from_the_lesson(q):
    truth = checks.run(q.check, q.params, _Models())
    if q.options:
        assert q.option_by_text(truth) is not None, f"the check answered {truth!r}, not one of the options"
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


def _choice(qid="a", answer="x", options=(("x", "right", ""), ("y", "wrong", "why y is wrong")), extra=""):
    opts = "".join(f'[[question.options]]\nid = "{i}"\ntext = "{t}"\n' + (f'feedback = "{f}"\n' if f else "")
                   for i, t, f in options)
    return (f'[[question]]\nid = "{qid}"\nkind = "choice"\ntext = "t"\nanswer = "{answer}"\nexplain = "e"\n'
            f'{extra}{opts}')


_PREDICT = '[[question]]\nid = "p"\nkind = "predict"\ntext = "t"\ncheck = "lora.matrix"\nexplain = "e"\n'


@pytest.mark.parametrize("text, error", [
    (_choice() + _choice(), "duplicate question id 'a'"),
    (_choice(options=(("x", "right", ""), ("x", "other", "f"))), "duplicate option id 'x'"),
    (_choice(answer="z"), "answer 'z' names no option"),
    (_choice(answer="1"), "answer '1' names no option"),
    (_choice(options=(("x", "right", ""), ("y", "  ", "f"))), "empty option text"),
    (_choice(options=(("x", "right", ""), ("y", "wrong", ""))), "wrong option 'y' has no feedback"),
    (_PREDICT + "tolerance = -0.5\n", "tolerance -0.5 is below 0"),
    (_choice().replace('answer = "x"', "answer = 0"), "answer must be the id of the right option"),
    (_choice().replace('explain = "e"', 'explain = ""'), "'explain' must be a non-empty string"),
    ('[[question]]\nid="a"\nkind="predict"\ntext="t"\ncheck="no.such"\nexplain="e"\n', "unknown check"),
    ('[[question]]\nid="a"\nkind="quiz"\ntext="t"\nexplain="e"\n', "kind"),
    (_choice(options=(("x", "right", ""), ("y", "right", "f"))), "same text"),
    (_choice(options=(("x", "right", ""),)), "at least 2"),
    (_choice(extra="surprise = 1\n"), "unknown fields"),
    (_choice() + '[[question]]\nid="b"\nkind="choice"\ntext="t"\nanswer="x"\nexplain="e"\noptions=["x","y"]\n',
     "options must be [[question.options]] tables"),
    ('not toml = = 1', "not valid TOML"),
])
def test_the_validator_rejects_broken_files_naming_file_and_problem(tmp_path, text, error):
    f = tmp_path / "broken-lesson.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(questions.QuestionError) as info:
        questions.load_file(f)
    msg = str(info.value)
    assert msg.startswith("broken-lesson.toml:") and error in msg, msg


def test_a_refused_file_leaves_every_other_lesson_working(tmp_path):
    (tmp_path / "good.toml").write_text(_choice() + _PREDICT + "tolerance = 0.5\n", encoding="utf-8")
    (tmp_path / "bad.toml").write_text(_choice(answer="nope"), encoding="utf-8")
    bank = questions.load_bank(tmp_path)
    assert [q.id for q in bank.questions["good"]] == ["a", "p"]
    assert "bad" not in bank.questions
    assert bank.errors == {"bad": "bad.toml: question 'a': answer 'nope' names no option (option ids: x, y)"}
    with pytest.raises(questions.QuestionError, match="bad.toml"):
        questions.load_all(tmp_path)               # the tests' strict view fails loudly


def test_options_are_read_by_identity(tmp_path):
    f = tmp_path / "l.toml"
    f.write_text(_choice(answer="y", options=(("x", "So that W + BA = W", "feedback x"), ("y", "right one", ""),
                                              ("z", "To save memory", "It saves nothing"))), encoding="utf-8")
    q, = questions.load_file(f)
    assert q.answer == "y" and q.right.text == "right one" and q.option_ids == ("x", "y", "z")
    assert q.option("z").feedback == "It saves nothing" and q.option_id("To save memory") == "z"
    assert questions.grade(q, "y") and questions.grade(q, "right one")
    assert not questions.grade(q, "x") and not questions.grade(q, 1) and not questions.grade(q, None)


def test_grading_numbers_and_options():
    q = questions.Question("l", "i", "predict", "t", "e", check="lora.matrix", tolerance=0.1)
    assert questions.grade(q, 1.05, 1.0) and not questions.grade(q, 1.2, 1.0)
    assert not questions.grade(q, float("nan"), 1.0) and not questions.grade(q, "abc", 1.0)
    opts = (questions.Option("lo", "below 0.9"), questions.Option("hi", "0.9 or more"))
    p = questions.Question("l", "i", "predict", "t", "e", options=opts, check="lora.matrix")
    assert questions.grade(p, "hi", "0.9 or more") and questions.grade(p, "0.9 or more", "0.9 or more")
    assert not questions.grade(p, "lo", "0.9 or more") and not questions.grade(p, "hi", "something else")


def test_option_order_is_a_stable_hash_seeded_permutation():
    ids = ["a", "b", "c", "d"]
    one = questions.shuffled(ids, "learner-1", "lora", "init")
    assert sorted(one) == ids
    assert questions.shuffled(ids, "learner-1", "lora", "init") == one                 # a reload
    assert questions.shuffled(list(reversed(ids)), "learner-1", "lora", "init") == one  # file order is irrelevant
    # Pinned: sha256, not Python's per-process salted hash(), so every server agrees.
    import hashlib
    want = sorted(ids, key=lambda o: hashlib.sha256(f"learner-1\x1flora\x1finit\x1e{o}".encode()).digest())
    assert one == want
    # Over many learners the right option ("a", first in the file) lands in every position
    # about equally often: its place gives nothing away.
    places = [questions.shuffled(ids, f"learner-{i}", "lora", "init").index("a") for i in range(2000)]
    shares = [places.count(k) / len(places) for k in range(4)]
    assert all(0.21 < s < 0.29 for s in shares), shares


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
