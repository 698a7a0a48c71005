"""AppTest: embeddings page -- PCA points, cosine matrix and contextual similarity shown equal
the lesson functions on the real models."""
import pytest
import json

from lessons.transformer import embeddings
from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_embeddings.py"


def _chart(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)).proto.spec)


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.slow
def test_groups_words_model_and_dims():
    at = open_page(PAGE)
    at.multiselect(key="embeddings.groups").set_value(["weekdays"]).run()
    at.text_input(key="embeddings.words").input("banana, <b>x</b>").run()
    assert_no_exception(at)
    spec = _chart(at, "embeddings.pca")
    shown = [t for tr in spec["data"] for t in tr["text"]]
    assert "banana" in shown and "&lt;b&gt;x&lt;/b&gt;" in shown and len(shown) == 9
    wv = embeddings.word_vectors(models.load_smollm2(), embeddings.PRESETS["weekdays"] + ["banana", "<b>x</b>"])
    sim = embeddings.cosine_matrix(wv.vectors)
    pair = sim.clone()
    pair.fill_diagonal_(-2)
    assert f"(cosine {float(pair.max()):.3f})" in texts(at)
    at.radio(key="embeddings.dims").set_value("3-D").run()
    assert _chart(at, "embeddings.pca")["data"][0]["type"] == "scatter3d"
    at.radio(key="embeddings.model").set_value("MiniLM (30,522 × 384)").run()
    assert "384-D → 3-D" in _chart(at, "embeddings.pca")["layout"]["title"]["text"]


def test_too_few_words_message():
    at = open_page(PAGE)
    at.multiselect(key="embeddings.groups").set_value([]).run()
    at.text_input(key="embeddings.words").input("one").run()
    assert "at least 3 words" in texts(at)


@pytest.mark.slow
def test_contextual_section():
    at = open_page(PAGE)
    ref = embeddings.contextual(models.load_minilm(), "bank", "We sat on the river bank and watched the water.",
                       "I deposited the money at the bank this morning.")
    assert _metric(at, "after the last layer") == f"{ref.layer_similarity[-1]:.3f}"
    assert _metric(at, "static table vectors") == "1.000"
    at.text_input(key="embeddings.ctx_b").input("Nothing to see here.").run()
    assert "does not appear" in texts(at)
    at.text_input(key="embeddings.ctx_word").input("猫").run()
    at.text_input(key="embeddings.ctx_a").input("我的猫很可爱").run()
    at.text_input(key="embeddings.ctx_b").input("猫 🐱 sleeps").run()
    assert_no_exception(at)
    assert float(_metric(at, "after the last layer")) <= 1.0


def test_pca_labels_never_overlap_even_in_a_tight_cluster():
    """Projector readability: seven words a few pixels apart (the weekdays on the default PCA)
    get leader lines; no two label boxes overlap, and separated points keep their label beside
    them. Boxes are rebuilt from what label_layout returns (12 px font, 760 x 460 px plot)."""
    from ui.transformer import label_layout

    xs = [0.0, 0.01, 0.02, 0.0, 0.01, 0.02, 0.015, 5.0, 10.0, 10.0]
    ys = [0.0, 0.0, 0.01, 0.02, 0.02, 0.03, 0.015, 5.0, 10.0, 0.0]
    words = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "king", "one", "two"]
    out = label_layout(xs, ys, words)
    sx, sy, h, gap = 760 / 10.0, 460 / 10.0, 15.0, 6.0
    boxes = []
    for x, y, w, (spot, off) in zip(xs, ys, words, out):
        px, py, wd = x * sx, (10.0 - y) * sy, 7.2 * len(w)
        if off is not None:
            cx, cy = px + off[0], py + off[1]
            boxes.append((cx - wd / 2, cy - h / 2, cx + wd / 2, cy + h / 2))
        else:
            v, u = spot.split()
            left = {"center": px - wd / 2, "right": px + gap, "left": px - gap - wd}[u]
            top = {"top": py - gap - h, "bottom": py + gap, "middle": py - h / 2}[v]
            boxes.append((left, top, left + wd, top + h))
    for i in range(len(boxes)):
        for j in range(i):
            a, b = boxes[i], boxes[j]
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1]), (words[i], words[j])
    assert sum(off is not None for _, off in out[:7]) >= 3           # the cluster needed leader lines
    assert all(off is None for _, off in out[7:])                    # lone points keep a plain label
