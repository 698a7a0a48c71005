"""AppTest: SmolLM2 summarizes one dialogue zero-shot and few-shot (real model, tiny budget, in a
class-run worker process: lessons/evaluation/model_summaries_job.py); the scores shown equal
rouge-score / sacreBLEU on the summaries shown, the shared model is unchanged, and a second
learner with the same settings sees the same summaries at once."""
import pytest
import sacrebleu
from rouge_score import rouge_scorer

from lessons import models
from lessons.evaluation import corpus_scoring
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w2_model_summaries.py"


def test_prompts_shown_and_few_shot_examples_never_leak():
    at = open_page(PAGE, timeout=90)
    at.multiselect(key="model-summaries.ids").set_value([4]).run()
    assert "Press the button" in texts(at)
    at.slider(key="model-summaries.shots").set_value(3).run()
    codes = [c.value for c in at.code]
    few = next(c for c in codes if c.count("[assistant]") == 3)
    sample = corpus_scoring.load_sample()
    assert sample[3]["dialogue"] in few                       # the question
    assert sample[3]["summary"] not in few                    # its answer is not an example
    assert all(sample[i]["summary"] in few for i in (0, 1, 2))
    at.multiselect(key="model-summaries.ids").set_value([]).run()
    assert "Pick at least one dialogue." in texts(at)


def _summarize_one_dialogue():
    """A learner summarizes dialogue #1 with one example and at most 8 new tokens."""
    at = open_page(PAGE, timeout=90)
    at.multiselect(key="model-summaries.ids").set_value([1]).run()
    at.slider(key="model-summaries.shots").set_value(1).run()
    at.slider(key="model-summaries.max_tokens").set_value(8).run()
    at.button(key="model-summaries.run").click().run(timeout=600)
    assert_no_exception(at)
    return at


@pytest.mark.slow
def test_smollm2_zero_and_few_shot_summaries_are_scored():
    from ui import loaders

    shared = loaders._smollm2("cpu")   # the process-wide cached model the page will use (AppTest runs in-process)
    before = models.state_fingerprint(shared.model)
    at = _summarize_one_dialogue()
    table = next(d.value for d in at.dataframe if "zero-shot ROUGE-L" in d.value.columns)
    assert len(table) == 1
    ref = corpus_scoring.load_sample()[0]["summary"]
    shown = [t.value for t in at.text]
    i = shown.index(ref)
    zero, few = shown[i + 1], shown[i + 2]
    assert zero != "(empty)" and few != "(empty)"
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    assert table["zero-shot ROUGE-L"][0] == pytest.approx(scorer.score(ref, zero)["rougeL"].fmeasure, abs=1e-9)
    assert table["few-shot ROUGE-L"][0] == pytest.approx(scorer.score(ref, few)["rougeL"].fmeasure, abs=1e-9)
    assert table["few-shot BLEU"][0] == pytest.approx(sacrebleu.sentence_bleu(few, [ref]).score, abs=1e-9)
    assert "Few-shot has the higher ROUGE-L on" in texts(at)
    # results are cached in the session: moving another widget and back does not regenerate
    at.slider(key="model-summaries.max_tokens").set_value(16).run()
    assert "Press the button" in texts(at)
    at.slider(key="model-summaries.max_tokens").set_value(8).run()
    assert shown == [t.value for t in at.text]
    assert loaders._smollm2("cpu") is shared
    assert models.state_fingerprint(shared.model) == before
    assert at.session_state["model-summaries.live"].result["outcome"].kind == "model-summaries"   # a worker wrote them
    assert not at.get("progress")                                   # the finished run's bar is gone

    # a second learner, the same settings: the finished run at once (greedy: the same summaries)
    two = _summarize_one_dialogue()
    assert "These settings ran before" in texts(two)
    assert [t.value for t in two.text] == shown


def test_opens_with_the_recorded_run_of_the_defaults():
    """At its defaults the page shows the recorded SmolLM2 summaries and their scores at once
    (lessons/evaluation/recorded.py), labelled as recorded; another token cap has no record, and the
    button is still there."""
    from lessons.evaluation import recorded as summaries_recorded

    at = open_page(PAGE, timeout=90)
    assert_no_exception(at)
    rec = summaries_recorded.recorded(summaries_recorded.Lab(models.load_smollm2("cpu")), summaries_recorded.KIND,
                                      summaries_recorded.settings())
    assert rec is not None, "no current record: run scripts/record_runs.py"
    assert any("Recorded run" in m.value and rec.recorded in m.value for m in at.info)
    shown = [t.value for t in at.text]
    for r in rec.result["rows"]:
        assert r["zero-shot"] in shown and r["few-shot"] in shown
    table = next(d.value for d in at.dataframe if "zero-shot ROUGE-L" in d.value.columns)
    assert list(table["dialogue"]) == [r["id"] for r in rec.result["rows"]]
    assert list(table["few-shot ROUGE-L"]) == pytest.approx([r["few-shot rougeL"] for r in rec.result["rows"]])
    assert "Few-shot has the higher ROUGE-L on" in texts(at)
    assert at.button(key="model-summaries.run")
    at.slider(key="model-summaries.max_tokens").set_value(16).run()
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info)
    assert "Press the button" in texts(at) and at.button(key="model-summaries.run")
