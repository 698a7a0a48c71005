"""ROUGE and BLEU by hand (lessons/evaluation/rouge.py, bleu.py) against rouge-score and sacreBLEU.

Every figure must equal the reference library to 1e-9 on a case table that covers the
edge cases (empty strings, punctuation only, repeated words, multi-sentence text with
newlines, numbers, non-Latin scripts, HTML-looking input)."""
from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest
import sacrebleu
from rouge_score import rouge_scorer, tokenize as rs_tokenize
from rouge_score.tokenizers import DefaultTokenizer
from sacrebleu.metrics import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from lessons.evaluation import bleu, corpus_scoring, presets, rouge, summaries

TOL = 1e-9

CASES = [
    ("", ""),
    ("", "the cat sat on the mat"),
    ("the cat sat on the mat", ""),
    ("...!!!", "?? ,,"),
    ("!!!", "the cat"),
    ("the the the the the the the", "the cat is on the mat"),
    ("the cat sat on the mat", "the cat sat on the mat"),
    ("The Cat sat ON the mat.", "the cat sat on the mat"),
    ("Amanda baked cookies and will bring some to Jerry tomorrow.",
     "Amanda baked cookies and will bring Jerry some tomorrow."),
    ("tomorrow bring Jerry cookies some will Amanda baked and",
     "Amanda baked cookies and will bring Jerry some tomorrow."),
    ("Jerry will pick up the cake.\nAmanda is sending the invitations today.",
     "Amanda is sending the invitations today.\nJerry will pick up the cake."),
    ("a b c a b\n\nc a b\n", "a b\nc a b c\nb a"),
    ("one sentence only", "first line\nsecond line\n"),
    ("\n\n\n", "x y\n"),
    ("  \n  ", "x y"),
    ("The meeting is at 10:30, room 4-B; bring 2 laptops!",
     "Meeting at 10:30 in room 4B, bring two laptops."),
    ("In 2024, 3.5% of 1,000 users paid $9.99.", "In 2024 3.5 % of 1000 users paid 9.99 dollars."),
    ("猫はマットの上に座った。Кошка сидит на коврике.", "猫がマットの上に座っている。Кошка сидела на коврике."),
    ("Café naïve İstanbul ΟΔΟΣ straße", "cafe naive istanbul οδος strasse"),
    ("<b>bold</b> &amp; <script>alert(1)</script>", "bold & alert"),
    ("The cats were running and jumped over the fences.", "The cat runs and jumps over the fence."),
    ("emoji 🙂 are fun 🎉 fun", "emoji are fun"),
    ("a a a b b", "a b a b a b"),
    ("x", "x"),
    ("x y", "y x"),
]


def _close(a, b):
    return abs(a - b) <= TOL


# --------------------------------------------------------------------------- tokenizer
@pytest.mark.parametrize("stem", [False, True])
def test_rouge_tokens_equal_rouge_score_tokenizer(stem):
    lib = DefaultTokenizer(stem)
    rng = random.Random(0)
    alphabet = "abcXYZ019 .,;:!?-'\n\tÉéİßΣσ猫кот🙂<>&"
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    for text in [c for pair in CASES for c in pair] + fuzz:
        assert rouge.tokenize(text, stem) == lib.tokenize(text), text
        # spans point at the original text
        for tok in rouge.rouge_tokens(text, stem):
            assert 0 <= tok.start < tok.end <= len(text)


def test_non_latin_is_dropped_by_default_and_kept_by_unicode_option():
    assert rouge.tokenize("猫はマット Кошка") == []
    assert rs_tokenize.tokenize("猫はマット Кошка", None) == []
    assert rouge.tokenize("猫はマット Кошка", tokenizer="unicode") == ["猫", "は", "マ", "ッ", "ト", "кошка"]


# --------------------------------------------------------------------------- ROUGE
@pytest.mark.parametrize("stem", [False, True])
@pytest.mark.parametrize("cand,ref", CASES)
def test_rouge_breakdown_equals_rouge_score(cand, ref, stem):
    lib = rouge_scorer.RougeScorer(list(rouge.ROUGE_TYPES), use_stemmer=stem).score(ref, cand)
    ours = rouge.rouge_breakdown(cand, ref, use_stemmer=stem)
    for k in rouge.ROUGE_TYPES:
        for f in ("precision", "recall", "fmeasure"):
            assert _close(getattr(ours[k], f), getattr(lib[k], f)), (k, f, getattr(ours[k], f), getattr(lib[k], f))


@pytest.mark.parametrize("cand,ref", CASES)
def test_unicode_option_counts_equal_rouge_score_with_same_tokenizer(cand, ref):
    lib = rouge_scorer.RougeScorer(list(rouge.ROUGE_TYPES), tokenizer=rouge.UnicodeTokenizer()).score(ref, cand)
    ours = rouge.rouge_breakdown(cand, ref, tokenizer="unicode")
    for k in rouge.ROUGE_TYPES:
        assert _close(ours[k].fmeasure, lib[k].fmeasure), k
        assert _close(ours[k].precision, lib[k].precision), k


def test_rouge_random_texts_equal_rouge_score():
    rng = random.Random(1)
    words = "a b c d e the cat sat mat on\n".split(" ")
    scorer = rouge_scorer.RougeScorer(list(rouge.ROUGE_TYPES))
    for _ in range(150):
        cand = " ".join(rng.choice(words) for _ in range(rng.randint(0, 25)))
        ref = " ".join(rng.choice(words) for _ in range(rng.randint(0, 25)))
        lib = scorer.score(ref, cand)
        ours = rouge.rouge_breakdown(cand, ref)
        for k in rouge.ROUGE_TYPES:
            assert _close(ours[k].fmeasure, lib[k].fmeasure), (k, cand, ref)


def test_clipping_counts_for_repeated_word():
    r1 = rouge.rouge_breakdown("the the the the the the the", "the cat is on the mat")["rouge1"]
    row = next(r for r in r1.rows if r.ngram == ("the",))
    assert (row.candidate, row.reference, row.clipped) == (7, 2, 2)
    assert r1.overlap == 2 and r1.candidate_total == 7 and r1.reference_total == 6
    assert r1.precision == pytest.approx(2 / 7) and r1.recall == pytest.approx(2 / 6)
    # only two of the seven candidate 'the's are highlighted as credited
    assert r1.cand_marked == [0, 1] and r1.ref_marked == [0, 4]


def test_lcs_table_and_path_match_rouge_score_helpers():
    ref = "the cat sat on the mat".split()
    cand = "the cat on mat sat".split()
    table = rouge.lcs_table(ref, cand)
    assert table == rouge_scorer._lcs_table(ref, cand)
    path, pairs = rouge.lcs_backtrack(table, ref, cand)
    assert [i for i, _ in pairs] == rouge_scorer._backtrack_norec(table, ref, cand)
    assert len(pairs) == table[-1][-1] == 4
    assert path[0] == (len(ref), len(cand))
    assert all(ref[i] == cand[j] for i, j in pairs)


def test_rouge_shuffled_words_has_full_unigram_recall_but_low_order_scores():
    b = rouge.rouge_breakdown(presets.PRESETS["Shuffled words"]["candidate"], presets.PRESETS["Shuffled words"]["reference"])
    assert b["rouge1"].recall == 1.0
    assert b["rouge2"].fmeasure < 0.2 and b["rougeL"].fmeasure < 0.5


def test_rougelsum_beats_rougel_on_swapped_sentences():
    p = presets.PRESETS["rougeL vs rougeLsum (two sentences)"]
    b = rouge.rouge_breakdown(p["candidate"], p["reference"])
    assert b["rougeLsum"].fmeasure == 1.0
    assert b["rougeL"].fmeasure < 0.7
    assert len(b["rougeLsum"].sentences) == 2


def test_highlight_segments_cover_text_and_keep_html_literal():
    text = "<b>bold</b> cat"
    toks = rouge.rouge_tokens(text)
    assert [t.text for t in toks] == ["b", "bold", "b", "cat"]
    segs = rouge.highlight_segments(text, toks, [1, 3])
    assert "".join(p for p, _ in segs) == text
    assert [p for p, on in segs if on] == ["bold", "cat"]


# --------------------------------------------------------------------------- BLEU
BLEU_CASES = [(c, [r]) for c, r in CASES] + [
    ("the cat is on the mat", ["there is a cat on the mat", "the cat sits on the mat"]),
    ("a b c d e f", ["a b c", "a b c d e f g h", "x"]),
    ("It is a guide to action which ensures that the military always obeys the commands of the party.",
     ["It is a guide to action that ensures that the military will forever heed Party commands.",
      "It is the guiding principle which guarantees the military forces always being under the command of the Party.",
      "It is the practical guide for the army always to heed the directions of the party."]),
    ("short", ["a much longer reference sentence here", "tiny ref"]),
]


@pytest.mark.parametrize("cand,refs", BLEU_CASES)
def test_bleu_breakdown_equals_sacrebleu_sentence_bleu(cand, refs):
    lib = sacrebleu.sentence_bleu(cand, refs)
    ours = bleu.bleu_breakdown(cand, refs)
    assert _close(ours.score, lib.score), (ours.score, lib.score)
    for a, b in zip(ours.precisions, lib.precisions):
        assert _close(a, b)
    assert _close(ours.brevity_penalty, lib.bp)
    assert (ours.sys_len, ours.ref_len) == (lib.sys_len, lib.ref_len)
    assert list(ours.counts) == list(lib.counts) and list(ours.totals) == list(lib.totals)


@pytest.mark.parametrize("method,value", [("exp", None), ("floor", None), ("floor", 0.5),
                                          ("add-k", None), ("add-k", 2), ("none", None)])
@pytest.mark.parametrize("eff", [True, False])
def test_bleu_smoothing_choices_equal_sacrebleu(method, value, eff):
    for cand, refs in BLEU_CASES:
        metric = BLEU(smooth_method=method, smooth_value=value, effective_order=eff)
        lib = metric.sentence_score(cand, refs)
        ours = bleu.bleu_breakdown(cand, refs, smooth_method=method, smooth_value=value, effective_order=eff)
        assert _close(ours.score, lib.score), (method, value, eff, cand)
        assert ours.signature == str(metric.get_signature())


def test_bleu_signature_matches_sacrebleu():
    metric = BLEU(effective_order=True)
    metric.sentence_score("a b", ["a b c"])
    assert bleu.bleu_breakdown("a b", ["a b c"]).signature == str(metric.get_signature())
    assert bleu.bleu_breakdown("a b", ["a b c"]).signature.startswith("nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|")


def test_13a_tokenizer_equals_sacrebleu():
    lib = Tokenizer13a()
    rng = random.Random(2)
    alphabet = "ab Z09.,-&;:!?'\"()<>/\n[]{}~`@#$%^*_+=|\\猫й"
    texts = [c for pair in CASES for c in pair] + ["&quot;x&quot; &amp; &lt;y&gt; <skipped> a-\nb"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(300)]
    for t in texts:
        assert bleu.tokenize_13a(t) == lib(t), t


def test_clipped_bleu_counts_and_brevity_penalty():
    b = bleu.bleu_breakdown("the the the the the the the", ["the cat is on the mat"])
    row = next(r for r in b.segment.rows if r.ngram == "the")
    assert (row.candidate, row.max_reference, row.clipped) == (7, 2, 2)
    assert b.counts[0] == 2 and b.totals[0] == 7
    short = bleu.bleu_breakdown("the cat", ["the cat is on the mat"])
    assert short.brevity_penalty == pytest.approx(2.718281828459045 ** (1 - 6 / 2))


def test_corpus_bleu_equals_sacrebleu():
    sample = corpus_scoring.load_sample()
    cands = [d["candidate"] for d in sample] + ["", "!!!"]
    refs = [d["summary"] for d in sample] + ["x y", "z"]
    lib = sacrebleu.corpus_bleu(cands, [refs])
    ours = bleu.corpus_bleu_breakdown(cands, [[r] for r in refs])
    assert _close(ours.score, lib.score)
    assert (ours.sys_len, ours.ref_len) == (lib.sys_len, lib.ref_len)
    # two reference streams
    refs2 = [d["candidate"] for d in sample] + ["y", "z z"]
    lib2 = sacrebleu.corpus_bleu(cands[::-1], [refs, refs2])
    ours2 = bleu.corpus_bleu_breakdown(cands[::-1], [[a, b] for a, b in zip(refs, refs2)])
    assert _close(ours2.score, lib2.score)
    assert "nrefs:2" in ours2.signature and "eff:no" in ours2.signature


def test_chrf_is_sacrebleu_chrf():
    assert bleu.chrf("summarise this", "summarize this") == pytest.approx(
        sacrebleu.sentence_chrf("summarise this", ["summarize this"]).score)
    assert bleu.chrf("summarise this", "summarize this") > bleu.bleu_breakdown("summarise this", ["summarize this"]).score


# --------------------------------------------------------------------------- corpus + CSV
def test_score_corpus_rows_and_corpus_values():
    pairs = corpus_scoring.sample_pairs()
    rows, corpus = corpus_scoring.score_corpus([p["candidate"] for p in pairs], [p["reference"] for p in pairs])
    assert len(rows) == len(pairs) == 16
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    assert _close(rows[0]["rougeL"], scorer.score(pairs[0]["reference"], pairs[0]["candidate"])["rougeL"].fmeasure)
    assert _close(corpus["bleu"], sacrebleu.corpus_bleu([p["candidate"] for p in pairs],
                                                        [[p["reference"] for p in pairs]]).score)
    assert _close(corpus["chrf"], sacrebleu.corpus_chrf([p["candidate"] for p in pairs],
                                                        [[p["reference"] for p in pairs]]).score)
    assert _close(corpus["rouge1"], sum(r["rouge1"] for r in rows) / len(rows))


def test_parse_pairs_csv_accepts_good_files():
    df, notes = corpus_scoring.parse_pairs_csv("Candidate,Reference,extra\n\"a, b\",c,1\nd,,2\n".encode())
    assert list(df.columns) == ["candidate", "reference"]
    assert df.iloc[0].tolist() == ["a, b", "c"] and df.iloc[1].tolist() == ["d", ""]
    assert any("empty reference" in n for n in notes)
    df, _ = corpus_scoring.parse_pairs_csv("\ufeffcandidate,reference\n猫 <b>x</b>,猫\n".encode("utf-8"))
    assert df.iloc[0, 0] == "猫 <b>x</b>"


@pytest.mark.parametrize("data,msg", [
    (b"", "empty"),
    (b"\xff\xfe\x00a", "UTF-8"),
    (b"foo,bar\n1,2\n", "Missing column"),
    (b"candidate,reference\n", "no rows"),
    (b'candidate,reference\n"a,b\n', "well-formed"),
    (b"candidate,reference\na,b,c,d\n", "well-formed"),
    (b"candidate,reference\na,\nb,\n", "Every reference is empty"),
])
def test_parse_pairs_csv_rejects_bad_files_with_clear_message(data, msg):
    with pytest.raises(corpus_scoring.CorpusError, match=msg):
        corpus_scoring.parse_pairs_csv(data)


def test_parse_pairs_csv_limits():
    big = b"candidate,reference\n" + b"a,b\n" * 20
    with pytest.raises(corpus_scoring.CorpusError, match="limit is 10"):
        corpus_scoring.parse_pairs_csv(big, max_rows=10)
    with pytest.raises(corpus_scoring.CorpusError, match="MB"):
        corpus_scoring.parse_pairs_csv(b"candidate,reference\n" + b"x" * (corpus_scoring.MAX_CSV_BYTES + 1))


def test_sample_is_well_formed():
    sample = corpus_scoring.load_sample()
    assert 10 <= len(sample) <= 20
    assert len({d["id"] for d in sample}) == len(sample)
    for d in sample:
        assert d["dialogue"].count(":") >= 2 and d["summary"] and d["candidate"]


def test_summary_messages_zero_and_few_shot():
    s = corpus_scoring.load_sample()
    zero = summaries.summary_messages(s[0]["dialogue"])
    few = summaries.summary_messages(s[0]["dialogue"], s[1:3])
    assert [m["role"] for m in zero] == ["system", "user"]
    assert [m["role"] for m in few] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert few[2]["content"] == s[1]["summary"] and s[0]["dialogue"] in few[-1]["content"]


@pytest.mark.parametrize("module", [rouge, bleu, presets, corpus_scoring, summaries])
def test_lessons_module_does_not_import_streamlit(module):
    tree = ast.parse(Path(module.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(str(n).startswith("streamlit") for n in names)


# --------------------------------------------------------------------------- benchmarks facts
def test_benchmark_facts_and_filters():
    from lessons.evaluation import benchmarks as bm

    assert [b.name for b in bm.BENCHMARKS] == ["GLUE", "SuperGLUE", "MMLU", "BIG-bench", "HELM"]
    assert bm.DIMENSIONS == ["accuracy", "calibration", "robustness", "fairness", "bias", "toxicity", "efficiency"]
    assert {b.name: b.n_tasks for b in bm.BENCHMARKS} == {"GLUE": 9, "SuperGLUE": 8, "MMLU": 57,
                                                        "BIG-bench": 204, "HELM": 42}
    assert len(bm.by_name("GLUE").examples.split(", ")) == 9
    assert len(bm.by_name("SuperGLUE").examples.split(", ")) == 8
    assert [b.name for b in bm.filter_benchmarks(dimension="fairness")] == ["HELM"]
    assert [b.name for b in bm.filter_benchmarks(["language understanding"])] == ["GLUE", "SuperGLUE"]
    names, dims, z = bm.coverage_matrix()
    assert z[names.index("HELM")] == [1.0] * 7 and all(row[0] == 1.0 for row in z)


def test_sentence_tokens_equal_tokenizing_each_line():
    rng = random.Random(3)
    alphabet = "ab cd\n\n .İΣσ猫"
    texts = [c for pair in CASES for c in pair]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(200)]
    for tok in ("default", "unicode"):
        for text in texts:
            got = rouge.sentence_tokens(text, rouge.rouge_tokens(text, tokenizer=tok))
            want = [rouge.tokenize(s, tokenizer=tok) for s in rouge.split_sentences(text)]
            assert got == want, (tok, text)


def test_numpy_lcs_table_equals_rouge_score_table_on_long_texts():
    rng = random.Random(4)
    for _ in range(20):
        ref = [rng.choice("abcdefg") for _ in range(rng.randint(0, 120))]
        cand = [rng.choice("abcdefg") for _ in range(rng.randint(rouge._NUMPY_MIN_COLS, 130))]
        assert rouge.lcs_table(ref, cand) == rouge_scorer._lcs_table(ref, cand)
    long_c = " ".join(rng.choice("the cat sat on a mat and dog ran".split()) for _ in range(200))
    long_r = " ".join(rng.choice("the cat sat on a mat and dog ran".split()) for _ in range(150))
    lib = rouge_scorer.RougeScorer(list(rouge.ROUGE_TYPES)).score(long_r, long_c)
    ours = rouge.rouge_breakdown(long_c, long_r)
    for k in rouge.ROUGE_TYPES:
        assert _close(ours[k].fmeasure, lib[k].fmeasure), k


def test_block_lcs_tables_equal_pairwise_tables_and_long_rougelsum_equals_library():
    rng = random.Random(5)
    words = "the cat sat on a mat and dog ran".split()
    for _ in range(10):
        refs = [[rng.choice(words) for _ in range(rng.randint(0, 30))] for _ in range(rng.randint(1, 8))]
        cands = [[rng.choice(words) for _ in range(rng.randint(0, 30))] for _ in range(rng.randint(1, 8))]
        block = rouge._lcs_blocks(refs, cands)
        for s, r in enumerate(refs):
            for k, c in enumerate(cands):
                assert block(s, k).tolist() == rouge_scorer._lcs_table(r, c)
    scorer = rouge_scorer.RougeScorer(["rougeLsum"])
    for _ in range(5):
        cand = "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(8))
        ref = "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(6))
        ours = rouge.rouge_breakdown(cand, ref)["rougeLsum"]
        assert _close(ours.fmeasure, scorer.score(ref, cand)["rougeLsum"].fmeasure)
        assert ours.candidate_total * ours.reference_total >= 4096   # the block path was used
