"""Recorded runs: a training run's result kept under a key made of everything that determines it.

A run with the same settings, seed, starting weights, code and thread count takes the same path
(the floats are summed in the same order), so its result can be kept and shown again instead of
recomputed: a page opens with its default run already drawn (the projector), a class that presses
Train with the same settings can share one run, and the outcome tests check the pages' claims on
the recorded history instead of training every outcome on every test run.

* ``key``: sha256 of the canonical JSON of (kind, settings, fingerprints, code version). Two
  runs that differ in any input (a setting, a learner's own preferences, another base model, an
  edited training loop) never share a key.
* ``code_version``: sha256 of the source files a run executes (named by the recipe), so a record
  made by older code is never replayed as if the current code had made it.
* A record is stored with the sha256 of its own content. One whose checksum or key does not match
  (a truncated or corrupt file, a file edited by hand) is discarded, never shown.

Pure Python: no torch, no streamlit. The store here is a folder of JSON files (the records
shipped in assets/recorded/); the same ``encode``/``decode`` serve any other store.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

ROOT = Path(__file__).resolve().parents[2]
RECORDED_DIR = ROOT / "assets" / "recorded"
FORMAT = 1


def canonical(obj) -> str:
    """The one JSON form of a key's inputs and a record's body (sorted keys, no spaces, ASCII)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plain(obj):
    """``obj`` as JSON gives it back (tuples become lists): what a record holds after a round trip."""
    return json.loads(canonical(obj))


def code_version(paths: Iterable[str], root: Path = ROOT) -> str:
    """sha256 over the named source files and packages (relative to ``root``, the repository; a
    folder means every .py file under it), each file's relative path and bytes, in sorted order."""
    files: set[Path] = set()
    for rel in paths:
        p = root / rel
        if p.is_dir():
            files.update(q for q in p.rglob("*.py") if "__pycache__" not in q.parts)
        elif p.is_file():
            files.add(p)
        else:
            raise FileNotFoundError(f"code_version: {rel} does not exist")
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def cpu_model() -> str:
    """The processor's model name (Linux: /proc/cpuinfo), else the platform's words for it. A class
    run's key holds it: another processor rounds the floats of a step differently."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()}".strip()


def job_spec(settings: dict, max_seconds: float, fingerprints: dict, code: str, threads: int,
             device: str = "cpu", **extra) -> dict:
    """A class run's spec (ui/class_runs.py keys a job by it): everything that determines its
    result (the settings, the shared models' fingerprints, the code version, the torch threads,
    the device and the processor) and the seconds cap; ``extra`` for what a job adds (a learner's
    own reward model)."""
    return {"settings": plain(settings), "max_seconds": float(max_seconds), "fingerprints": plain(fingerprints),
            "code": code, "threads": int(threads), "device": device, "cpu": cpu_model(), **extra}


class JobCode:
    """A class-run job's code (the source files it runs): its version, computed once per process,
    its spec (:func:`job_spec` with that version) and, in the worker process, its lab: what every
    run of the job starts from (the shared, read-only models and token ids), made on first use once
    per device by ``make_lab(device)``. One per job module."""

    def __init__(self, paths: Iterable[str], make_lab: Optional[Callable[[str], Any]] = None):
        self.paths = tuple(paths)
        self._version: Optional[str] = None
        self._make_lab = make_lab
        self._labs: dict = {}
        self._lock = threading.Lock()

    def lab(self, device: str = "cpu"):
        with self._lock:         # a worker runs one job at a time; the lock costs nothing and keeps it safe
            if device not in self._labs:
                self._labs[device] = self._make_lab(device)
            return self._labs[device]

    def version(self) -> str:
        if self._version is None:
            self._version = code_version(self.paths)
        return self._version

    def spec(self, settings: dict, max_seconds: float, fingerprints: dict, threads: int, device: str = "cpu",
             **extra) -> dict:
        return job_spec(settings, max_seconds, fingerprints, self.version(), threads, device, **extra)


_WORKER_MODELS: dict = {}
_WORKER_MODELS_LOCK = threading.Lock()


def worker_model(name: str, device: str = "cpu"):
    """A generation job's instruct model in a worker process (``name``: "smollm2" | "qwen"),
    loaded on first use once per process and device and shared read-only by every job the worker
    runs (the constitutional-AI, reasoning and ReAct jobs)."""
    from lessons import models

    with _WORKER_MODELS_LOCK:
        if (name, device) not in _WORKER_MODELS:
            _WORKER_MODELS[name, device] = models.load_qwen(device) if name == "qwen" else models.load_smollm2(device)
        return _WORKER_MODELS[name, device]


class Left(Exception):
    """Raised by a generation job's progress callback when everybody who asked for the run left:
    the job returns what it has so far instead of starting its next generation."""


def release_worker_models() -> None:
    """Free the instruct models :func:`worker_model` loaded (an idle worker's memory back to the OS)."""
    import gc

    with _WORKER_MODELS_LOCK:
        if not _WORKER_MODELS:
            return
        _WORKER_MODELS.clear()
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):       # not glibc: the allocator keeps it
        pass


def instruct_fingerprints(name: str, lm, threads: int = 1) -> dict:
    """What keys a generation job besides its settings: the instruct model's weights, torch's
    version, the thread count (for SmolLM2 the same as the recorded runs' Labs give)."""
    import torch

    from lessons.models import state_fingerprint

    return {name: state_fingerprint(lm.model), "torch": torch.__version__, "threads": threads}


KEEP_WEIGHTS = 60   # trained weight files of class runs kept, newest first


def weights_dir() -> Path:
    """Where class-run jobs leave the weights a learner's page loads (a PPO policy, a LoRA adapter)."""
    from lessons.models import cache_dir

    d = cache_dir() / "class_runs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def spec_hash(spec: dict) -> str:
    return _sha(canonical(spec))[:24]


def save_weights(spec: dict, steps_done: int, state: dict, folder: Optional[Path] = None) -> str:
    """Save a class run's trained tensors (``state``: name -> tensor) as
    ``<spec hash>-<steps>.pt`` (written whole, then renamed: a reader never sees half a file),
    keep the newest KEEP_WEIGHTS files, and return the path for the job's result."""
    import torch

    path = Path(folder or weights_dir()) / f"{spec_hash(spec)}-{steps_done}.pt"
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    prune_weights(path.parent)
    return str(path)


def load_weights(path: Optional[str]) -> Optional[dict]:
    """The tensors a class run saved, or None when the file is gone (pruned, or made on another
    machine): the page then says so instead of failing."""
    import torch

    if not path or not Path(path).is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def prune_weights(folder: Path, keep: int = KEEP_WEIGHTS) -> None:
    """Bound the weights on disk: the oldest files beyond ``keep`` go (a record whose weights
    are gone still shows its run; the session then has no trained model to use)."""
    files = sorted(folder.glob("*.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def run_key(kind: str, settings: dict, fingerprints: dict, code: str) -> str:
    return _sha(canonical({"kind": kind, "settings": settings, "fingerprints": fingerprints, "code": code}))


@dataclass
class Record:
    """One finished run. ``result`` is the recipe's own JSON form of its result."""

    kind: str
    settings: dict
    fingerprints: dict
    code: str
    result: dict
    recorded: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    machine: str = field(default_factory=lambda: f"{platform.machine()} {platform.processor() or platform.system()}")
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def key(self) -> str:
        return run_key(self.kind, self.settings, self.fingerprints, self.code)


def measure(kind: str, settings: dict, fingerprints: dict, code: str, fn) -> Record:
    """Run ``fn()`` (a recipe: it returns the run's JSON-able result) and return it as a
    Record with its wall and CPU seconds. Not stored: ``FileStore.put`` does that."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    w, c = time.perf_counter() - w, time.process_time() - c
    return Record(kind, settings, fingerprints, code, plain(out), wall_s=round(w, 1), cpu_s=round(c, 1))


def encode(record: Record) -> str:
    body = asdict(record)
    return json.dumps({"format": FORMAT, "key": record.key, "sha256": _sha(canonical(body)), "record": body},
                      indent=1, sort_keys=True, allow_nan=False)


def decode(text: str) -> Optional[Record]:
    """The record in ``text``, or None when the text is not a whole, unaltered record of this format."""
    try:
        doc = json.loads(text)
        body = doc["record"]
        if doc.get("format") != FORMAT or _sha(canonical(body)) != doc["sha256"]:
            return None
        rec = Record(**body)
        return rec if rec.key == doc["key"] else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


class Recorder:
    """What every module of recorded runs does the same way, for its ``code`` (the files that
    determine a run: :func:`code_version`), its ``recipes`` ({kind: recipe(lab, settings, **kw)
    returning the run's JSON-able result}) and the torch thread count its runs use. A module's
    ``Lab`` holds its shared models and gives ``fingerprints(settings)``."""

    def __init__(self, code: Iterable[str], recipes: dict, threads: int = 1):
        self.code, self.recipes, self.threads = tuple(code), recipes, threads

    def key(self, lab, kind: str, settings: dict) -> tuple[dict, str, str]:
        """(fingerprints, code version, key) of the run ``kind`` with ``settings``."""
        fp, code = lab.fingerprints(settings), code_version(self.code)
        return fp, code, run_key(kind, settings, fp, code)

    def run(self, lab, kind: str, settings: dict, **kw) -> Record:
        """Run it now, on the recorder's thread count, and return it as a Record (not stored).
        ``kw`` go to the recipe (e.g. a shorter replay of the same run)."""
        from lessons.core.threads import torch_threads   # torch only when a run happens

        fp, code, _ = self.key(lab, kind, settings)
        with torch_threads(self.threads):
            return measure(kind, settings, fp, code, lambda: self.recipes[kind](lab, settings, **kw))

    def recorded(self, lab, kind: str, settings: dict, store: Optional["FileStore"] = None) -> Optional[Record]:
        """The current record of this run, or None (none made by this code, these models, this torch)."""
        return (store or FileStore()).get(kind, self.key(lab, kind, settings)[2])


class FileStore:
    """Records as ``<root>/<kind>/<key>.json``. ``get`` returns only a valid record with the key
    asked for; writes go through a temporary file and a rename, so a reader never sees half a file."""

    def __init__(self, root: Path = RECORDED_DIR):
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> Optional[Record]:
        try:
            rec = decode(self.path(kind, key).read_text(encoding="utf-8"))
        except OSError:
            return None
        return rec if rec is not None and rec.kind == kind and rec.key == key else None

    def put(self, record: Record) -> Path:
        path = self.path(record.kind, record.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(encode(record) + "\n")
        os.replace(tmp, path)
        return path

    def keys(self, kind: str) -> list[str]:
        d = self.root / kind
        return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []
