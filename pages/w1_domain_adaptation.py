# lesson: Domain adaptation by continued pretraining
# week: 1
# order: 35
# icon: 🧭
# topics: domain adaptation, perplexity, continued pretraining, BloombergGPT, forgetting
# summary: Measure how surprised SmolLM2 and our Shakespeare GPT are by old and modern English, then continue pretraining the tiny GPT on modern text and watch its perplexity fall.
"""Perplexity across domains, and a live continued-pretraining run on a per-session copy."""


import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import models
from lessons.pretraining import domain_adaptation, domain_adaptation_job, tiny_gpt
from lessons.pretraining import recorded as domain_recorded
from lessons.core.perplexity import describe as describe_slice
from ui import class_run_page, charts, common, figures, inputs, jobs, live, loaders, recorded

st.title("🧭 Domain adaptation by continued pretraining")
st.markdown(
    "A model is fluent in the kind of text it was pretrained on. Legal contracts, medical notes or "
    "financial filings use words and phrasings that general web text rarely shows, so a general "
    "model is *surprised* by them: high perplexity. BloombergGPT's answer was to pretrain on a large "
    "share of financial text. The cheaper answer is **continued pretraining**: take a pretrained model "
    "and keep training it, with the same next-token objective, on text from the new domain."
)
st.latex(r"\text{PPL}(\text{text}) = \exp\Big(-\frac{1}{N}\sum_{t}\ln p_\theta(x_t\mid x_{<t})\Big)")

dev = common.device()
modern_train, modern_eval = domain_adaptation.split_paragraphs(domain_adaptation.modern_text())

# --------------------------------------------------------------------------- 1. compare
st.header("1 · Who is surprised by what?")
own_raw = st.text_area("Optional: your own text as a third domain", "", key="domain-adaptation.own", height=80, placeholder="Paste a paragraph from your field ...")
own = inputs.clean_text(own_raw, what="text", allow_empty=True)


@st.cache_data(show_spinner=False, max_entries=32)
def domain_cell(_lm, model_name: str, text: str, max_tokens: int, device: str) -> dict | None:
    """One (model, text) cell of the table, cached on its own: a learner's own text costs
    one measurement per model, and the two shipped domains are measured once per process."""
    try:
        r = domain_adaptation.text_perplexity(_lm.model, _lm.tokenizer, text, max_tokens=max_tokens)
    except ValueError:
        return None
    return domain_adaptation.domain_row(model_name, "", r)


def record_lab(device: str) -> domain_recorded.Lab:
    """The shared models the page's records are keyed by (lessons/pretraining/recorded.py)."""
    return domain_recorded.Lab(loaders.tiny_gpt(device), loaders.smollm2(device))


def measured_rows(lms: dict, texts: dict, max_tokens: int) -> list[dict]:
    rows = []
    for name, lm in lms.items():
        label = domain_adaptation.MODELS[name]
        for dom, text in texts.items():
            if (cell := domain_cell(lm, label, text, max_tokens, dev)) is not None:
                rows.append({**cell, "domain": dom})
    return rows


try:
    lms = {"tiny": loaders.tiny_gpt(dev), "smollm2": loaders.smollm2(dev)}
    tiny = lms["tiny"]
except models.ModelUnavailable as exc:
    common.show_model_error(exc)
    common.stop_page()
rec = recorded.find(domain_recorded, domain_recorded.KIND, domain_recorded.settings(), dev, record_lab)
live_key = "domain-adaptation.measure_live"
if rec is not None and not st.session_state.get(live_key):
    shipped = [dict(r) for r in rec.result["rows"]]
else:
    with st.spinner("Measuring the perplexities of the two shipped domains (SmolLM2 reads 2 × 1,024 tokens) ..."):
        shipped = measured_rows(lms, domain_adaptation.shipped_domains(), 1024)
own_rows = []
if own:
    with st.spinner("Measuring your text ..."):
        own_rows = measured_rows(lms, {domain_adaptation.OWN: own}, domain_adaptation.OWN_MAX_TOKENS)
# table order: each model's shipped domains, then its row for your text
order = list(domain_adaptation.MODELS.values())
df = pd.DataFrame(sorted(shipped + own_rows, key=lambda r: order.index(r["model"])),
                  columns=["model", "domain", "perplexity", "bits per character", "tokens scored"])
domains = list(dict.fromkeys(df["domain"]))
fig = go.Figure()
for dom in domains:
    sub = df[df["domain"] == dom]
    fig.add_trace(go.Bar(x=sub["model"], y=sub["bits per character"], name=dom,
                         text=[f"PPL {p:,.1f}" for p in sub["perplexity"]], textposition="outside"))
fig.update_layout(barmode="group", yaxis_title="bits per character (lower = less surprised)", height=360,
                  margin=dict(l=10, r=10, t=30, b=10))
charts.show(fig, key="domain-adaptation.domains_fig", main=True)
st.dataframe(df.round(3), hide_index=True, width="stretch")
if rec is not None and not st.session_state.get(live_key):
    r1, r2 = st.columns([4, 1])
    r1.caption(f"The two shipped domains are a **recorded measurement**: this code, these two models and these "
               f"texts, measured on {rec.recorded} ({rec.cpu_s:.0f} CPU-seconds, one thread). Measuring again "
               "gives the same figures (a test checks it)."
               + (" Your text is measured now." if own_rows else ""))
    if r2.button("Measure live", key="domain-adaptation.measure", help="Score the two shipped texts now "
                 f"(the record took {rec.cpu_s:.0f} CPU-seconds; once per server)"):
        st.session_state[live_key] = True
        st.rerun()
else:
    st.caption("Every figure in the table was measured on this server just now.")
st.caption("Perplexity depends on the tokenizer (SmolLM2's 49k-token vocabulary vs our 4k), so compare "
           "perplexities only within a model. **Bits per character** divides the total surprise by the "
           "characters scored and is comparable across models. The shipped texts: their first 1,024 tokens, "
           f"16 windows of 64 (for Shakespeare that is the app's {describe_slice()}: the tiny GPT's Shakespeare "
           "perplexity here is the same number as on the forgetting, distillation and pruning pages); your text: "
           f"its first {domain_adaptation.OWN_MAX_TOKENS} tokens, a paragraph.")

# --------------------------------------------------------------------------- 2. continue pretraining
st.header("2 · Continue pretraining the tiny GPT on modern English")
st.markdown("A private copy of the tiny GPT trains on the modern text (every 4th paragraph is held out for "
            "measuring). Watch two curves: perplexity on **held-out modern text** (should fall) and on "
            "**held-out Shakespeare** (may rise: the model forgets a little of its old domain; "
            "measured on the validation slice above).")
c1, c2, c3, c4 = st.columns(4)
D = domain_adaptation.TRAIN_DEFAULTS
steps = c1.slider("steps", 10, 200, D["steps"], 10, key="domain-adaptation.steps")
lr = c2.select_slider("learning rate", [1e-4, 3e-4, 1e-3, 3e-3], value=D["lr"], key="domain-adaptation.lr")
every = c3.select_slider("measure every", [5, 10, 20], value=D["every"], key="domain-adaptation.every")
seed = c4.number_input("seed", 0, 9999, D["seed"], key="domain-adaptation.seed")
n_train_tokens = len(tiny_gpt.encode(tiny.tokenizer, modern_train))
st.caption(f"Training text: {len(modern_train):,} characters = {n_train_tokens:,} tokens of the tiny GPT. "
           f"Batch 8 × 64 tokens; {steps} steps (a 10-minute safety net ends a run on a very busy server). That is a SMALL domain sample: each step "
           f"sees a third of it, so too many steps or too high a learning rate make the copy memorise it "
           f"(held-out modern perplexity turns back up: overfitting).")
prompt = st.text_input("Prompt for before/after samples", D["prompt"], key="domain-adaptation.prompt")
prompt = inputs.clean_text(prompt, what="prompt", max_chars=200) or D["prompt"]

go_train = live.buttons("domain-adaptation", "▶ Continue pretraining",
                        stop_help="Stops the run; the copy keeps what it learned so far.")
# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "domain-adaptation", domain_adaptation_job.KIND,
    describe=lambda spec: (f"continued pretraining on the modern text, {spec['settings']['steps']} steps, learning "
                           f"rate {spec['settings']['lr']:g}, seed {spec['settings']['seed']}"))


def curve_fig(curve) -> go.Figure:
    f = go.Figure()
    f.add_trace(go.Scatter(x=[c[0] for c in curve], y=[c[1] for c in curve], name="modern English (held out)",
                           mode="lines+markers"))
    f.add_trace(go.Scatter(x=[c[0] for c in curve], y=[c[2] for c in curve], name="Shakespeare (held out)",
                           mode="lines+markers"))
    f.update_layout(yaxis_title="perplexity", height=330, margin=dict(l=10, r=10, t=30, b=10))
    f.update_xaxes(**figures.step_axis(max((c[0] for c in curve), default=0)))
    return f


MAX_SECONDS = 600   # a safety net for a very busy server: the steps define the run


@st.cache_resource(show_spinner=False)
def tiny_fingerprints(device: str) -> dict:
    """What a continued-pretraining class run starts from (its key), computed once per process."""
    return domain_adaptation_job.fingerprints(loaders.tiny_gpt(device))


def curve_of(rows: list) -> list:
    """The perplexity points a run's rows carried (domain_adaptation_job: each row brings the new ones)."""
    return [c for r in rows for c in r.get("curve", [])]


def start_run(use_record: bool = True) -> None:
    """Continue pretraining (or Run it again live): join the class run of these settings, or queue
    it for a worker process; a finished run of these settings shows at once. A prompt of the
    learner's own makes the run theirs alone (their text is never merged with another's run)."""
    s = dict(steps=steps, lr=lr, every=every, seed=int(seed), prompt=prompt)
    spec = domain_adaptation_job.spec(s, MAX_SECONDS, tiny_fingerprints(dev), jobs.budget().threads, dev)
    class_run_page.train_together("domain-adaptation", domain_adaptation_job.KIND, spec,
                                  shareable=prompt == D["prompt"], max_seconds=MAX_SECONDS, steps=steps, settings=s,
                                  use_record=use_record, broadcast=broadcast, rows_of=lambda result: result["history"])


# Stop: this learner leaves the run; when nobody else follows it, it stops after its current step
# and the page shows the stopped copy's perplexities and sample (from the worker).
class_run_page.presses("domain-adaptation", go_train, start_run)

note = st.empty()            # where a class run's result came from (a record, a shared run)
if live.state("domain-adaptation").running:
    bar = st.progress(0.0, text="measuring the starting perplexities ...")
    chart = st.empty()

    def draw(rows: list, lv: live.LiveRun) -> None:
        charts.show(curve_fig(curve_of(rows)), key=f"domain-adaptation.live_{rows[-1]['step']}", where=chart)

    class_run_page.follow("domain-adaptation", bar, draw)
    bar.empty()
    chart.empty()

def show_result(curve, done: int, planned: int, state: dict, fig_key: str, after: str) -> None:
    """The metrics, the curve and the before/after samples of a finished (or recorded) run."""
    first, last = curve[0], curve[-1]
    m1, m2, m3 = st.columns(3)
    m1.metric("Modern English perplexity", f"{last[1]:.1f}", f"{last[1] - first[1]:+.1f}", delta_color="inverse")
    m2.metric("Shakespeare perplexity", f"{last[2]:.1f}", f"{last[2] - first[2]:+.1f}", delta_color="inverse")
    m3.metric("Steps done", f"{done} of {planned}")
    charts.show(curve_fig(curve), key=fig_key)
    if "after_sample" in state:
        s1, s2 = st.columns(2)
        s1.markdown("**Before** (the shipped tiny GPT)")
        s1.text(state["prompt"] + state["before_sample"])
        s2.markdown(f"**After** continued pretraining ({after})")
        s2.text(state["prompt"] + state["after_sample"])


lv = live.state("domain-adaptation")
chosen = dict(steps=steps, lr=lr, every=every, seed=int(seed), prompt=prompt)
rec_run = recorded.find(domain_recorded, domain_recorded.TRAINING, chosen, dev, record_lab) if lv.status == "idle" else None
if lv.status == "idle" and rec_run is not None:
    recorded.note(rec_run, "These settings. Press **Continue pretraining** to train your own copy live: the same "
                           "settings give the same curve.")
    res = rec_run.result
    show_result(res["curve"], res["steps"], chosen["steps"], {**res, "prompt": chosen["prompt"]},
                "domain-adaptation.recorded_fig", "the recorded copy")
elif lv.status == "idle":
    st.info("Press **Continue pretraining** (about half a minute on a laptop CPU).")
elif not lv.running:
    job = lv.result.get("job") or {}          # the worker's result; none when this learner left a shared run
    rows = lv.run.history
    curve = job.get("curve") or curve_of(rows)
    if lv.result.get("error"):
        st.error(f"The run stopped: {inputs.md_escape(lv.result['error'])}. Press **Continue pretraining** to try again.")
    if lv.stopped and curve:
        measured = curve[-1][0]
        st.info(f"Stopped by you after {len(rows)} of {lv.run.steps_planned} steps"
                + ("; the copy keeps what it learned. " if job else ". ")
                + (f"Perplexities were last measured at step {measured} (every {lv.settings['every']} steps)."
                   if measured != len(rows) else ""))
    if lv.stopped and not job:
        class_run_page.left_note("domain-adaptation")
    class_run_page.class_run_note("domain-adaptation", note)      # a record of these settings, or a shared run
    if curve:
        show_result(curve, len(rows), lv.run.steps_planned, job, "domain-adaptation.final_fig", "your copy")
    if job.get("fingerprint_unchanged"):
        st.success("The shared tiny GPT is unchanged (same weight fingerprint before and after): "
                   "only your private copy was trained (in a worker process, from the same shipped weights).")

common.try_this(
    "Train 100 steps at learning rate 3e-3: held-out modern perplexity falls for the first ~20 steps, then "
    "climbs far above where it started, and Shakespeare's explodes. Too high a rate on a small sample: the "
    "copy memorises its training text (overfitting) and forgets its old domain (catastrophic forgetting).",
    "Use a learning rate of 1e-4 for 60 steps: slower, but modern perplexity is still falling at the end and "
    "Shakespeare's rises the least of all rates. With little domain data, a small learning rate is the safer choice.",
    "Paste a paragraph of your own field in part 1: which model is less surprised, per character?",
)
