"""Bundled models load offline; the SmolLM2 conversion cache is crash- and race-safe."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lessons import models
from tests.unit.models import build_race

ROOT = Path(__file__).resolve().parents[3]




def test_offline_mode_is_on():
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_minilm_loads_offline_with_attentions(minilm):
    assert type(minilm.model).__name__ == "BertModel"
    assert 22e6 < minilm.n_params < 23.5e6
    enc = minilm.tokenizer("The cat sat on the mat.", return_tensors="pt")
    with torch.no_grad():
        out = minilm.model(**enc, output_attentions=True)
    assert len(out.attentions) == 6
    att = out.attentions[0]  # (B, heads, T, T)
    assert att.shape[1] == 12
    torch.testing.assert_close(att.sum(-1), torch.ones_like(att.sum(-1)), atol=1e-5, rtol=0)


@pytest.mark.slow
def test_smollm2_ranks_paris_first(smol):
    assert type(smol.model).__name__ == "LlamaForCausalLM"
    assert 134e6 < smol.n_params < 135e6
    ids = smol.tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        probs = smol.model(**ids).logits[0, -1].softmax(-1)
    top = int(probs.argmax())
    assert smol.tokenizer.decode([top]) == " Paris"
    assert 0.6 < float(probs[top]) < 0.9


def test_smollm2_has_chat_template(smol):
    text = smol.tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                              add_generation_prompt=True)
    assert "<|im_start|>user\nHi<|im_end|>" in text and text.endswith("<|im_start|>assistant\n")


def test_gpt2_tokenizer_real_ids():
    tok = models.load_gpt2_tokenizer()
    assert tok("Hello world")["input_ids"] == [15496, 995]
    assert len(tok) == 50257


def test_device_pick_defaults_and_rejects_unknown():
    assert models.pick_device("cpu") == "cpu"
    assert models.pick_device(None) in models.available_devices()
    with pytest.raises(models.ModelUnavailable):
        models.pick_device("tpu")


def test_hub_model_offline_gives_clear_message():
    with pytest.raises(models.ModelUnavailable, match="Could not load 'gpt2'.*offline"):
        models.load_hub_model("gpt2")
    with pytest.raises(models.ModelUnavailable, match="does not look like"):
        models.load_hub_model("not a model id")
    with pytest.raises(models.ModelUnavailable, match="Type a model id"):
        models.load_hub_model("   ")


def test_session_copy_is_independent(minilm):
    before = models.state_fingerprint(minilm.model)
    clone = models.session_copy(minilm.model)
    with torch.no_grad():
        next(clone.parameters()).add_(1.0)
    assert models.state_fingerprint(minilm.model) == before
    assert models.state_fingerprint(clone) != before


@pytest.mark.slow
def test_the_real_gguf_conversion_makes_a_valid_cache_that_loads(smol):
    """The shipped GGUF converted for real (the `smol` fixture converts it on a fresh machine, or
    loads the cache a conversion made): a valid, complete cache whose model is SmolLM2."""
    path = models.smollm2_cache_path()
    assert models.smollm2_cache_is_valid(path)
    marker = json.loads((path / models.paths.COMPLETE_MARKER).read_text())
    assert marker["source"].endswith(".gguf") and marker["dtype_on_disk"] == "fp32"
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= set(marker["files"])
    assert type(smol.model).__name__ == "LlamaForCausalLM"


def test_two_concurrent_builds_make_one_valid_cache(tmp_path):
    """The lock, the atomic rename and the repair of lessons.models.conversion.build_once, which
    every GGUF conversion goes through (convert_gguf_once is build_once with the GGUF builder;
    the real conversion is checked above and, killed half-way, in tests/e2e/test_first_run.py).
    Two processes start together; a fake builder takes a second, so one must wait for the other."""
    target, go = tmp_path / "smol", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-m", "tests.unit.models.build_race", str(target), str(go)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    converted = [m for m in results if not any("already in the cache" in s for s in m)]
    assert len(converted) == 1, results  # exactly one process did the work
    waited = [m for m in results if any("right now; waiting" in s for s in m)]
    assert len(waited) == 1, results     # the other one found the lock taken and said so
    assert models.cache_is_valid(target)
    assert (target / "model.safetensors").stat().st_size == 4096
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no temp folder left


class Reached(Exception):
    pass


def _start_over() -> None:
    raise Reached


def test_a_broken_cache_is_removed_before_the_conversion_starts(tmp_path):
    """A cache that is broken later: a truncated weight file (a disk filled up, a copy cut short),
    or a folder without the completion marker. Either is not valid, and the next GGUF conversion
    removes it and starts over: it reaches the step that opens the GGUF file. (That step and
    everything after it is the real conversion, checked above; here it stops at once.)"""
    target = tmp_path / "smol"
    models.conversion.build_once(target, build_race.slow_build, what="a fake model", report=lambda f, m: None)
    assert models.cache_is_valid(target)
    weights = target / "model.safetensors"
    with open(weights, "r+b") as fh:
        fh.truncate(weights.stat().st_size // 3)
    assert not models.cache_is_valid(target)
    with pytest.raises(Reached):
        models.convert_gguf_once(target, _start_over, what="SmolLM2", n_tensors=272, disk_dtype="fp32",
                                 report=lambda f, m: None)
    assert not target.exists()            # the broken cache is gone before the conversion starts
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]

    target.mkdir()
    (target / "config.json").write_text("{}")          # files, but no completion marker
    assert not models.cache_is_valid(target)
    with pytest.raises(Reached):
        models.convert_gguf_once(target, _start_over, what="SmolLM2", n_tensors=272, disk_dtype="fp32",
                                 report=lambda f, m: None)
    assert not target.exists()
