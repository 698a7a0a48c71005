"""reasoning: the ast-based safe evaluator (never eval/exec), answer parsing, the problem
set, prompt construction and scoring of model completions."""
import pytest

from lessons import models
from lessons.prompting import reasoning
from lessons.core import safe_eval


@pytest.mark.parametrize("expr,value", [
    ("3 * (4 + 5) / 2", 13.5), ("7 // 2 + 7 % 2", 4), ("-2 ** 2", -4), ("2 ** -1", 0.5),
    ("max(3, 9, 4) - min(2, 1)", 8), ("round(2780 * (1 - 0.35))", 1807), ("abs(-3.5)", 3.5), ("1_000 + 1", 1001),
])
def test_safe_eval_agrees_with_python_on_arithmetic(expr, value):
    assert safe_eval.safe_eval(expr) == value == eval(expr)  # eval of OUR constant test strings only


@pytest.mark.parametrize("bad,msg", [
    ("__import__('os')", "not allowed"),
    ("__import__('os').system('echo pwned')", "not allowed"),
    ("open('/etc/passwd').read()", "not allowed"),
    ("(1).__class__.__bases__", "not allowed"),
    ("[x for x in ()]", "not allowed"),
    ("'a' * 3", "only numbers"),
    ("True + 1", "only numbers"),
    ("lambda: 0", "not allowed"),
    ("2 ** 10 ** 10", "exponents"),
    ("10 ** 20", "larger than"),
    ("1 / 0", "division by zero"),
    ("x + 1", "unknown name"),
    ("max(a=1)", "not allowed"),
    ("1 +", "not a valid expression"),
    ("1" * 3000, "longer than"),
])
def test_safe_eval_refuses_everything_else(bad, msg):
    with pytest.raises(safe_eval.SafeEvalError, match=msg):
        safe_eval.safe_eval(bad)


def test_safe_eval_never_calls_eval_or_exec(monkeypatch):
    import builtins

    def boom(*a, **k):
        raise AssertionError("eval/exec must not be used")
    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    assert safe_eval.safe_eval("2 + 3") == 5
    assert safe_eval.run_program("a = 2\nanswer = a * 21").answer == 42
    assert safe_eval.run_program("__import__('os').system('touch /tmp/pwned_i9')").error


def test_run_program_traces_assignments_and_refuses_statements():
    run = safe_eval.run_program("a = 2\nb = a * 3\nb += 1\nanswer = b - a")
    assert run.error is None and run.answer == 5 and run.env == {"a": 2, "b": 7, "answer": 5}
    assert [s for s, _ in run.trace] == ["a = 2", "b = a * 3", "b += 1", "answer = b - a"]
    assert safe_eval.run_program("6 * 7").answer == 42                       # a bare final expression
    for bad in ["import os", "def f(x):\n    return x", "@d\ndef f():\n    return 1", "x.y = 1", "a, b = 1, 2", "while True:\n    pass",
                "a = 1\n" * 40, "a = 1"]:
        r = safe_eval.run_program(bad)
        assert r.answer is None and r.error, bad


def test_every_reference_program_gives_the_stated_answer():
    probs = reasoning.problems()
    assert len(probs) >= 6 and len({p["id"] for p in probs}) == len(probs)
    for p in probs:
        run = reasoning.template_pal(p)
        assert run.error is None and reasoning.is_correct(run.answer, p["answer"]), p["id"]


@pytest.mark.parametrize("text,value", [
    ("So 5 + 12 = 17. The answer is 17.", 17), ("The answer is: 4,500 euros", 4500),
    ("answer = 3.5", 3.5), ("Lena has 5 apples, then 17", 17), ("no digits", None),
    ("The answer is **€1,807**.", 1807), ("It is -3", -3),
])
def test_extract_number(text, value):
    assert reasoning.extract_number(text) == value


def test_extract_program_stops_at_the_closing_fence():
    assert reasoning.extract_program("a = 1\n# comment\nanswer = a + 1\n```\nMore text") == "a = 1\nanswer = a + 1"


def test_a_program_without_answer_returns_its_last_variable():
    """Qwen often names the result (apples_now = ...) instead of `answer`: PAL takes the last
    assigned value, as the paper's solution() returns it; comparisons are not assignments."""
    src = reasoning.extract_program("apples = 5\nbought = 3 * 4\napples_now = apples + bought\n```")
    assert src.endswith("answer = apples_now")
    assert reasoning.run_program(src).answer == 17
    assert reasoning.extract_program("x = 2\nanswer = x * 3\ny = 1") == "x = 2\nanswer = x * 3\ny = 1"
    assert reasoning.extract_program("def solution():\n    return 4\nprint(solution())").count("answer") == 0


def test_score_completion_for_each_mode():
    p = {"id": "t", "question": "?", "answer": 17}
    g = {"prompt": "", "completion": "", "n_prompt_tokens": 1, "n_new_tokens": 1, "seconds": 0.0, "stopped_by": "eos"}
    assert reasoning.score_completion(p, "direct", dict(g, completion="17"))["correct"]
    assert not reasoning.score_completion(p, "cot", dict(g, completion="5 + 4*3 = 17, so the answer is 18"))["correct"]
    pal = reasoning.score_completion(p, "pal", dict(g, completion="a = 5\nanswer = a + 3 * 4\n"))
    assert pal["correct"] and pal["program"] == "a = 5\nanswer = a + 3 * 4" and pal["error"] is None
    evil = reasoning.score_completion(p, "pal", dict(g, completion="__import__('os').system('ls')"))
    assert evil["value"] is None and "not allowed" in evil["error"] and not evil["correct"]


def test_an_attempt_is_finished_unless_its_budget_ended_it():
    g = {"completion": "Step 2: 3 * 4 = 12.", "mode": "cot"}
    assert reasoning.finished(dict(g, stopped_by="eos")) and reasoning.finished(dict(g, stopped_by="stop string"))
    assert not reasoning.finished(dict(g, stopped_by="token limit"))
    assert not reasoning.finished(dict(g, stopped_by="time limit"))
    # chain-of-thought that already wrote its final line was not cut off by the budget
    assert reasoning.finished(dict(g, completion="5 + 12 = 17.\nThe answer is 17", stopped_by="token limit"))
    assert not reasoning.finished(dict(g, mode="direct", completion="The answer is 17", stopped_by="token limit"))
    s = reasoning.budget_of([dict(g, stopped_by="eos"), dict(g, stopped_by="token limit")])
    assert (s["n"], s["cut_off"], s["conclusive"]) == (2, 1, False)
    assert reasoning.stop_strings("pal") == reasoning.PAL_STOP and reasoning.stop_strings("direct") == ()
    assert reasoning.shown_text(dict(g, completion="3 * 4 = 12.")) == "Step 1: 3 * 4 = 12."
    assert reasoning.shown_text({"mode": "pal", "completion": "a = 1"}) == "a = 1"


@pytest.mark.parametrize("values,vote", [
    ([17.0, 12.0, 17.0, None, 12.0], 17.0),      # a tie goes to the value seen first
    ([None, 8.0, None, None, None], 8.0),        # "no number" never wins
    ([None, None], None), ([3.0, 4.0, 4.0], 4.0),
])
def test_majority_vote(values, vote):
    assert reasoning.majority(values) == vote


@pytest.mark.slow
def test_self_consistency_samples_k_seeded_paths_and_votes():
    """k sampled paths from seed, seed+1, ...: the same seed gives the same paths (and vote); the vote
    is the majority of the paths' numbers; every path records why it ended."""
    llm = models.load_smollm2("cpu")
    p = reasoning.problems()[0]
    seen = []
    a = reasoning.self_consistency(llm, p, k=3, temperature=0.9, seed=5, max_new_tokens=24, max_seconds=120,
                                   progress=lambda i, n: seen.append((i, n)))
    b = reasoning.self_consistency(llm, p, k=3, temperature=0.9, seed=5, max_new_tokens=24, max_seconds=120)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [x["completion"] for x in a["paths"]] == [x["completion"] for x in b["paths"]]
    assert len({x["completion"] for x in a["paths"]}) > 1, "T = 0.9 should give different paths"
    assert a["value"] == reasoning.majority([x["value"] for x in a["paths"]])
    assert a["correct"] == reasoning.is_correct(a["value"], p["answer"])
    assert sum(a["votes"].values()) == sum(x["value"] is not None for x in a["paths"])
    assert a["budget"] == reasoning.budget_of(a["paths"]) and a["budget"]["n"] == 3
    assert all(x["n_new_tokens"] <= 24 and x["stopped_by"] in ("eos", "stop string", "token limit") for x in a["paths"])


@pytest.mark.slow
def test_prompts_and_one_real_bounded_attempt():
    llm = models.load_smollm2("cpu")
    p = reasoning.problems()[0]
    direct = reasoning.make_prompt(llm.tokenizer, p["question"], "direct")
    cot = reasoning.make_prompt(llm.tokenizer, p["question"], "cot")
    pal = reasoning.make_prompt(llm.tokenizer, p["question"], "pal")
    assert p["question"] in direct and "only the final number" in direct
    assert reasoning.COT_EXAMPLE_STEPS in cot and cot.endswith(reasoning.COT_PREFILL)
    assert pal.endswith("```python\n") and reasoning.PAL_EXAMPLE_CODE in pal
    with pytest.raises(ValueError):
        reasoning.make_prompt(llm.tokenizer, "q", "magic")
    a = reasoning.attempt(llm, p, "direct", max_new_tokens=4, max_seconds=120)
    assert a["n_new_tokens"] <= 4 and a["value"] == reasoning.extract_number(a["completion"])
    assert a["correct"] == reasoning.is_correct(a["value"], p["answer"])


def test_zero_argument_functions_are_run_with_the_same_whitelist():
    run = safe_eval.run_program("def solution():\n    \"\"\"Lena's apples.\"\"\"\n    start = 5\n    bags = 3 * 4\n"
                        "    return start + bags\nprint(solution())")
    assert run.error is None and run.answer == 17
    assert safe_eval.run_program("def calculate():\n    x = 2\n    return x * 21").answer == 42   # never called
    assert safe_eval.run_program("def g():\n    return 6\nanswer = g() * 7").answer == 42
    assert "3 deep" in safe_eval.run_program("def f():\n    return f()\nf()").error
    assert "Import" in safe_eval.run_program("def f():\n    import os\n    return 1\nf()").error
    assert "not allowed" in safe_eval.run_program("def f():\n    return __import__('os')\nf()").error
    assert "never returns" in safe_eval.run_program("def f():\n    a = 1\nf()").error
    assert reasoning.fmt(2.50) == "2.5" and reasoning.fmt("defined") == "defined"
