"""AppTest: the pruning page prunes a COPY of the real tiny GPT; figures match the lesson."""
import json

import pytest

from lessons import models
from lessons.efficiency import pruning
from lessons.core.perplexity import perplexity
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_pruning.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label.startswith(label))


@pytest.mark.slow
def test_sparsity_slider_and_scope_move_the_figures():
    at = open_page(PAGE)
    from ui import efficiency, loaders
    tg = loaders.tiny_gpt("cpu")
    before = models.state_fingerprint(tg.model)
    assert _metric(at, "Weights set to zero") == "50.0%"
    at.slider(key="pruning.sparsity").set_value(0.9)
    at.radio(key="pruning.scope").set_value("layer")
    at.run()
    assert_no_exception(at)
    assert _metric(at, "Weights set to zero") == "90.0%"
    _, val = efficiency.shakespeare_ids("cpu", tg.tokenizer)
    p = pruning.prune_copy(tg.model, 0.9, "layer")
    assert _metric(at, "Validation perplexity") == f"{perplexity(p.model, val, 64, 16):.1f}"
    dense = float(_metric(at, "Dense perplexity"))
    assert float(_metric(at, "Validation perplexity")) > dense
    assert models.state_fingerprint(tg.model) == before           # the shared model is untouched
    assert "KL(dense ‖ pruned)" in texts(at)
    assert "first rises by more than 10%" in texts(at)


@pytest.mark.slow
def test_zero_sparsity_changes_nothing_and_bad_context_is_handled():
    at = open_page(PAGE)
    at.slider(key="pruning.sparsity").set_value(0.0)
    at.run()
    assert _metric(at, "Weights set to zero") == "0.0%"
    assert _metric(at, "Validation perplexity") == _metric(at, "Dense perplexity")
    assert "0.000 nats" in texts(at) and "same most likely token: **yes**" in texts(at)
    at.text_input(key="pruning.prompt").set_value("<script>alert(1)</script> 🚲 自転車")
    at.run()
    assert_no_exception(at)
    at.text_input(key="pruning.prompt").set_value("   ")
    at.run()
    assert_no_exception(at)
    assert "Type some context" in texts(at)


@pytest.mark.slow
def test_at_99_percent_the_pruned_models_own_prediction_is_shown():
    """'At 99% sparsity, what does the model predict?': the page answers with the pruned
    model's own top 10 and its most likely token, not only the dense model's."""
    at = open_page(PAGE)
    at.slider(key="pruning.sparsity").set_value(0.99).run()
    assert_no_exception(at)
    from ui import inputs, loaders
    tg = loaders.tiny_gpt("cpu")
    p = pruning.prune_copy(tg.model, 0.99, "global")
    nt = pruning.next_token_change(tg.model, p.model, tg.tokenizer, "KING HENRY: What say you, my")
    shown = texts(at)
    tok = inputs.md_escape(repr(nt.pruned_tokens[0]))
    assert f"the pruned model's: **{tok}** ({nt.pruned_top[0]:.0%})" in shown
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert "The pruned model's (99%) own top 10" in [a.get("text") for a in spec["layout"]["annotations"]]
