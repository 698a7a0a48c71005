"""The recorded SmolLM2 runs that the model-driven lessons open with (in-context learning, reasoning,
model summaries, constitutional AI):
each page default has a record made by the current code, models and torch, the record folder
holds nothing else, and a short live replay on one thread gives the record's own numbers."""
import pytest

from lessons.core import records
from lessons.evaluation import recorded as summaries_recorded
from lessons.evaluation import summaries
from lessons.prompting import in_context_learning as icl
from lessons.prompting import reasoning
from lessons.prompting import recorded as prompting_recorded
from lessons.rlhf import constitutional_ai as cai
from lessons.rlhf import recorded_cai

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prompting_lab(smol):
    return prompting_recorded.Lab(smol)          # the runs without the search tool need only SmolLM2


def _current(mod, lab, kind):
    """Every run of ``kind`` in ``mod.RUNS`` has its current record and the folder holds no other."""
    store = records.FileStore()
    runs = [s for k, s in mod.RUNS if k == kind]
    want = {mod.key(lab, kind, s)[2] for s in runs}
    assert runs and len(want) == len(runs)
    missing = [s for s in runs if store.get(kind, mod.key(lab, kind, s)[2]) is None]
    assert not missing, f"no current record (run scripts/record_runs.py): {missing}"
    assert set(store.keys(kind)) == want, "stale records: run scripts/record_runs.py"


# --------------------------------------------------------------------------- in-context learning
def test_in_context_learning_records_are_current(prompting_lab):
    """Both shipped tasks, in both prompt formats, at the page's defaults (their own instruction and
    all their examples) are recorded; the page's default (first task, plain text) is among them."""
    _current(prompting_recorded, prompting_lab, prompting_recorded.ICL_KIND)
    first = next(iter(icl.task_names()))
    assert (prompting_recorded.ICL_KIND, prompting_recorded.icl_default(first, False)) in prompting_recorded.RUNS


def test_the_in_context_learning_record_is_what_the_code_does(prompting_lab):
    """The page's default measurement on its first test items, run live now on one thread, gives the
    record's predictions and probabilities for those items under every condition."""
    first = next(iter(icl.task_names()))
    s = prompting_recorded.icl_default(first, False)
    rec = prompting_recorded.recorded(prompting_lab, prompting_recorded.ICL_KIND, s)
    assert rec is not None, "no current record: run scripts/record_runs.py"
    n = 4
    live = prompting_recorded.run(prompting_lab, prompting_recorded.ICL_KIND, s, n_items=n).result["conditions"]
    got = prompting_recorded.as_conditions(rec.result)
    assert [c["name"] for c in live] == [c.name for c in got] == ["zero-shot", "one-shot", f"{len(s['examples'])}-shot"]
    for lv, rc in zip(live, got):
        assert lv["predictions"] == rc.predictions[:n]
        for a, b in zip(lv["probs"], rc.probs[:n]):
            assert a == pytest.approx(b, abs=1e-4)
        assert lv["prompt_example"] == rc.prompt_example
    # the recorded accuracies are the recorded predictions scored against the test labels
    task = icl.load_task(first)
    for c in got:
        assert c.accuracy == pytest.approx(sum(p == t.label for p, t in zip(c.predictions, task.test)) / len(task.test))


# --------------------------------------------------------------------------- reasoning
def test_reasoning_records_are_current(prompting_lab):
    """The reasoning page's default scoring (its problems, prompts and token cap) is recorded."""
    _current(prompting_recorded, prompting_lab, prompting_recorded.REASONING_KIND)
    d = reasoning.PAGE_DEFAULTS
    assert prompting_recorded.reasoning_settings(d["n_problems"], d["modes"], d["cot_tokens"]) == \
        next(s for k, s in prompting_recorded.RUNS if k == prompting_recorded.REASONING_KIND)


def test_the_reasoning_record_is_what_the_code_does(prompting_lab):
    """The first problem's three prompts, generated live now (greedy, one thread), write the recorded
    completions and are read as the recorded numbers."""
    d = reasoning.PAGE_DEFAULTS
    s = prompting_recorded.reasoning_settings(d["n_problems"], d["modes"], d["cot_tokens"])
    rec = prompting_recorded.recorded(prompting_lab, prompting_recorded.REASONING_KIND, s)
    assert rec is not None, "no current record: run scripts/record_runs.py"
    attempts = rec.result["attempts"]
    assert [(a["problem"], a["mode"]) for a in attempts] == \
        [(p["id"], m) for p in reasoning.problems()[:d["n_problems"]] for m in d["modes"]]
    live = prompting_recorded.run(prompting_lab, prompting_recorded.REASONING_KIND, s, n_problems=1).result["attempts"]
    assert len(live) == len(d["modes"])
    for lv, rc in zip(live, attempts):
        for f in ("problem", "mode", "prompt", "completion", "n_new_tokens", "stopped_by", "value", "correct", "error"):
            assert lv[f] == rc[f], f
    assert all(a["stopped_by"] != "time limit" for a in attempts)


# --------------------------------------------------------------------------- model summaries
@pytest.fixture(scope="module")
def summaries_lab(smol):
    return summaries_recorded.Lab(smol)


def test_model_summaries_records_are_current(summaries_lab):
    _current(summaries_recorded, summaries_lab, summaries_recorded.KIND)
    assert summaries_recorded.settings()["ids"] == list(summaries.PAGE_DEFAULTS["ids"])


def test_the_model_summaries_record_is_what_the_code_does(summaries_lab):
    """The first dialogue's two summaries, written live now (greedy, one thread), are the recorded
    ones with the recorded scores; the record left no dialogue out."""
    s = summaries_recorded.settings()
    rec = summaries_recorded.recorded(summaries_lab, summaries_recorded.KIND, s)
    assert rec is not None, "no current record: run scripts/record_runs.py"
    rows = rec.result["rows"]
    assert [r["id"] for r in rows] == s["ids"] and not any(r.get("skipped") for r in rows)
    live = summaries_recorded.run(summaries_lab, summaries_recorded.KIND, s, only=1).result["rows"]
    assert len(live) == 1 and live[0] == rows[0]


# --------------------------------------------------------------------------- constitutional AI
@pytest.fixture(scope="module")
def cai_lab(smol):
    return recorded_cai.Lab(smol)


def test_constitutional_ai_records_are_current(cai_lab):
    """Every shipped red-team prompt with the default principle and token cap is recorded."""
    _current(recorded_cai, cai_lab, recorded_cai.KIND)
    assert {s["prompt"] for _, s in recorded_cai.RUNS} == set(cai.RED_TEAM_PROMPTS)


def test_the_constitutional_ai_record_is_what_the_code_does(cai_lab):
    """The page's default (first red-team prompt, first principle), run live now on one thread, writes
    the recorded response, critique and revision, from the same prompts."""
    s = recorded_cai.settings(cai.RED_TEAM_PROMPTS[0])
    rec = recorded_cai.recorded(cai_lab, recorded_cai.KIND, s)
    assert rec is not None, "no current record: run scripts/record_runs.py"
    live = recorded_cai.run(cai_lab, recorded_cai.KIND, s).result["stages"]
    got = recorded_cai.as_result(rec.result, s)
    assert [st["name"] for st in live] == [st.name for st in got.stages] == ["response", "critique", "revision"]
    for lv, rc in zip(live, got.stages):
        assert (lv["prompt_text"], lv["output"], lv["n_tokens"]) == (rc.prompt_text, rc.output, rc.n_tokens)
