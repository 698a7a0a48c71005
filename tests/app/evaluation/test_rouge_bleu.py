"""AppTest: ROUGE and BLEU by hand. Widgets moved by key; the shown numbers must equal
rouge-score's and sacreBLEU's; learner HTML is shown literally."""
import json

import sacrebleu
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU

from lessons.evaluation import presets, rouge
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w2_rouge_bleu.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _lib_rouge(cand, ref, stem=False, tokenizer=None):
    return rouge_scorer.RougeScorer(list(rouge.ROUGE_TYPES), use_stemmer=stem, tokenizer=tokenizer).score(ref, cand)


def _frame(at, column):
    """The first dataframe shown that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_default_scores_equal_libraries_and_presets_change_them():
    at = open_page(PAGE, timeout=90)
    p = presets.PRESETS["Dialogue summary"]
    lib = _lib_rouge(p["candidate"], p["reference"])
    for k in rouge.ROUGE_TYPES:
        assert _metric(at, k) == f"{lib[k].fmeasure:.3f}"
    assert _metric(at, "BLEU") == f"{sacrebleu.sentence_bleu(p['candidate'], [p['reference']]).score:.1f}"
    table = _frame(at, "rouge-score F1")
    assert (table["equal"] == "✓ yes").all()
    # clipping preset: 'the' x7 against a reference with 2 'the's
    at.selectbox(key="rouge-bleu.preset").select("Clipping: one word repeated").run()
    assert at.text_area(key="rouge-bleu.candidate").value == "the the the the the the the"
    assert _metric(at, "rouge1") == f"{2 * (2 / 7) * (2 / 6) / (2 / 7 + 2 / 6):.3f}"
    clipped = _frame(at, "clipped = min")
    row = clipped[clipped["n-gram"] == "the"].iloc[0]
    assert (row["in candidate"], row["in reference"], row["clipped = min"]) == (7, 2, 2)
    assert any(r"\frac{2}{7}" in l.value for l in at.latex)
    # rougeL vs rougeLsum on swapped sentences
    at.selectbox(key="rouge-bleu.preset").select("rougeL vs rougeLsum (two sentences)").run()
    assert _metric(at, "rougeLsum") == "1.000" and _metric(at, "rougeL") == "0.500"
    assert "Candidate sentences: **2**, reference sentences: **2**" in texts(at)


def test_html_in_learner_text_is_shown_literally_and_empty_input_is_explained():
    at = open_page(PAGE, timeout=90)
    at.text_area(key="rouge-bleu.candidate").input("<b>Amanda</b> baked :red[cookies] <script>x</script>").run()
    assert_no_exception(at)
    shown = [m.value for m in at.markdown if "script" in m.value and "background" in m.value]
    assert len(shown) == 2, "the highlighted candidate (ROUGE-N and ROUGE-L tabs) is missing"
    for md in shown:
        assert r"\<b\>" in md and "<b>" not in md and "<script>" not in md
        assert r"\:red\[" in md and ":red[" not in md   # a learner cannot open a markdown directive
        assert ":green-background[Amanda]" in md or ":orange-background[Amanda]" in md
    at.text_area(key="rouge-bleu.candidate").input("   ").run()
    assert_no_exception(at)
    assert "Type some candidate to start." in texts(at)


def test_non_latin_pitfall_and_unicode_fix_and_stemming():
    at = open_page(PAGE, timeout=90)
    at.selectbox(key="rouge-bleu.preset").select("Non-Latin text (the pitfall)").run()
    assert any("invisible to ROUGE" in w.value for w in at.warning)
    assert _metric(at, "rouge1") == "0.000"
    assert float(_metric(at, "BLEU")) > 0   # 13a keeps those characters
    at.radio(key="rouge-bleu.tokenizer").set_value("Unicode words (NOT the default)").run()
    p = presets.PRESETS["Non-Latin text (the pitfall)"]
    lib = _lib_rouge(p["candidate"], p["reference"], tokenizer=rouge.UnicodeTokenizer())
    assert _metric(at, "rouge1") == f"{lib['rouge1'].fmeasure:.3f}" != "0.000"
    assert not any("invisible to ROUGE" in w.value for w in at.warning)
    # stemming
    at.radio(key="rouge-bleu.tokenizer").set_value("rouge-score default (a-z, 0-9 only)").run()
    at.selectbox(key="rouge-bleu.preset").select("Stemming helps").run()
    p = presets.PRESETS["Stemming helps"]
    off = _metric(at, "rouge1")
    at.toggle(key="rouge-bleu.stem").set_value(True).run()
    on = _metric(at, "rouge1")
    assert off == f"{_lib_rouge(p['candidate'], p['reference'])['rouge1'].fmeasure:.3f}"
    assert on == f"{_lib_rouge(p['candidate'], p['reference'], stem=True)['rouge1'].fmeasure:.3f}"
    assert float(on) > float(off)


def test_bleu_tab_smoothing_refs_and_signature():
    at = open_page(PAGE, timeout=90)
    at.selectbox(key="rouge-bleu.preset").select("Clipping: one word repeated").run()
    cand, ref = "the the the the the the the", "the cat is on the mat"
    assert "nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:" in texts(at)
    lib = sacrebleu.sentence_bleu(cand, [ref])
    assert f"**By hand: {lib.score:.4f}** · sacreBLEU: {lib.score:.4f} (✓ equal)" in texts(at)
    assert "100 / (2^k" in texts(at)
    at.selectbox(key="rouge-bleu.smooth").select("floor").run()
    at.checkbox(key="rouge-bleu.eff").uncheck().run()
    at.text_area(key="rouge-bleu.more_refs").input("the the cat\n").run()
    metric = BLEU(smooth_method="floor", effective_order=False)
    lib = metric.sentence_score(cand, [ref, "the the cat"])
    assert f"**By hand: {lib.score:.4f}** · sacreBLEU: {lib.score:.4f} (✓ equal)" in texts(at)
    assert str(metric.get_signature()) in texts(at)
    assert "nrefs:2" in str(metric.get_signature())
    at.radio(key="rouge-bleu.bleu_n").set_value(1).run()
    counts = _frame(at, "max in one reference")
    the = counts[counts["n-gram"] == "the"].iloc[0]
    assert (the["in candidate"], the["max in one reference"], the["clipped"]) == (7, 2, 2)
    # the LCS figure carries the table and the traced path
    at.selectbox(key="rouge-bleu.preset").select("Shuffled words").run()
    fig = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-rouge-bleu.lcs")).proto.spec)
    assert fig["data"][0]["type"] == "heatmap"
    assert [t["name"] for t in fig["data"][1:]] == ["back-trace path", "match (diagonal step)"]
    assert len(fig["data"][2]["x"]) == 4   # 4 LCS matches starred


def test_long_and_punctuation_only_texts():
    at = open_page(PAGE, timeout=90)
    words = "the cat sat on a mat and dog ran".split()
    cand = " ".join(words[(i * 7) % 9] for i in range(55))     # > 48 tokens: the numpy LCS path
    ref = " ".join(words[(i * 5) % 9] for i in range(50))
    at.text_area(key="rouge-bleu.candidate").input(cand).run()
    at.text_area(key="rouge-bleu.reference").input(ref).run()
    lib = _lib_rouge(cand, ref)
    assert _metric(at, "rougeL") == f"{lib['rougeL'].fmeasure:.3f}"
    fig = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-rouge-bleu.lcs")).proto.spec)
    assert len(fig["data"][2]["x"]) == round(lib["rougeL"].precision * 55)   # one star per LCS token
    at.text_area(key="rouge-bleu.candidate").input("x " * 1500).run()
    assert any("only the first 2,000 are used" in w.value for w in at.warning)
    at.text_area(key="rouge-bleu.candidate").input("!!! ???").run()
    assert_no_exception(at)
    assert _metric(at, "rouge1") == "0.000"
    assert any("needs tokens on both sides" in i.value for i in at.info)
