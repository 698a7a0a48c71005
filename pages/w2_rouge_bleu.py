# lesson: ROUGE and BLEU, by hand
# week: 2
# order: 10
# icon: 📏
# topics: ROUGE-1, ROUGE-2, ROUGE-L, ROUGE-Lsum, LCS, BLEU, clipping, brevity penalty, chrF
# summary: Every count behind ROUGE and BLEU, with the LCS table, clipping and smoothing, checked against rouge-score and sacreBLEU.
"""ROUGE and BLEU computed by hand (lessons.evaluation) for a candidate and a reference,
with every intermediate shown and the library figures beside ours."""
import pandas as pd
import streamlit as st

from lessons.evaluation import bleu, crosscheck, presets, rouge
from ui import charts, common, inputs
from ui import evaluation as uev

st.title("📏 ROUGE and BLEU, by hand")
st.markdown(
    "Summaries and translations are scored by counting how many words of the model's "
    "**candidate** also appear in a human **reference**. *ROUGE* (recall-oriented, used for "
    "summarization) and *BLEU* (precision-oriented, used for translation) are the numbers "
    "papers publish. Below, every count behind them is computed by our own code and checked "
    "against **rouge-score** and **sacreBLEU**."
)

# --------------------------------------------------------------------------- inputs
PRESET_NAMES = list(presets.PRESETS)


def _load_preset() -> None:
    p = presets.PRESETS[st.session_state["rouge-bleu.preset"]]
    st.session_state["rouge-bleu.candidate"] = p["candidate"]
    st.session_state["rouge-bleu.reference"] = p["reference"]


if "rouge-bleu.candidate" not in st.session_state:
    st.session_state["rouge-bleu.preset"] = PRESET_NAMES[0]
    _load_preset()

st.selectbox("Example", PRESET_NAMES, key="rouge-bleu.preset", on_change=_load_preset,
             help="Each example shows one property of the metrics. You can edit both texts.")
_preset = presets.PRESETS[st.session_state["rouge-bleu.preset"]]
if (st.session_state.get("rouge-bleu.candidate"), st.session_state.get("rouge-bleu.reference")) == \
        (_preset["candidate"], _preset["reference"]):
    st.info(_preset["lesson"], icon="💡")
else:  # the learner's own texts: the example's explanation no longer applies
    st.caption("Your own texts (edited from the example): the scores below are for exactly what is in the boxes.")
c1, c2 = st.columns(2)
with c1:
    cand_raw = st.text_area("Candidate (the model's output)", key="rouge-bleu.candidate", height=110)
with c2:
    ref_raw = st.text_area("Reference (written by a human)", key="rouge-bleu.reference", height=110,
                           help="Put sentences on separate lines to see rougeLsum differ from rougeL.")
o1, o2 = st.columns(2)
with o1:
    stem = st.toggle("Porter stemming (ROUGE)", key="rouge-bleu.stem",
                     help="rouge-score's use_stemmer=True: words longer than 3 letters are cut to their stem.")
with o2:
    tok_label = st.radio(
        "ROUGE tokenizer", ["rouge-score default (a-z, 0-9 only)", "Unicode words (NOT the default)"],
        key="rouge-bleu.tokenizer", horizontal=True,
        help="The default drops every character outside a-z and 0-9. The Unicode option keeps all "
             "scripts (each Chinese/Japanese character is one token); papers use the default.",
    )
tokenizer = "default" if tok_label.startswith("rouge-score") else "unicode"

cand = inputs.clean_text(cand_raw, what="candidate")
ref = inputs.clean_text(ref_raw, what="reference")
if cand is None or ref is None:
    common.stop_page()

rb = rouge.rouge_breakdown(cand, ref, use_stemmer=stem, tokenizer=tokenizer)
cand_tok, ref_tok = rb.candidate_tokens, rb.reference_tokens
if tokenizer == "default":
    dropped = [t for t in rouge.tokenize(cand + " " + ref, tokenizer="unicode") if not t.isascii()]
    if dropped:
        st.warning(
            f"rouge-score's default tokenizer keeps only a-z and 0-9, so {len(dropped)} word(s) or "
            f"characters of your text are invisible to ROUGE (e.g. {inputs.md_escape(' '.join(dropped[:5]))}). "
            "Non-Latin text then scores 0 or near 0 whatever its quality. Fix: choose **Unicode words** "
            "above (clearly not the default, so do not compare those numbers with papers).", icon="⚠️")

# library figures beside ours (cheap)
lib = crosscheck.rouge_library(cand, ref, stem, tokenizer)
bl = bleu.bleu_breakdown(cand, [ref])
lib_bleu_score, _ = crosscheck.bleu_library(cand, [ref])
chrf = bleu.chrf(cand, [ref])

st.subheader("All scores")
table = []
for k in rouge.ROUGE_TYPES:
    s = rb[k]
    table.append({"metric": k, "precision": s.precision, "recall": s.recall, "F1": s.fmeasure,
                  "rouge-score F1": lib[k].fmeasure,
                  "equal": "✓ yes" if crosscheck.agrees(s.fmeasure, lib[k].fmeasure) else "✗ NO"})
table.append({"metric": "BLEU", "precision": None, "recall": None, "F1": bl.score / 100,
              "rouge-score F1": None, "equal": "✅" if crosscheck.agrees(bl.score, lib_bleu_score) else "❌"})
table.append({"metric": "chrF", "precision": None, "recall": None, "F1": chrf / 100,
              "rouge-score F1": None, "equal": "(sacreBLEU)"})
m = st.columns(6)
for col, row in zip(m, table):
    col.metric(row["metric"], f"{row['F1']:.3f}" if row["metric"].startswith("rouge") else f"{row['F1'] * 100:.1f}",
               help="F1 (0..1)" if row["metric"].startswith("rouge") else "0..100, as sacreBLEU reports")
charts.show(uev.score_bars(table[:4] + [{"metric": "BLEU/100", "F1": bl.score / 100},
                                            {"metric": "chrF/100", "F1": chrf / 100}]), key="rouge-bleu.bars", main=True)
st.dataframe(pd.DataFrame(table[:4]), hide_index=True, width="stretch",
             column_config={k: st.column_config.NumberColumn(format="%.6f")
                            for k in ("precision", "recall", "F1", "rouge-score F1")})
st.caption(f"BLEU by hand {bl.score:.6f} · sacreBLEU {lib_bleu_score:.6f} "
           f"{'(✓ equal)' if crosscheck.agrees(bl.score, lib_bleu_score) else '(✗ differs)'} · chrF {chrf:.2f} "
           f"(sacreBLEU's CHRF). Candidate: {len(cand_tok)} ROUGE tokens; reference: {len(ref_tok)}.")

tab_n, tab_l, tab_lsum, tab_bleu = st.tabs(["ROUGE-1 / ROUGE-2", "ROUGE-L (LCS table)", "ROUGE-Lsum", "BLEU and chrF"])

# --------------------------------------------------------------------------- ROUGE-N
with tab_n:
    st.latex(r"P_n=\frac{\sum_g \min(\mathrm{cand}_g,\mathrm{ref}_g)}{\#\,\text{cand }n\text{-grams}}\quad "
             r"R_n=\frac{\sum_g \min(\mathrm{cand}_g,\mathrm{ref}_g)}{\#\,\text{ref }n\text{-grams}}\quad "
             r"F_1=\frac{2PR}{P+R}")
    n = st.radio("n-gram size", [1, 2], key="rouge-bleu.n", horizontal=True, format_func=lambda v: f"ROUGE-{v}")
    s = rb[f"rouge{n}"]
    st.latex(rf"P_{n}=\frac{{{s.overlap}}}{{{s.candidate_total}}}={s.precision:.3f}\qquad "
             rf"R_{n}=\frac{{{s.overlap}}}{{{s.reference_total}}}={s.recall:.3f}\qquad F_1={s.fmeasure:.3f}")
    st.markdown("**Candidate** — credited n-grams highlighted (after clipping)")
    st.markdown(uev.highlight_md(cand, cand_tok, s.cand_marked))
    st.markdown("**Reference**")
    st.markdown(uev.highlight_md(ref, ref_tok, s.ref_marked))
    df = pd.DataFrame([{"n-gram": " ".join(r.ngram), "in candidate": r.candidate, "in reference": r.reference,
                        "clipped = min": r.clipped} for r in s.rows])
    st.markdown("**Clipped counts** — an n-gram is credited at most as often as the reference has it:")
    st.dataframe(df, hide_index=True, width="stretch", height=min(36 * (len(df) + 1) + 3, 320))
    st.caption("Tokens are what ROUGE compares: lower-cased" + (", stemmed" if stem else "") + ": "
               + " · ".join(t.text for t in cand_tok[:40]) + (" …" if len(cand_tok) > 40 else ""))

# --------------------------------------------------------------------------- ROUGE-L
with tab_l:
    L = rb["rougeL"]
    st.markdown(
        "ROUGE-L looks for the **longest common subsequence** (LCS): the longest list of tokens that "
        "appear in both texts in the same order, gaps allowed. It is found with a dynamic-programming "
        "table: cell *(i, j)* holds the LCS length of the first *i* reference tokens and the first "
        "*j* candidate tokens."
    )
    st.latex(r"T[i][j]=\begin{cases}T[i-1][j-1]+1 & \text{if } \mathrm{ref}_i=\mathrm{cand}_j\\"
             r"\max(T[i-1][j],\,T[i][j-1]) & \text{otherwise}\end{cases}")
    st.latex(rf"P_L=\frac{{LCS}}{{|\mathrm{{cand}}|}}=\frac{{{L.lcs_length}}}{{{L.candidate_total}}}={L.precision:.3f}"
             rf"\qquad R_L=\frac{{{L.lcs_length}}}{{{L.reference_total}}}={L.recall:.3f}\qquad F_1={L.fmeasure:.3f}")
    fig = uev.lcs_figure(L, [t.text for t in ref_tok], [t.text for t in cand_tok])
    if fig is None:
        st.info(f"The table is {len(ref_tok)} x {len(cand_tok)} tokens: it is drawn up to "
                f"{uev.MAX_TABLE_SIDE} x {uev.MAX_TABLE_SIDE} (and needs tokens on both sides). "
                "Shorten the texts to see it; the score above is still exact.")
    else:
        charts.show(fig, key="rouge-bleu.lcs")
        st.caption("Read the path from the bottom-right corner: a ★ is a match (step diagonally), "
                   "otherwise step towards the larger neighbour (left if strictly larger, else up) — "
                   "the same tie-breaking as rouge-score.")
    st.markdown("**LCS:** " + (inputs.md_escape(" → ".join(L.lcs)) if L.lcs else "*(none)*"))
    st.markdown("**Candidate**")
    st.markdown(uev.highlight_md(cand, cand_tok, L.cand_marked, "orange"))
    st.markdown("**Reference**")
    st.markdown(uev.highlight_md(ref, ref_tok, L.ref_marked, "orange"))

# --------------------------------------------------------------------------- ROUGE-Lsum
with tab_lsum:
    S = rb["rougeLsum"]
    st.markdown(
        "**rougeLsum** is the *summary-level* LCS. rouge-score splits both texts into sentences "
        "**on newlines only** (a one-line paragraph is one sentence). For every reference sentence "
        "it takes the **union** of its LCS with each candidate sentence; a token is credited at most "
        "as often as it occurs in both summaries."
    )
    st.latex(rf"P_{{Lsum}}=\frac{{\text{{hits}}}}{{|\mathrm{{cand}}|}}=\frac{{{S.hits}}}{{{S.candidate_total}}}="
             rf"{S.precision:.3f}\qquad R_{{Lsum}}=\frac{{{S.hits}}}{{{S.reference_total}}}={S.recall:.3f}"
             rf"\qquad F_1={S.fmeasure:.3f}\quad(\text{{rougeL }}F_1={rb['rougeL'].fmeasure:.3f})")
    st.markdown(f"Candidate sentences: **{S.n_candidate_sentences}**, reference sentences: **{len(S.sentences)}**.")
    if S.sentences:
        st.dataframe(pd.DataFrame([{"reference sentence": " ".join(x.reference_sentence),
                                    "union LCS with candidate sentences": " ".join(x.union_lcs),
                                    "hits credited": x.hits} for x in S.sentences]),
                     hide_index=True, width="stretch")
    if "\n" not in cand.strip() and "\n" not in ref.strip():
        st.info("Both texts are a single line, so rougeLsum equals rougeL here. Pick the example "
                "'rougeL vs rougeLsum (two sentences)' or press Enter between sentences.")

# --------------------------------------------------------------------------- BLEU
with tab_bleu:
    st.markdown(
        "BLEU averages **clipped n-gram precisions** for n = 1..4 with a geometric mean and multiplies "
        "by a **brevity penalty**, because precision alone rewards very short outputs. Text is "
        "tokenized with sacreBLEU's `13a` tokenizer (punctuation split off, case kept)."
    )
    b1, b2, b3 = st.columns(3)
    with b1:
        smooth = st.selectbox("Smoothing", ["exp", "floor", "add-k", "none"], key="rouge-bleu.smooth",
                              help="What to do with an n-gram precision of 0. sacreBLEU's default is exp.")
    with b2:
        eff = st.checkbox("Effective order", value=True, key="rouge-bleu.eff",
                          help="sentence_bleu's default: skip n-gram orders the candidate is too short to have.")
    with b3:
        more = st.text_area("More references (one per line, up to 4, optional)", key="rouge-bleu.more_refs", height=68)
    extra = [r for r in (inputs.clean_text(more, what="references", allow_empty=True) or "").split("\n") if r.strip()]
    refs = [ref] + extra[:4]
    B = bleu.bleu_breakdown(cand, refs, smooth_method=smooth, effective_order=eff)
    lib_b_score, _ = crosscheck.bleu_library(cand, refs, smooth, eff)
    rows = []
    for k in range(4):
        rows.append({"n": k + 1, "clipped matches": B.counts[k], "candidate n-grams": B.totals[k],
                     "precision %": B.precisions[k],
                     "note": ("smoothed" if B.smoothed[k] else "")
                             + ("not used (effective order)" if k >= B.orders_used else "")})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"precision %": st.column_config.NumberColumn(format="%.2f")})
    c, r = B.sys_len, B.ref_len
    bp_tex = (rf"BP = 1 \;(c={c}\ge r={r})" if c >= r else
              rf"BP = e^{{1-r/c}} = e^{{1-{r}/{c}}} = {B.brevity_penalty:.4f}" if c > 0 else r"BP = 0 \;(c = 0)")
    st.latex(bp_tex)
    N = B.orders_used
    terms = r"\cdot ".join(f"{p:.2f}" for p in B.precisions[:N])
    st.latex(rf"\text{{BLEU}} = BP\cdot\Big(\prod_{{n=1}}^{{{N}}} p_n\Big)^{{1/{N}}} = {B.brevity_penalty:.4f}"
             rf"\cdot ({terms})^{{1/{N}}} = {B.score:.4f}")
    if not any(B.counts):
        st.caption("No n-gram matched at all: BLEU is 0 whatever the smoothing.")
    elif any(B.smoothed):
        notes = [rf"p_{t['order']} = \frac{{100}}{{2^{{{t['kth']}}}\cdot {t['total']:g}}} = {t['precision']:.2f}"
                 if smooth == "exp" else
                 rf"p_{t['order']} = \frac{{100\cdot {bleu.SMOOTH_DEFAULTS['floor']}}}{{{t['total']:g}}} = {t['precision']:.2f}"
                 for t in bleu.smoothing_terms(B)]
        st.markdown("A zero precision would make the geometric mean 0, so it is **smoothed**"
                    + (" (exp: the k-th zero becomes 100 / (2^k · n-grams)):" if smooth == "exp" else " (floor):"))
        st.latex(r"\qquad ".join(notes))
    elif smooth == "none" and 0 in B.counts[:B.orders_used]:
        st.caption("Without smoothing one zero precision makes BLEU 0.")
    st.markdown(f"**By hand: {B.score:.4f}** · sacreBLEU: {lib_b_score:.4f} "
                f"{'(✓ equal)' if crosscheck.agrees(B.score, lib_b_score) else '(✗ differs)'} · "
                f"**chrF: {bleu.chrf(cand, refs):.2f}** (character n-grams, gives partial credit to word forms)")
    st.markdown("sacreBLEU signature (report it with every BLEU so others can reproduce the number):")
    st.code(B.signature, language=None)
    with st.expander("Clipped n-gram counts (BLEU)"):
        order = st.radio("order", [1, 2, 3, 4], key="rouge-bleu.bleu_n", horizontal=True)
        seg = B.segment
        st.dataframe(pd.DataFrame([{"n-gram": x.ngram, "in candidate": x.candidate,
                                    "max in one reference": x.max_reference, "clipped": x.clipped}
                                   for x in seg.rows if x.n == order]),
                     hide_index=True, width="stretch")
        st.markdown("What sacreBLEU compares (13a tokens):")
        st.code("candidate: " + " ".join(seg.hyp_tokens) + "\n"
                + "\n".join(f"reference {i + 1}: " + " ".join(t) for i, t in enumerate(seg.ref_tokens)),
                language=None)

common.try_this(
    "Pick **Clipping: one word repeated**: unigram precision is 2/7, not 7/7. Then type more 'the's.",
    "Pick **Shuffled words**: ROUGE-1 recall is 1.0 while ROUGE-2 is 0 — why does ROUGE-L stay low?",
    "Pick **rougeL vs rougeLsum**, then put the two candidate sentences on ONE line: rougeLsum stays 1.000 "
    "(each reference sentence still finds its words). Now put the reference on one line too: rougeLsum falls "
    "to rougeL's 0.500.",
    "Pick **Stemming helps** and flip the stemming toggle: which tokens change?",
    "Pick **Non-Latin text**: all ROUGE scores are 0 with the default tokenizer; switch to Unicode words. "
    "BLEU and chrF were never blind to it.",
    "In the BLEU tab, make the candidate one word long: watch the brevity penalty, then switch off "
    "'Effective order' and the smoothing.",
    "Add a second reference that uses the candidate's words: BLEU rises (clipping uses the max count over references).",
)
