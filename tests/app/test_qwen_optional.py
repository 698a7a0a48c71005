"""The optional Qwen model on the Week 3 application pages. CI does not install it (and the
suite switches an installed one off): each page then says how to add it -- a caption, never
a traceback -- and runs on SmolLM2. When it is available it is the default choice, with
SmolLM2 selectable (the model itself is not loaded here: no button is pressed)."""
import pytest

from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts
from ui import loaders

PAGES = {"pages/w3_reasoning.py": "reasoning.model", "pages/w3_rag.py": "rag.model",
         "pages/w3_react.py": "react.model", "pages/w3_constitutional_ai.py": "constitutional-ai.model"}


@pytest.mark.slow
@pytest.mark.parametrize("page", ["pages/w3_reasoning.py", "pages/w3_constitutional_ai.py", "pages/w3_rag.py"])
def test_not_installed_says_how_to_add_it(page):
    assert not models.qwen_available()          # conftest: GENAI_LAB_QWEN=off
    at = open_page(page)
    assert_no_exception(at)
    shown = texts(at)
    assert "make qwen" in shown and "not installed" in shown
    assert not [s for s in at.selectbox if s.key == PAGES[page]]


def test_available_qwen_is_the_default_and_smollm2_selectable(monkeypatch):
    monkeypatch.setattr(models, "qwen_available", lambda: True)
    at = open_page("pages/w3_reasoning.py")
    box = at.selectbox(key="reasoning.model")
    assert box.value == loaders.QWEN_CHOICE and box.options == [loaders.QWEN_CHOICE, loaders.SMOL_CHOICE]
    assert "make qwen" not in texts(at) and "Qwen2.5-Coder-0.5B-Instruct" in texts(at)
    box.set_value(loaders.SMOL_CHOICE).run()
    assert_no_exception(at)
    assert "SmolLM2 has 135M" in texts(at)       # the honest SmolLM2 note comes back


def test_missing_qwen_model_on_click_is_a_message(monkeypatch):
    """Offered but failing to load (e.g. a bad checksum): the page shows the reason."""
    monkeypatch.setattr(models, "qwen_available", lambda: True)

    def broken(device="cpu"):
        raise models.ModelUnavailable("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf failed its checksum")

    monkeypatch.setattr(loaders, "qwen", broken)
    at = open_page("pages/w3_reasoning.py")
    at.button(key="reasoning.run").click().run()
    assert_no_exception(at)
    assert any("failed its checksum" in e.value for e in at.error)
