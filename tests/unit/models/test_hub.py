"""Hub ids (issue #16.3): only 'owner/name' or a bare name; paths, URLs and '..' are refused
before anything touches the file system; a local folder shaped like 'owner/name' is never
read as a path; remote code never runs; offline fails with a clear message."""
import builtins
import json
import os
import sys

import pytest

from lessons import models

REFUSED = ["../../etc/passwd", "/etc/passwd", "..", "./gpt2", "~/models/x", "C:\\Users\\x",
           "https://huggingface.co/gpt2", "hf://gpt2", "file:///etc/passwd", "a/b/c", "owner/../x",
           "x..y", "-gpt2", "gpt2.", "owner/name.git", "gpt 2", "<script>alert(1)</script>",
           "owner/na\x00me", "ｇｐｔ２", "gpt2/", "/gpt2", "a" * 201]
ACCEPTED = ["gpt2", "HuggingFaceTB/SmolLM2-360M-Instruct", "owner/name_v1.5", "Qwen/Qwen2.5-0.5B"]


@pytest.mark.parametrize("mid", ACCEPTED)
def test_hub_ids_accepted(mid):
    assert models.check_hub_id(f"  {mid} ") == mid


_TOUCHED: list | None = None


def _audit(event, args):
    if _TOUCHED is not None and event in ("open", "os.listdir", "os.scandir", "os.mkdir", "os.remove",
                                          "os.rename", "os.chdir", "shutil.rmtree"):
        _TOUCHED.append((event, str(args[0])[:80]))


sys.addaudithook(_audit)    # an audit hook cannot be removed: it records only inside the fixture


@pytest.fixture
def no_file_system(monkeypatch):
    """Record every file-system touch (audited opens/listings plus os.stat and friends)."""
    global _TOUCHED
    touched = _TOUCHED = []
    for name in ("stat", "lstat", "access"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda p, *a, _r=real, _n=name, **k: touched.append((_n, str(p))) or _r(p, *a, **k))
    yield touched
    _TOUCHED = None


@pytest.mark.parametrize("mid", REFUSED, ids=range(len(REFUSED)))
def test_paths_urls_and_traversal_refused_before_the_file_system(mid, no_file_system):
    with pytest.raises(models.ModelUnavailable, match="does not look like a model id|Type a model id") as exc:
        models.load_hub_model(mid)
    touched = list(no_file_system)
    assert touched == []
    # the refusal never echoes the learner's text (it is shown as markdown on the page)
    if len(mid) > 3:
        assert mid not in str(exc.value)


def test_local_folder_shaped_like_a_hub_id_is_not_read(tmp_path, monkeypatch):
    """'assets/tiny_gpt' is an owner/name id AND a folder of this repo: it must be looked up
    in the hub cache only (offline: not there), never loaded from the working directory."""
    from huggingface_hub import constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.chdir(models.REPO_ROOT)
    assert (models.REPO_ROOT / "assets" / "tiny_gpt" / "config.json").is_file()
    with pytest.raises(models.ModelUnavailable, match="Could not load 'assets/tiny_gpt'.*offline"):
        models.load_hub_model("assets/tiny_gpt")


def _fake_hub_repo(cache, repo_id, files: dict):
    d = cache / f"models--{repo_id.replace('/', '--')}"
    snap = d / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (d / "refs").mkdir()
    (d / "refs" / "main").write_text("a" * 40)
    for name, data in files.items():
        (snap / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    return snap


def test_remote_code_never_runs_and_a_cached_model_loads(tmp_path, monkeypatch):
    from huggingface_hub import constants as hub_constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))
    sentinel = tmp_path / "remote_code_ran"
    cfg = json.loads((models.TINY_GPT_DIR / "config.json").read_text())
    evil = dict(cfg, auto_map={"AutoConfig": "evil.EvilConfig", "AutoModelForCausalLM": "evil.EvilModel"},
                model_type="evil_remote")
    code = f"open({str(sentinel)!r}, 'w').write('ran')\nfrom transformers import GPT2Config as EvilConfig\n"
    _fake_hub_repo(cache, "owner/evil", {"config.json": json.dumps(evil), "evil.py": code})
    with pytest.raises(models.ModelUnavailable, match="Could not load 'owner/evil'"):
        models.load_hub_model("owner/evil")
    assert not sentinel.exists()

    # the positive path: a model in the local hub cache loads offline, from the cache folder
    files = {p.name: p.read_bytes() for p in models.TINY_GPT_DIR.iterdir() if p.is_file()}
    _fake_hub_repo(cache, "owner/tiny", files)
    lm = models.load_hub_model("owner/tiny")
    assert lm.name == "owner/tiny" and lm.n_params > 0
    assert lm.model.config.model_type == "gpt2"
