"""The optional Qwen model's install path, on small synthetic split files (Qwen itself is not
installed in CI): join in order, verify the pinned sha256, atomic + file-locked, a killed
assembly leaves no valid file, a bad hash is rejected, the packages are found without
importing them, and 'not installed' is a clear ModelUnavailable."""
import hashlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lessons import models

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def parts(tmp_path):
    """Three parts of a 3 MB 'model' with random bytes; returns (paths, sha256, size)."""
    rng = os.urandom
    blobs = [rng(1_000_003), rng(1_500_000), rng(700_001)]
    paths = []
    for i, b in enumerate(blobs, 1):
        p = tmp_path / "site" / f"part0{i}.bin"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b)
        paths.append(p)
    whole = b"".join(blobs)
    return paths, hashlib.sha256(whole).hexdigest(), len(whole)


def test_joins_in_order_and_verifies(parts, tmp_path):
    paths, sha, size = parts
    target = tmp_path / "cache" / "model.gguf"
    seen = []
    out = models.assemble_parts(paths, target, sha, size, lambda f, m: seen.append(f))
    assert out == target and target.stat().st_size == size
    assert models.sha256_file(target) == sha
    assert target.read_bytes() == b"".join(p.read_bytes() for p in paths)
    assert seen and seen[-1] == pytest.approx(1.0)
    assert not list(target.parent.glob("model.gguf.part-*"))   # no temporary file left
    # a second call re-verifies and returns the same file without rewriting it
    mtime = target.stat().st_mtime_ns
    assert models.assemble_parts(paths, target, sha, size) == target
    assert target.stat().st_mtime_ns == mtime


def test_wrong_order_or_bad_hash_is_rejected_and_leaves_nothing(parts, tmp_path):
    paths, sha, size = parts
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(models.ModelUnavailable, match="checksum"):
        models.assemble_parts(list(reversed(paths)), target, sha, size)
    assert not target.exists() and not list(target.parent.glob("*.part-*"))
    with pytest.raises(models.ModelUnavailable, match="checksum"):
        models.assemble_parts(paths, target, "0" * 64, size)
    assert not target.exists()
    with pytest.raises(models.ModelUnavailable, match="bytes"):        # a truncated part
        models.assemble_parts(paths[:2], target, sha, size)
    assert not target.exists()


def test_a_tampered_cached_file_is_rebuilt(parts, tmp_path):
    paths, sha, size = parts
    target = tmp_path / "cache" / "model.gguf"
    models.assemble_parts(paths, target, sha, size)
    data = bytearray(target.read_bytes())
    data[123] ^= 0xFF                                                   # same size, wrong bytes
    target.write_bytes(bytes(data))
    models.assemble_parts(paths, target, sha, size)
    assert models.sha256_file(target) == sha


def test_killed_assembly_leaves_no_valid_file_and_the_next_run_cleans_up(parts, tmp_path):
    """SIGKILL half-way (after the first 8 MB chunk... here: at the first progress report)."""
    paths, sha, size = parts
    target = tmp_path / "cache" / "model.gguf"
    code = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from lessons import models\n"
        "def die(frac, msg):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"models.assemble_parts([Path(p) for p in {[str(p) for p in paths]!r}], Path({str(target)!r}), "
        f"{sha!r}, {size}, die)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert not target.exists()                                          # never a half file
    leftovers = list(target.parent.glob("model.gguf.part-*"))
    assert leftovers and leftovers[0].stat().st_size < size             # the partial temp file
    models.assemble_parts(paths, target, sha, size)                     # next run: clean + build
    assert models.sha256_file(target) == sha
    assert not list(target.parent.glob("model.gguf.part-*"))


def test_concurrent_callers_assemble_once(parts, tmp_path, monkeypatch):
    paths, sha, size = parts
    target = tmp_path / "cache" / "model.gguf"
    writes = []
    real_mkstemp = models.conversion.tempfile.mkstemp

    def counting_mkstemp(*a, **kw):
        writes.append(1)
        return real_mkstemp(*a, **kw)

    monkeypatch.setattr(models.conversion.tempfile, "mkstemp", counting_mkstemp)
    errors = []

    def worker():
        try:
            models.assemble_parts(paths, target, sha, size)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(writes) == 1
    assert models.sha256_file(target) == sha


def test_pinned_hash_and_parts_agree_with_requirements_qwen():
    req = (ROOT / "requirements-qwen.txt").read_text()
    for dist, _ in models.QWEN_PARTS:
        assert f"{dist}==0.9.0 --hash=sha256:" in req
    assert models.QWEN_GGUF_SHA256.startswith("1d961463") and models.QWEN_GGUF_SHA256.endswith("4ff32")
    assert len(models.QWEN_GGUF_SHA256) == 64 and models.QWEN_GGUF_SIZE == 491_400_064
    lic = (ROOT / "licenses" / "Qwen2.5-LICENSE.txt").read_text()
    assert "Alibaba Cloud" in lic and "Apache License" in lic and "Version 2.0" in lic


def test_not_installed_is_a_clear_message(monkeypatch):
    """Switched off (as in the test suite) or missing: ModelUnavailable that says `make qwen`."""
    monkeypatch.setenv("GENAI_LAB_QWEN", "off")
    assert not models.qwen_available()
    with pytest.raises(models.ModelUnavailable, match="make qwen"):
        models.qwen_part_files()
    with pytest.raises(models.ModelUnavailable, match="make qwen"):
        models.load_qwen()
    monkeypatch.delenv("GENAI_LAB_QWEN")
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(models.ModelUnavailable, match="make qwen"):
        models.qwen_part_files()
    assert not models.qwen_installed()


def test_the_packages_are_never_imported():
    for path in sorted((ROOT / "lessons" / "models").glob("*.py")):
        src = path.read_text()
        assert "pandas_sns" not in src and "import_module" not in src, path.name
