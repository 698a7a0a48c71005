"""AppTest: positional encoding page; the figures show the lesson functions' values."""
import pytest
import base64
import json

import numpy as np

from lessons.transformer import positional
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_positional.py"


def _chart(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)).proto.spec)


def _z(spec):
    z = spec["data"][0]["z"]
    shape = tuple(int(s) for s in z["shape"].split(","))
    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape)


def test_sinusoidal_sliders():
    at = open_page(PAGE)
    at.slider(key="positional.len").set_value(32).run()
    at.slider(key="positional.d").set_value(16).run()
    assert_no_exception(at)
    z = _z(_chart(at, "positional.pe"))
    assert z.shape == (32, 16)
    np.testing.assert_allclose(z, positional.sinusoidal(32, 16).numpy(), atol=1e-6)
    sim = positional.cosine_between_positions(positional.sinusoidal(32, 16))
    assert f"(cos {float(sim[10, 11]):.3f})" in texts(at) and f"(cos {float(sim[10, 30]):.3f})" in texts(at)


@pytest.mark.slow
def test_learned_and_rope_widgets():
    at = open_page(PAGE)
    at.slider(key="positional.learned").set_value(64).run()
    assert _z(_chart(at, "positional.learned_fig")).shape == (64, 64)
    at.slider(key="positional.rope_pair").set_value(31).run()
    at.slider(key="positional.rope_positions").set_value(5).run()
    spec = _chart(at, "positional.rope_circle")
    assert len(spec["data"]) == 5 and "pair 31" in spec["layout"]["title"]["text"]
    theta31 = float(positional.rope_frequencies(64, 100000.0)[31])
    assert f"{theta31:.4g}" in spec["layout"]["title"]["text"]
    at.number_input(key="positional.rope_seed").set_value(3).run()
    z = _z(_chart(at, "positional.rope_scores"))
    for off in (0, 4):
        d = np.diagonal(z, off)
        assert d.max() - d.min() < 1e-3  # relative position only
    assert "RoPE" in texts(at) and "100,000" in texts(at)
