"""Recorded runs (lessons/core/records.py): a record is returned only for exactly the run it
holds, made by the code it names, whole and unaltered."""
import json

from lessons.core import records


def _rec(**over) -> records.Record:
    d = dict(kind="ppo", settings={"beta": 0.3, "steps": 60}, fingerprints={"tiny_gpt": "ab12", "torch": "2.x"},
             code="c0de", result={"history": [{"step": 1, "reward": 0.25}]})
    return records.Record(**{**d, **over})


def test_the_key_names_every_input_and_ignores_dict_order():
    a = _rec()
    assert a.key == _rec(settings={"steps": 60, "beta": 0.3}).key
    others = [_rec(kind="dpo"), _rec(settings={"beta": 0.5, "steps": 60}), _rec(code="c0df"),
              _rec(fingerprints={"tiny_gpt": "ab13", "torch": "2.x"}),
              _rec(fingerprints={"tiny_gpt": "ab12", "torch": "2.y"})]
    assert len({a.key, *(o.key for o in others)}) == 1 + len(others)
    assert _rec(result={"other": 1}).key == a.key          # the result is not an input


def test_encode_decode_round_trip_and_tampering_is_refused():
    rec = _rec()
    text = records.encode(rec)
    back = records.decode(text)
    assert back == rec
    assert records.decode(text[: len(text) // 2]) is None                   # truncated
    assert records.decode("") is None and records.decode("[]") is None and records.decode("null") is None
    doc = json.loads(text)
    doc["record"]["result"]["history"][0]["reward"] = 9.0                     # edited by hand
    assert records.decode(json.dumps(doc)) is None
    doc = json.loads(text)
    doc["record"]["settings"]["beta"] = 0.0                                  # claims another run ...
    doc["sha256"] = records._sha(records.canonical(doc["record"]))          # ... with a fixed checksum
    assert records.decode(json.dumps(doc)) is None                          # the key no longer matches
    doc = json.loads(text)
    doc["format"] = records.FORMAT + 1
    assert records.decode(json.dumps(doc)) is None


def test_file_store_returns_only_the_asked_run(tmp_path):
    store = records.FileStore(tmp_path)
    rec = _rec()
    path = store.put(rec)
    assert path == tmp_path / "ppo" / f"{rec.key}.json" and store.keys("ppo") == [rec.key]
    assert store.get("ppo", rec.key) == rec
    assert store.get("dpo", rec.key) is None and store.get("ppo", _rec(code="new").key) is None
    assert not list(tmp_path.rglob("*.tmp"))
    # a record copied under another run's name is not that run
    other = _rec(settings={"beta": 0.5, "steps": 60})
    store.path("ppo", other.key).write_text(path.read_text())
    assert store.get("ppo", other.key) is None
    path.write_text(path.read_text()[:-40])                                  # truncated on disk
    assert store.get("ppo", rec.key) is None


def test_code_version_follows_the_source(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    v1 = records.code_version(["pkg", "b.py"], root=tmp_path)
    assert v1 == records.code_version(["b.py", "pkg"], root=tmp_path)
    (tmp_path / "pkg" / "a.py").write_text("x = 10\n")
    v2 = records.code_version(["pkg", "b.py"], root=tmp_path)
    (tmp_path / "pkg" / "c.py").write_text("")
    v3 = records.code_version(["pkg", "b.py"], root=tmp_path)
    assert len({v1, v2, v3}) == 3
    try:
        records.code_version(["missing.py"], root=tmp_path)
    except FileNotFoundError:
        pass
    else:
        raise AssertionError("a missing source must not hash as empty")
