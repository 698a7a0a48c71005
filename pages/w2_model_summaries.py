# lesson: Scoring a real model's summaries
# week: 2
# order: 13
# icon: 🤖
# topics: zero-shot, few-shot, in-context learning, ROUGE, BLEU, SmolLM2
# summary: SmolLM2-135M-Instruct summarizes dialogues zero-shot and few-shot; ROUGE and BLEU say which prompt worked better.
"""SmolLM2 summarizes a few of our dialogues with a zero-shot and a few-shot prompt
(Week 1 prompting), and both outputs are scored against the references (Week 2 metrics)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.core import budget
from lessons.evaluation import corpus_scoring, model_summaries_job, summaries
from lessons.evaluation import recorded as summaries_recorded
from ui import charts, class_run_page, common, jobs, live, loaders, recorded

DEFAULTS = summaries.PAGE_DEFAULTS

st.title("🤖 Scoring a real model's summaries")
st.markdown(
    "Week 1 showed that **examples in the prompt** (few-shot, in-context learning) change what a "
    "model writes. Week 2 asks: *by how much?* Here the real **SmolLM2-135M-Instruct** summarizes "
    "short dialogues twice — with the instruction alone (zero-shot) and with a few solved examples "
    "first (few-shot) — and ROUGE and BLEU compare both with the human references."
)

sample = corpus_scoring.load_sample()
by_id = {d["id"]: d for d in sample}


def _label(i: int) -> str:
    first = by_id[i]["dialogue"].split("\n")[0]
    return f"#{i}: {first[:32]}{'…' if len(first) > 32 else ''}"


ids = st.multiselect("Dialogues to summarize (up to 4)", list(by_id), default=list(DEFAULTS["ids"]),   # own row:
                     format_func=_label, max_selections=4, key="model-summaries.ids")   # chips need width
c2, c3, _ = st.columns([1, 1, 1])
with c2:
    k = st.slider("Few-shot examples", 1, 3, DEFAULTS["shots"], key="model-summaries.shots",
                  help="Solved examples (dialogue + reference summary) put before the question. "
                       "They are taken from dialogues you did NOT select, so the answer never leaks.")
with c3:
    max_new = st.slider("Max new tokens", 8, 64, DEFAULTS["max_new_tokens"], step=8, key="model-summaries.max_tokens",
                        help="Generation stops here at the latest (bounded for a CPU).")
if not ids:
    st.info("Pick at least one dialogue.")
    common.stop_page()
shots = summaries.few_shot_examples(sample, ids, k)

with st.expander("The two prompts (chat messages sent to the model)", expanded=False):
    first = by_id[ids[0]]
    z, f = st.columns(2)
    z.markdown("**Zero-shot**")
    z.code("\n\n".join(f"[{m['role']}]\n{m['content']}" for m in summaries.summary_messages(first["dialogue"])),
           language=None)
    f.markdown(f"**Few-shot ({k} example{'s' if k > 1 else ''})**")
    f.code("\n\n".join(f"[{m['role']}]\n{m['content']}" for m in summaries.summary_messages(first["dialogue"], shots)),
           language=None)
    st.caption("Decoding is greedy (always the most likely next token), so the result is deterministic: "
               "no seed is needed and a re-run gives the same summaries.")

run_key = (tuple(ids), k, max_new)
results = st.session_state.setdefault("model-summaries.results", {})
run_settings = summaries_recorded.settings(tuple(ids), k, max_new)
SECONDS = 240.0      # one press's time limit: a dialogue that would start later is skipped for both prompts
clicked = st.button("Summarize with SmolLM2 (zero-shot and few-shot)", type="primary", key="model-summaries.run")


def smollm2_lab(device: str) -> summaries_recorded.Lab:
    """The shared SmolLM2 whose fingerprint keys the recorded run and the class run (only the
    page's defaults are recorded: lessons/evaluation/recorded.py)."""
    return summaries_recorded.Lab(loaders.smollm2(device))


def start(use_record: bool = True) -> None:
    """The button (or Run it again live): the summaries are written in a worker process
    (lessons/evaluation/model_summaries_job.py); learners who press it with the same settings share
    one run (greedy decoding writes the same summaries), and a finished one shows at once."""
    dev = common.device()
    try:
        lab = recorded.lab(summaries_recorded, dev, smollm2_lab)
    except Exception as exc:  # a missing package or a broken cache: say so, no traceback
        common.show_model_error(exc)
        common.stop_page()
    spec = model_summaries_job.spec(run_settings, SECONDS, lab.fingerprints(run_settings), jobs.budget().threads, str(dev))
    class_run_page.train_together("model-summaries", model_summaries_job.KIND, spec, shareable=True, max_seconds=SECONDS,
                                  steps=2 * len(ids), settings={"run_key": run_key}, use_record=use_record,
                                  rows_of=lambda result: [])


class_run_page.presses("model-summaries", clicked, start, see_it_end=False)
job = class_run_page.generation_result("model-summaries", "summary", what="The summaries")
lv = live.state("model-summaries")
if job is not None and lv.settings.get("run_key") is not None:
    results[lv.settings["run_key"]] = job["rows"]        # kept per settings: moving back shows them again
if lv.settings.get("run_key") == run_key:
    class_run_page.class_run_note("model-summaries", st.empty())   # a record of these settings, or a shared run

got = results.get(run_key)
rec = None if got is not None else recorded.find(summaries_recorded, summaries_recorded.KIND, summaries_recorded.settings(
    tuple(ids), k, max_new), common.device(), smollm2_lab)
if rec is not None:
    got = rec.result["rows"]
    recorded.note(rec, f"SmolLM2 with these settings (these dialogues, {k} few-shot examples, at most {max_new} "
                       "new tokens). Greedy decoding writes the same summaries every time: press **Summarize with "
                       "SmolLM2** to generate them live.")
if got is None:
    with charts.main_figure():
        st.info(f"Press the button: {2 * len(ids)} generations of at most {max_new} tokens "
                f"(on a laptop CPU roughly {3 * len(ids)}–{10 * len(ids)} s; slower when the machine is busy).")
    common.stop_page()

rows = [r for r in got if not r.get("skipped")]
skipped = [r["id"] for r in got if r.get("skipped")]
if skipped:
    st.warning(f"The time limit (240 s) was reached before dialogue(s) {', '.join(f'#{i}' for i in skipped)}: "
               "they were skipped for BOTH prompts and are left out of every score below.")
if not rows:
    common.stop_page()

st.subheader("Summaries")
for r in rows:
    st.markdown(f"**Dialogue #{r['id']}**")
    st.text(r["dialogue"])
    a, b, c = st.columns(3)
    a.markdown("*Reference*")
    a.text(r["reference"])
    for col, mode in ((b, "zero-shot"), (c, "few-shot")):
        cut = " (cut off by the token budget)" if r.get(f"{mode} cut off") else ""
        col.markdown(f"*{mode.capitalize()}* — ROUGE-L {r[f'{mode} rougeL']:.2f}, BLEU {r[f'{mode} bleu']:.1f}{cut}")
        col.text(r[mode] or "(empty)")

st.subheader("Zero-shot vs few-shot")
metrics = [("rouge1", "ROUGE-1", 1), ("rouge2", "ROUGE-2", 1), ("rougeL", "ROUGE-L", 1), ("bleu", "BLEU/100", 100)]
compared = summaries.compare_modes(rows)
mean = {mode: [compared["mean"][mode][m] / s for m, _, s in metrics] for mode in summaries.MODES}
colour = {"zero-shot": charts.BEFORE, "few-shot": charts.AFTER}
fig = go.Figure([go.Bar(name=mode, x=[lbl for _, lbl, _ in metrics], y=vals, text=[f"{v:.2f}" for v in vals],
                        textposition="outside", marker_color=colour.get(mode)) for mode, vals in mean.items()])
fig.update_layout(barmode="group", height=330, yaxis=dict(range=[0, 1.05], title="mean over dialogues"),
                  margin=dict(l=10, r=10, t=20, b=10))
charts.show(fig, key="model-summaries.bars", main=True)
names = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "bleu": "BLEU"}
table = pd.DataFrame([{"dialogue": r["id"], **{f"{mode} {names[m]}": r[f"{mode} {m}"] for mode in ("zero-shot", "few-shot")
                                                for m, _, _ in metrics}} for r in rows])
st.dataframe(table, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns if c != "dialogue"})
st.markdown(f"Few-shot has the higher ROUGE-L on **{compared['few_shot_better']} of {compared['n']}** dialogue(s). With this few "
            "examples that is an anecdote, not a result: score a whole test set before you conclude.")
st.markdown("**Cut off by the budget:** " + "; ".join(f"{mode}: {budget.text(s)}" for mode, s in compared["budget"].items())
            + ".")
if not all(s["conclusive"] for s in compared["budget"].values()):
    st.warning(f"Summaries that hit the {max_new}-token budget are scored unfinished: raise *Max new tokens* before "
               "comparing the prompts.")

common.try_this(
    "Set few-shot examples to 1, then 3: does the output copy the *style* of the examples (short, third person)?",
    "Lower max new tokens to 8: the summaries are cut off — precision may rise while recall falls.",
    "Read a summary that scores low but is correct: the metric rewards the reference's wording, not the truth.",
    "A small model sometimes just copies one line of the dialogue ('Sara: No, it moved to 4 ...'): ROUGE "
    "rewards that generously although it is not a summary.",
    "Copy a pair into 'ROUGE and BLEU, by hand' to see exactly which words matched.",
)
