# lesson: Pretrain a tiny GPT live
# week: 1
# order: 31
# icon: 🔥
# topics: pretraining, causal language modeling, training loss, sampling during training
# summary: Pretrain a fresh GPT from random weights on Shakespeare in under a minute and watch its samples turn from noise into words.
"""Live pretraining of a fresh, randomly initialised tiny GPT: loss curve, progress bar,
samples every N steps, and a Stop button that keeps what was learned. The run is a class run
(ui/class_runs.py): it trains in a worker process, learners who press Start on the same settings
follow one run, and a run that finished all its steps shows again at once."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import models
from lessons.pretraining import pretraining_live, pretraining_live_job, recorded_live, tiny_gpt
from lessons.core.perplexity import describe as describe_slice
from ui import class_run_page, charts, common, jobs, live, loaders, recorded
from ui.inputs import md_escape

MAX_SECONDS = 600   # a safety net for a very busy server: the steps define the run

st.title("🔥 Pretrain a tiny GPT live")
st.markdown(
    "Every large language model starts here: random weights and a pile of text. Training shows "
    "the model a window of text, asks it to predict every next token, and nudges all the weights "
    "to make the right tokens more likely. Below, a **fresh** GPT (random weights, nothing "
    "pretrained) learns from 36 Shakespeare plays while you watch. Its samples start as random "
    "tokens; within a few hundred steps spaces, line breaks, speaker names and common words appear."
)
st.latex(r"\mathcal{L}(\theta) = -\frac{1}{BT}\sum_{b=1}^{B}\sum_{t=1}^{T}\log p_\theta\big(x^{(b)}_{t+1}\mid x^{(b)}_{\le t}\big)"
         r"\qquad \text{random-guess start: } \mathcal{L}_0 \approx \ln V = \ln 4096 \approx 8.3")

dev = common.device()
try:
    tok = loaders.tiny_gpt(dev).tokenizer       # only the shared (read-only) tokenizer is used
except models.ModelUnavailable as exc:
    common.show_model_error(exc)
    common.stop_page()


@st.cache_resource(show_spinner="Tokenizing the training plays ...")
def recorded_lab(dev: str) -> recorded_live.Lab:
    """The shared tokenizer's training ids (a read-only tensor shared by every session) and the
    record keys' fingerprints, made once per process."""
    return recorded_live.Lab(loaders.tiny_gpt(dev))


lab = recorded_lab(dev)
train_ids = lab.ids()

D = pretraining_live.DEFAULTS
c1, c2, c3, c4, c5, c6 = st.columns(6)
n_layer = c1.select_slider("layers", [1, 2, 3, 4], value=D["layers"], key="pretraining-live.layers")
n_embd = c2.select_slider("width", [32, 64, 128], value=D["width"], key="pretraining-live.width")
steps = c3.slider("steps", 20, 1000, D["steps"], 10, key="pretraining-live.steps")
lr = c4.select_slider("learning rate", [3e-4, 1e-3, 3e-3, 1e-2, 3e-2], value=D["lr"], key="pretraining-live.lr")
every = c5.select_slider("sample every", [10, 20, 25, 50, 100], value=D["every"], key="pretraining-live.every")
seed = c6.number_input("seed", 0, 9999, D["seed"], key="pretraining-live.seed")
settings = dict(layers=n_layer, width=n_embd, steps=steps, lr=lr, every=every, seed=int(seed))
n_params = n_layer * 12 * n_embd * n_embd + len(tok) * n_embd + tiny_gpt.LIVE_BLOCK * n_embd
st.caption(f"A fresh GPT-2-style model: {n_layer} layer(s) × {n_embd} wide ≈ {n_params / 1e6:.2f}M parameters "
           f"(our shipped tiny GPT: 4 × 128, 1.35M, trained for minutes). Batch {tiny_gpt.LIVE_BATCH} × "
           f"{tiny_gpt.LIVE_BLOCK} tokens per step; stops after {steps} steps (a safety net ends it after "
           f"{MAX_SECONDS // 60} min on a very busy server). "
           f"Training data: {len(train_ids):,} tokens of the training plays.")

start = live.buttons("pretraining-live", "▶ Start pretraining", start="start",
                     stop_help="Stops the run; the model keeps what it learned so far.",
                     reset_label="↺ Reset")   # forgets the run and its private model
# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "pretraining-live", pretraining_live_job.KIND,
    describe=lambda spec: (f"{spec['settings']['layers']} layer(s) × {spec['settings']['width']} wide, "
                           f"{spec['settings']['steps']} steps, learning rate {spec['settings']['lr']:g}, "
                           f"seed {spec['settings']['seed']}"))


def loss_fig(steps_x: list, losses: list, planned: int) -> go.Figure:
    """The training loss per step (and its 10-step mean): live, after the run and recorded."""
    fig = go.Figure(go.Scatter(x=steps_x, y=losses, mode="lines", name="training loss", line=dict(width=1)))
    if len(losses) >= 10:   # a 10-step moving average reads better than the noisy curve
        ma = pd.Series(losses).rolling(10).mean()
        fig.add_trace(go.Scatter(x=steps_x, y=ma, mode="lines", name="10-step average", line=dict(width=3)))
    fig.add_hline(y=8.318, line_dash="dot", annotation_text="ln 4096: a uniform guess")
    fig.update_layout(xaxis_title="step", yaxis_title="cross-entropy (nats/token)", height=330,
                      margin=dict(l=10, r=10, t=30, b=10), xaxis_range=[0, planned])
    return fig


def show_samples(samples: list, where) -> None:
    with where.container():
        st.subheader("Samples (newest first)")
        for step, text in reversed(samples[-6:]):
            st.markdown(f"**step {step}**")
            st.text(text)


def samples_of(rows: list) -> list:
    """The samples a run's rows carried (pretraining_live_job: each row brings the new ones)."""
    return [tuple(s) for r in rows for s in r.get("samples", [])]


@st.cache_resource(show_spinner=False)
def recorded_default(device: str):
    """The recorded run of the page's defaults (lessons/pretraining/recorded_live.py), or None when
    no record was made by this code, tokenizer and text. Shared, read-only."""
    return recorded_live.recorded(recorded_lab(device), recorded_live.KIND, recorded_live.settings())


rec = recorded_default(dev)
with charts.main_figure():       # the lesson's main figure: the recorded run on open, the live run's curve
    note = st.empty()                # what the figure below shows (a recorded run is labelled so)
    chart = st.empty()



def start_run(use_record: bool = True) -> None:
    """Start (or Run it again live): join the class run of these settings, or queue it for a
    worker process; a finished run of these settings shows at once."""
    spec = pretraining_live_job.spec(settings, MAX_SECONDS, lab.fingerprints(settings), jobs.budget().threads, dev)
    class_run_page.train_together("pretraining-live", pretraining_live_job.KIND, spec, shareable=True,
                        max_seconds=MAX_SECONDS, steps=steps, settings=settings, use_record=use_record,
                        broadcast=broadcast, rows_of=lambda result: result["history"])


# Stop: this learner leaves the run; when nobody else follows it, it stops after its current step
# and the page shows what it learned (its last sample and validation perplexity, from the worker).
class_run_page.presses("pretraining-live", start, start_run)

if live.state("pretraining-live").running:
    bar = st.progress(0.0, text="starting ...")
    sample_box = st.empty()

    def draw(rows: list, lv: live.LiveRun) -> None:
        charts.show(loss_fig([r["step"] for r in rows], [r["loss"] for r in rows], lv.run.steps_planned),
                    key=f"pretraining-live.live_{rows[-1]['step']}", where=chart, fit=True)
        show_samples(samples_of(rows), sample_box)

    class_run_page.follow("pretraining-live", bar, draw)
    bar.empty()
    sample_box.empty()


def samples_table(samples: list) -> None:
    st.subheader("Samples during training")
    if samples:
        last_step, last_text = samples[-1]
        st.markdown(f"**Last sample (step {last_step})**, prompt: a new line")
        st.text(last_text)
    st.dataframe(pd.DataFrame([{"step": s, "sample (⏎ = new line)": t.replace(chr(10), " ⏎ ")}
                               for s, t in samples]), hide_index=True, width="stretch")


lv = live.state("pretraining-live")
if lv.status == "idle" and rec is not None and settings == D:
    r = rec.result
    recorded.note(rec, f"The default settings: {r['steps_done']} steps, the loss fell from "
            f"{r['losses'][0]:.2f} to {sum(r['losses'][-10:]) / len(r['losses'][-10:]):.2f} (10-step mean) and the "
            f"validation perplexity is {r['val_ppl']:,.1f}. Press **Start pretraining** to train your own "
            "model live (the same settings give the same curve and samples).", where=note)
    charts.show(loss_fig(r["steps"], r["losses"], r["steps_done"]), key="pretraining-live.recorded_fig",
                where=chart, fit=True)
    samples_table([tuple(s) for s in r["samples"]])
elif lv.status == "idle":
    st.info("Press **Start pretraining**. Expect about a minute on a laptop CPU; a GPU is much faster.")
elif not lv.running:
    job = lv.result.get("job") or {}          # the worker's result; none when this learner left a shared run
    rows = lv.run.history
    losses = [r["loss"] for r in rows]
    if lv.result.get("error"):
        st.error(f"The run stopped: {md_escape(lv.result['error'])}. Press **Start pretraining** to try again.")
    if lv.stopped and job:
        live.stopped_note(lv.run)
    if lv.stopped and not job:
        class_run_page.left_note("pretraining-live")
    class_run_page.class_run_note("pretraining-live", note)     # a record of these settings, or a shared run
    why = lv.run.describe() if lv.run.stopped is not None else "failed"
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Steps done", f"{len(rows)} of {lv.run.steps_planned}", help=why)
    m2.metric("Final loss (10-step mean)", f"{sum(losses[-10:]) / len(losses[-10:]):.3f}" if losses else "–")
    m3.metric("Validation perplexity", f"{job['val_ppl']:,.1f}" if job.get("val_ppl") else "–",
              help=f"Shakespeare perplexity, {describe_slice()} (the same slice on every page). "
                   "Uniform guessing: 4,096.")
    m4.metric("Tokens seen", f"{rows[-1]['tokens']:,}" if rows else "–")
    if rows:
        st.caption(f"Run ended: {why}. {rows[-1]['seconds']:.1f} s of training.")
        charts.show(loss_fig([r["step"] for r in rows], losses, lv.run.steps_planned),
                    key="pretraining-live.final_fig", where=chart, fit=True)
    samples_table([tuple(s) for s in job["samples"]] if job else samples_of(rows))

common.try_this(
    "Train 1 layer × 32 wide, then 4 × 128 for the same steps: which reaches a lower loss, and which is faster per step?",
    "Set the learning rate to 3e-2: the loss may spike or stall. Then 3e-4: it learns, slowly.",
    "Stop a run after ~100 steps and read the last sample: spaces and line breaks come first, words later.",
    "The shipped tiny GPT is this recipe (4 × 128) run ~20x longer; compare its samples on the Domain adaptation page.",
)
