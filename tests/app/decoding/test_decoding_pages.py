"""AppTests for the Week 1 decoding and prompting pages: widgets moved by key, the values shown
checked against lessons/ and transformers."""
import pytest
import torch

from lessons import models
from lessons.decoding import generation, sampling
from tests.app.helpers import assert_no_exception, open_page, texts


def _metric(at, label):
    return next(m.value for m in at.metric if m.label.startswith(label))


def _df(at, i=0):
    return at.dataframe[i].value


@pytest.mark.slow
def test_sampling_lab_filters_and_draws():
    at = open_page("pages/w1_sampling.py")
    df = _df(at)
    assert df["token"].iloc[0] == "␣Paris" and 0.7 < df["p raw"].iloc[0] < 0.85
    assert _metric(at, "tokens left (of 49,152)") == "49,152"            # all off: plain softmax
    at.number_input(key="sampling.top_k").set_value(3).run()
    df = _df(at)
    assert _metric(at, "tokens left (of 49,152)") == "3"
    assert (df["p final"].iloc[:3] > 0).all() and (df["removed by"].iloc[3:] == "top-k").all()
    assert abs(df["p final"].iloc[:3].sum() - 1) < 1e-5
    # the shown numbers equal filter_distribution on the same logits, and transformers' warpers
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper
    lm = models.load_smollm2("cpu")
    logits = sampling.next_token_logits(lm.model, lm.tokenizer, "The capital of France is")
    at.slider(key="sampling.temperature").set_value(1.5).run()
    at.slider(key="sampling.top_p").set_value(0.9).run()
    at.number_input(key="sampling.top_k").set_value(50).run()
    assert_no_exception(at)
    df = _df(at)
    scores = logits[None].clone()
    for w in (TemperatureLogitsWarper(1.5), TopKLogitsWarper(50), TopPLogitsWarper(0.9)):
        scores = w(None, scores)
    ref = torch.softmax(scores, -1)[0]
    assert _metric(at, "tokens left (of 49,152)") == f"{int((ref > 0).sum()):,}"
    for tid, p in zip(df["id"], df["p final"]):
        assert abs(p - float(ref[tid])) < 1e-6
    assert "top_p" in at.get("plotly_chart")[0].proto.spec
    # temperature 0 is greedy, and says so
    at.slider(key="sampling.temperature").set_value(0.0).run()
    assert _metric(at, "tokens left (of 49,152)") == "1"
    assert "Temperature 0 = greedy decoding" in texts(at)
    # sampling for real: many draws approach the theory
    at.slider(key="sampling.temperature").set_value(1.0).run()
    at.number_input(key="sampling.top_k").set_value(0).run()
    at.slider(key="sampling.top_p").set_value(1.0).run()
    at.select_slider(key="sampling.draws").set_value(10).run()
    few = float(_metric(at, "TV distance"))
    at.select_slider(key="sampling.draws").set_value(10000).run()
    many = float(_metric(at, "TV distance"))
    assert many < few
    res = sampling.draw_samples(sampling.filter_distribution(logits), 10000, seed=0)
    assert abs(many - res.tv_distance) < 2e-3
    # another prompt preset, and a bad prompt gives a message, not a traceback
    at.selectbox(key="sampling.preset").set_value("2 + 2 =").run()
    assert_no_exception(at)
    at.text_input(key="sampling.prompt_4").set_value("   ").run()
    assert "Type some prompt" in texts(at)


@pytest.mark.slow
def test_generation_steps_presets_and_code():
    at = open_page("pages/w1_generation.py")
    assert at.toggle(key="generation.do_sample").value is True
    at.selectbox(key="generation.preset").set_value("Greedy falls into repetition").run()
    assert_no_exception(at)
    assert at.toggle(key="generation.do_sample").value is False
    lm = models.load_smollm2("cpu")
    s = generation.GenSettings(do_sample=False, max_new_tokens=30)
    tr = generation.generate_steps(lm.model, lm.tokenizer, "I like cats. I like dogs. I like", s)
    assert at.text[0].value == "I like cats. I like dogs. I like" + tr.text
    rep = float(_metric(at, "repeated 3-grams").rstrip("%")) / 100
    assert rep == round(generation.repetition_score(tr.new_ids), 2) and rep > 0.3   # greedy loops
    code = at.code[0].value
    assert "do_sample=False" in code and "max_new_tokens=30" in code and "temperature" not in code
    at.slider(key="generation.step").set_value(4).run()
    assert _metric(at, "chosen token") == tr.steps[3].token
    # the penalty preset breaks the loop
    at.selectbox(key="generation.preset").set_value("Greedy + repetition_penalty 1.3").run()
    assert float(_metric(at, "repeated 3-grams").rstrip("%")) / 100 < rep
    assert "repetition_penalty=1.3" in at.code[0].value
    # sampling settings flow into the snippet; side-by-side temperatures
    at.toggle(key="generation.do_sample").set_value(True).run()
    at.slider(key="generation.temperature").set_value(0.7).run()
    at.number_input(key="generation.seed").set_value(11).run()
    code = at.code[0].value
    assert "temperature=0.7" in code and "torch.manual_seed(11)" in code and "GenerationConfig(" in code
    at.slider(key="generation.max_new_tokens").set_value(8).run()
    at.multiselect(key="generation.temps").set_value([0.0, 1.5]).run()
    at.button(key="generation.compare").click().run()
    assert_no_exception(at)
    assert "greedy" in texts(at) and "T = 1.5" in texts(at)


@pytest.mark.slow
def test_in_context_learning_builder_and_measurement():
    at = open_page("pages/w1_in_context_learning.py")
    code = at.code[0].value
    assert code.startswith("Classify the sentiment") and code.endswith("Sentiment:")
    assert code.count("Sentiment:") == 3                               # 2 shots + the query
    at.slider(key="in-context-learning.shots_sentiment").set_value(0).run()
    assert at.code[0].value.count("Sentiment:") == 1
    at.radio(key="in-context-learning.format").set_value("chat template").run()
    code = at.code[0].value
    assert "<|im_start|>system" in code and code.rstrip().endswith("<|im_start|>assistant")
    assert _metric(at, "context window") == "8,192 tokens"
    assert _metric(at, "model's answer") in ("positive", "negative")
    at.text_input(key="in-context-learning.query_sentiment").set_value("<script>alert(1)</script> 😍 très bien").run()
    assert_no_exception(at)
    assert "<script>alert(1)</script>" in at.code[0].value              # shown literally, in a code block
    # the measurement, in the plain format
    at.radio(key="in-context-learning.format").set_value("plain text").run()
    at.button(key="in-context-learning.measure").click().run()
    assert_no_exception(at)
    results = next(iter(at.session_state["in-context-learning.results"].values()))
    assert [r.name for r in results] == ["zero-shot", "one-shot", "4-shot"]
    for r in results:
        assert _metric(at, f"{r.name} accuracy") == f"{r.accuracy:.0%}"
    assert results[2].accuracy > results[0].accuracy
    # a second task
    at.selectbox(key="in-context-learning.task").set_value("topics").run()
    assert "Headline:" in at.code[0].value and "Topic:" in at.code[0].value


@pytest.mark.slow
def test_in_context_learning_opens_with_the_recorded_measurement():
    """At its defaults (SmolLM2, first task, its instruction and examples) the page shows the recorded
    zero/one/few-shot measurement at once (lessons/prompting/recorded.py), labelled as recorded, with
    the chart drawn; an edited instruction has no record, and the button measures it live."""
    from lessons.prompting import recorded as prompting_recorded

    at = open_page("pages/w1_in_context_learning.py")
    if models.qwen_available():
        at.selectbox(key="in-context-learning.model").set_value("SmolLM2-135M-Instruct (fast)").run()
    task = at.selectbox(key="in-context-learning.task").value
    rec = prompting_recorded.recorded(prompting_recorded.Lab(models.load_smollm2("cpu")), prompting_recorded.ICL_KIND,
                                      prompting_recorded.icl_default(task, False))
    assert rec is not None, "no current record: run scripts/record_runs.py"
    assert any("Recorded run" in m.value and rec.recorded in m.value for m in at.info)
    for c in prompting_recorded.as_conditions(rec.result):
        assert _metric(at, f"{c.name} accuracy") == f"{c.accuracy:.0%}"
    assert "Press the button to measure" not in texts(at)
    assert at.button(key="in-context-learning.measure")
    at.text_input(key=f"in-context-learning.instruction_{task}").set_value("Say positive or negative.").run()
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info)
    assert "Press the button to measure" in texts(at) and not [m for m in at.metric if "accuracy" in m.label]
    at.button(key="in-context-learning.measure").click().run()
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info)
    assert len([m for m in at.metric if m.label.endswith("-shot accuracy")]) == 3


@pytest.mark.slow
def test_prompts_inference_counts_tokens_and_completes():
    at = open_page("pages/w1_prompts_inference.py")
    lm = models.load_smollm2("cpu")
    prompt = lm.tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                              tokenize=False, add_generation_prompt=True)
    n = len(lm.tokenizer(prompt)["input_ids"])
    assert _metric(at, "prompt tokens") == f"{n:,}"
    assert _metric(at, "context window") == "8,192"
    assert "<|im_start|>user" in at.code[0].value
    at.toggle(key="prompts-inference.chat").set_value(False).run()
    assert _metric(at, "prompt tokens") == "7"
    at.text_area(key="prompts-inference.prompt").set_value("The capital of France is").run()
    assert _metric(at, "prompt tokens") == "5"
    at.slider(key="prompts-inference.max_new").set_value(5).run()
    at.button(key="prompts-inference.run").click().run()
    assert_no_exception(at)
    tr = generation.generate_steps(lm.model, lm.tokenizer, "The capital of France is",
                                   generation.GenSettings(do_sample=False, max_new_tokens=5))
    assert tr.text.startswith(" Paris")
    assert tr.text.strip() in [t.value.strip() for t in at.text]   # st.text trims the leading space
    assert _metric(at, "completion tokens") == "5"
    assert _metric(at, "stopped by") == "max_new_tokens"
    at.text_area(key="prompts-inference.prompt").set_value("").run()
    assert "Type some prompt" in texts(at)


@pytest.mark.slow
def test_lifecycle_links_and_advice():
    at = open_page("pages/w1_lifecycle.py")
    links = at.get("page_link")
    assert links, "the adapt stage links to lessons"
    at.button_group(key="lifecycle.stage").set_value("integrate").run()
    assert_no_exception(at)
    assert any(h.value == "Application integration" for h in at.header)
    at.slider(key="lifecycle.gain").set_value(0.0).run()
    at.number_input(key="lifecycle.labelled").set_value(5000).run()
    assert "fine-tune" in at.success[0].value
    at.number_input(key="lifecycle.labelled").set_value(20).run()
    at.slider(key="lifecycle.gain").set_value(0.3).run()
    assert "keep prompting" in at.success[0].value


@pytest.mark.slow
def test_other_models_tiny_gpt_and_offline_hub_id():
    from ui import decoding

    at = open_page("pages/w1_sampling.py")
    if models.tiny_gpt_available():
        at.selectbox(key="sampling.model").set_value(decoding.TINY).run()
        assert_no_exception(at)
        lm = models.load_tiny_gpt("cpu")
        V = lm.model.config.vocab_size
        assert _metric(at, f"tokens left (of {V:,})") == f"{V:,}"
        g = open_page("pages/w1_generation.py")
        g.selectbox(key="generation.model").set_value(decoding.TINY).run()
        assert_no_exception(g)
        assert "tiny_gpt" in g.code[0].value
    at.selectbox(key="sampling.model").set_value(decoding.HUB).run()
    assert "Type a causal LM id" in texts(at)
    at.text_input(key="sampling.hub_id").set_value("genai-lab-test/no-such-model").run()
    assert_no_exception(at)
    assert "Could not load 'genai-lab-test/no-such-model'" in "\n".join(e.value for e in at.error)
