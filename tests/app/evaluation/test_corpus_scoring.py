"""AppTest: corpus scoring page. Built-in sample and uploaded CSVs (good, malformed, huge);
shown corpus figures equal sacreBLEU / rouge-score."""
import base64
import json

import numpy as np

import sacrebleu
from rouge_score import rouge_scorer

from lessons.evaluation import corpus_scoring
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w2_corpus_scoring.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _upload(at, data: bytes, name="pairs.csv"):
    at.file_uploader(key="corpus-scoring.upload").set_value((name, data, "text/csv")).run()
    assert_no_exception(at)


def test_builtin_sample_corpus_scores_equal_libraries():
    at = open_page(PAGE, timeout=90)
    sample = corpus_scoring.load_sample()
    cands, refs = [d["candidate"] for d in sample], [d["summary"] for d in sample]
    assert _metric(at, "corpus BLEU") == f"{sacrebleu.corpus_bleu(cands, [refs]).score:.2f}"
    assert _metric(at, "corpus chrF") == f"{sacrebleu.corpus_chrf(cands, [refs]).score:.2f}"
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    mean_l = sum(scorer.score(r, c)["rougeL"].fmeasure for c, r in zip(cands, refs)) / len(cands)
    assert _metric(at, "ROUGE-L") == f"{mean_l:.3f}"
    table = next(d.value for d in at.dataframe if "rougeL" in d.value.columns)
    assert len(table) == len(sample)
    # worst-first sorting and the distribution plot follow the widgets
    at.toggle(key="corpus-scoring.sort").set_value(True).run()
    table = next(d.value for d in at.dataframe if "rougeL" in d.value.columns)
    assert list(table["rougeL"]) == sorted(table["rougeL"])
    at.selectbox(key="corpus-scoring.metric").select("bleu").run()
    hist = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-corpus-scoring.hist")).proto.spec)
    assert hist["layout"]["xaxis"]["title"]["text"] == "bleu"
    xs = np.frombuffer(base64.b64decode(hist["data"][0]["x"]["bdata"]), dtype=hist["data"][0]["x"]["dtype"])
    assert len(xs) == len(sample) and xs.max() <= 100
    at.number_input(key="corpus-scoring.row").set_value(14).run()
    assert "The the the vase vase cat cat." in [t.value for t in at.text]
    assert any(b.proto.label == "Download the scores as CSV" for b in at.get("download_button"))


def test_uploaded_csv_is_scored_and_bad_files_get_clear_messages():
    at = open_page(PAGE, timeout=90)
    at.radio(key="corpus-scoring.source").set_value("Upload a CSV").run()
    assert "Upload a file to score it" in texts(at)
    good = 'candidate,reference\n"<b>hi</b>, 猫",hi 猫\nthe cat sat,the cat sat on the mat\n'.encode()
    _upload(at, good)
    c, r = ["<b>hi</b>, 猫", "the cat sat"], ["hi 猫", "the cat sat on the mat"]
    assert _metric(at, "corpus BLEU") == f"{sacrebleu.corpus_bleu(c, [r]).score:.2f}"
    assert "<b>hi</b>, 猫" in list(next(d.value for d in at.dataframe if "candidate" in d.value.columns)["candidate"])
    _upload(at, b"foo,bar\n1,2\n")
    assert any("Missing column(s): candidate, reference" in e.value for e in at.error)
    _upload(at, b'candidate,reference\n"unclosed,quote\n')
    assert any("not a well-formed CSV" in e.value for e in at.error)
    _upload(at, b"\xff\xfe\x00\x00binary")
    assert any("not UTF-8" in e.value for e in at.error)
    _upload(at, b"candidate,reference\n" + b"a,b\n" * (corpus_scoring.MAX_CSV_ROWS + 1))
    assert any(f"the limit is {corpus_scoring.MAX_CSV_ROWS:,}" in e.value for e in at.error)
    _upload(at, b"candidate,reference\n" + b"x" * (corpus_scoring.MAX_CSV_BYTES + 10) + b",y\n")
    assert any("MB; the limit is" in e.value for e in at.error)
    assert not at.metric   # nothing was scored from a rejected file
