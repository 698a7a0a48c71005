"""AppTest: the stage-by-stage next-token page; its top-10 equals SmolLM2's own logits."""
import pytest
import json

import torch

from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_next_token.py"


def _chart(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)).proto.spec)


@pytest.mark.slow
def test_top10_equals_model_and_shapes_shown():
    at = open_page(PAGE)
    assert_no_exception(at)
    stages = at.table[0].value
    assert list(stages["shape"])[:2] == ["(1, 5)", "(1, 5, 576)"]
    assert "(49152,)" in list(stages["shape"])
    top = at.dataframe[0].value
    smol = models.load_smollm2()
    ids = smol.tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        ref = smol.model(input_ids=ids).logits[0, -1]
    assert list(top["id"]) == ref.topk(10).indices.tolist()
    assert abs(top["probability"][0] - float(ref.softmax(-1).max())) < 1e-4
    assert "**␣Paris**" in texts(at)


def test_prompt_k_and_dims_widgets():
    at = open_page(PAGE)
    at.text_input(key="next-token.prompt").input("One, two, three,").run()
    at.slider(key="next-token.k").set_value(5).run()
    at.slider(key="next-token.dims").set_value(32).run()
    assert_no_exception(at)
    assert len(at.dataframe[0].value) == 5
    assert len(_chart(at, "next-token.top")["data"][0]["x"]) == 5
    z = _chart(at, "next-token.emb")["data"][0]["z"]  # plotly encodes numpy as a typed array
    assert z["shape"].replace(" ", "") == "6,32"
    assert list(at.table[0].value["shape"])[0] == "(1, 6)"
    assert "␣four" in list(at.dataframe[0].value["token"])


@pytest.mark.slow
def test_odd_prompts():
    at = open_page(PAGE)
    at.text_input(key="next-token.prompt").input("").run()
    assert "Type some prompt" in texts(at)
    at.text_input(key="next-token.prompt").input("<b>猫</b> 🐱 " * 30).run()
    assert_no_exception(at)
    assert "only the last 64 are used" in texts(at)
