"""AppTest: objectives from the learner's sentence, seeded; surprisal heatmap on a real model."""
from lessons.pretraining import objectives
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_pretraining_objectives.py"
SENT = "The cat sat on the mat because it was warm and the sun was shining brightly today"


def _tables(at):
    return [d.value for d in at.dataframe]


def test_objectives_follow_the_sentence_and_seed():
    at = open_page(PAGE, timeout=300)
    at.text_input(key="pretraining-objectives.text").input(SENT).run()
    at.radio(key="pretraining-objectives.model").set_value("tiny GPT (ours)").run()
    assert_no_exception(at)
    words = SENT.split()
    mlm = objectives.masked_lm(words, seed=0)
    # Table 0 is the families table; 1 MLM, 2 CLM (transposed: rows input/target).
    assert list(_tables(at)[1].loc["input"]) == mlm.inputs
    clm = _tables(at)[2]
    assert list(clm.loc["target x(t+1)"]) == words[1:]
    span = objectives.span_corruption(words, seed=0)
    assert " ".join(span.targets) in [c.value for c in at.code]
    at.number_input(key="pretraining-objectives.seed").set_value(7).run()
    assert list(_tables(at)[1].loc["input"]) == objectives.masked_lm(words, seed=7).inputs
    at.slider(key="pretraining-objectives.mask_rate").set_value(0.5).run()
    assert list(_tables(at)[1].loc["input"]) == objectives.masked_lm(words, seed=7, mask_prob=0.5).inputs


def test_surprisal_view_and_bpe_tokens():
    at = open_page(PAGE, timeout=300)
    at.radio(key="pretraining-objectives.model").set_value("tiny GPT (ours)").run()
    at.radio(key="pretraining-objectives.unit").set_value("GPT-2 BPE").run()
    assert_no_exception(at)
    ppl = next(m.value for m in at.metric if m.label == "Perplexity on your text")
    assert float(ppl.replace(",", "")) > 1
    assert len(at.get("plotly_chart")) == 1


def test_bad_input_gives_messages():
    at = open_page(PAGE, timeout=300)
    at.radio(key="pretraining-objectives.model").set_value("tiny GPT (ours)").run()
    at.text_input(key="pretraining-objectives.text").input("").run()
    assert_no_exception(at)
    assert "Type some sentence" in texts(at)
    at.text_input(key="pretraining-objectives.text").input("hello").run()
    assert "at least two words" in texts(at)
    at.text_input(key="pretraining-objectives.text").input("<script>alert(1)</script> 東京 🙂 ok").run()
    assert_no_exception(at)
    assert "<script>alert(1)</script>" not in [m.value for m in at.markdown]
