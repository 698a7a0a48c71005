"""AppTest: the RAG page chunks, retrieves, maps, generates and evaluates."""
import pytest
import re

from lessons import models
from lessons.retrieval import rag, vector_store
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_rag.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label.startswith(label))


@pytest.mark.slow
def test_chunking_retrieval_and_hit_rate_follow_the_widgets():
    at = open_page(PAGE)
    n40 = len(vector_store.chunk_documents(rag.documents(), 40, 10))
    assert int(_metric(at, "Chunks in the store")) == n40
    at.slider(key="rag.size").set_value(80)
    at.slider(key="rag.overlap").set_value(20)
    at.run()
    assert_no_exception(at)
    assert int(_metric(at, "Chunks in the store")) == len(vector_store.chunk_documents(rag.documents(), 80, 20))

    at.selectbox(key="rag.pick").set_value("What is the coffee machine called?")
    at.slider(key="rag.k").set_value(2)
    at.run()
    assert_no_exception(at)
    shown = texts(at)
    assert "Gustave" in shown and "is in retrieved chunk #" in shown
    table = at.table[0].value
    assert list(table.index) == [1, 2]
    assert table["score"].is_monotonic_decreasing
    # hit-rate shown == hit-rate recomputed by the lesson for the same settings
    enc = models.load_minilm("cpu")
    hr = rag.hit_rate(rag.build_index(enc, 80, 20), enc, 2)
    assert _metric(at, "Hit-rate@2") == f"{hr.rate:.0%}"


@pytest.mark.slow
def test_overlap_larger_than_chunk_is_explained_not_a_traceback():
    at = open_page(PAGE)
    at.slider(key="rag.size").set_value(10)
    at.slider(key="rag.overlap").set_value(30)
    at.run()
    assert_no_exception(at)
    assert "overlap must be smaller" in texts(at)


def test_own_question_empty_and_html():
    at = open_page(PAGE)
    at.selectbox(key="rag.pick").set_value("✏️ Type my own question")
    at.run()
    at.text_input(key="rag.own").set_value("   ")
    at.run()
    assert_no_exception(at)
    assert "Type some question" in texts(at)
    at.text_input(key="rag.own").set_value("<script>alert(1)</script> 🚲 自転車 dogs?")
    at.run()
    assert_no_exception(at)
    assert len(at.table[0].value) == 3  # default k


@pytest.mark.slow
def test_generation_with_and_without_context():
    at = open_page(PAGE)
    at.selectbox(key="rag.pick").set_value("What is the coffee machine called?")
    at.slider(key="rag.max_new").set_value(8)
    at.button(key="rag.ask").click()
    at.run()
    assert_no_exception(at)
    heads = [s.value for s in at.subheader]
    assert "With retrieved context" in heads and "Without retrieved context" in heads
    caps = [c.value for c in at.caption if "prompt tokens" in c.value]
    assert len(caps) == 2
    n_with, n_without = (int(re.match(r"(\d+) prompt tokens", c).group(1)) for c in caps)
    assert n_with > n_without + 20  # the context costs tokens
    prompts = [c.value for c in at.code]
    assert any("Gustave" in p and "<|im_start|>" in p for p in prompts)
    assert any("Gustave" not in p and "coffee machine" in p for p in prompts)
