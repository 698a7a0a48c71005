# lesson: Pretrain a tiny GPT live
# week: 1
# order: 31
# icon: 🔥
# topics: pretraining, causal language modeling, training loss, sampling during training
# summary: Pretrain a fresh GPT from random weights on Shakespeare in under a minute and watch its samples turn from noise into words.
"""Live pretraining of a fresh, randomly initialised tiny GPT: loss curve, progress bar,
samples every N steps, and a Stop button that keeps what was learned."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import corpus, models
from lessons.pretraining import tiny_gpt
from lessons.core.perplexity import describe as describe_slice, validation_perplexity
from ui import charts, common, live, loaders, runtime

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
def training_ids(_tok, n_chars: int):
    # A read-only tensor shared by every session: (N,) token ids of the training plays.
    return tiny_gpt.encode(_tok, corpus.shakespeare_text("train")[:n_chars])


train_ids = training_ids(tok, 600_000)

c1, c2, c3, c4, c5, c6 = st.columns(6)
n_layer = c1.select_slider("layers", [1, 2, 3, 4], value=2, key="pretraining-live.layers")
n_embd = c2.select_slider("width", [32, 64, 128], value=64, key="pretraining-live.width")
steps = c3.slider("steps", 20, 1000, 300, 10, key="pretraining-live.steps")
lr = c4.select_slider("learning rate", [3e-4, 1e-3, 3e-3, 1e-2, 3e-2], value=3e-3, key="pretraining-live.lr")
every = c5.select_slider("sample every", [10, 20, 25, 50, 100], value=50, key="pretraining-live.every")
seed = c6.number_input("seed", 0, 9999, 0, key="pretraining-live.seed")
cfg = tiny_gpt.live_config(len(tok), tok.eos_token_id, n_layer=n_layer, n_embd=n_embd)
n_params = n_layer * 12 * n_embd * n_embd + len(tok) * n_embd + tiny_gpt.LIVE_BLOCK * n_embd
st.caption(f"A fresh GPT-2-style model: {n_layer} layer(s) × {n_embd} wide ≈ {n_params / 1e6:.2f}M parameters "
           f"(our shipped tiny GPT: 4 × 128, 1.35M, trained for minutes). Batch {tiny_gpt.LIVE_BATCH} × "
           f"{tiny_gpt.LIVE_BLOCK} tokens per step; stops after {steps} steps (a safety net ends it after "
           f"{MAX_SECONDS // 60} min on a very busy server). "
           f"Training data: {len(train_ids):,} tokens of the training plays.")

start = live.buttons("pretraining-live", "▶ Start pretraining", start="start",
                     stop_help="Stops the run; the model keeps what it learned so far.",
                     reset_label="↺ Reset")   # forgets the run and its private model


def loss_fig(res: tiny_gpt.PretrainResult) -> go.Figure:
    fig = go.Figure(go.Scatter(x=res.log.steps, y=res.log.losses, mode="lines", name="training loss",
                               line=dict(width=1)))
    if len(res.log.losses) >= 10:   # a 10-step moving average reads better than the noisy curve
        ma = pd.Series(res.log.losses).rolling(10).mean()
        fig.add_trace(go.Scatter(x=res.log.steps, y=ma, mode="lines", name="10-step average", line=dict(width=3)))
    fig.add_hline(y=8.318, line_dash="dot", annotation_text="ln 4096: a uniform guess")
    fig.update_layout(xaxis_title="step", yaxis_title="cross-entropy (nats/token)", height=330,
                      margin=dict(l=10, r=10, t=30, b=10), xaxis_range=[0, res.steps])
    return fig


def show_samples(res: tiny_gpt.PretrainResult, where) -> None:
    with where.container():
        st.subheader("Samples (newest first)")
        for step, text in reversed(res.samples[-6:]):
            st.markdown(f"**step {step}**")
            st.text(text)


def finish(lv: live.LiveRun) -> None:
    """A finished or stopped run: a last sample and the validation perplexity of what it learned."""
    res: tiny_gpt.PretrainResult = lv.result
    done = lv.run.steps_done
    if done:
        if not res.samples or res.samples[-1][0] != done:
            res.samples.append((done, tiny_gpt.sample(res.model, tok, "\n", max_new_tokens=40, seed=res.seed)))
        res.val_ppl = validation_perplexity(res.model, tok)


# A run interrupted by the Stop button (or by any other click, which also reruns the page)
# is finished here with what it learned so far.
if (stopped := live.finish_interrupted("pretraining-live", finish, restarting=start)) is not None:
    live.stopped_note(stopped.run)

if start:
    with runtime.training_slot() as ok:
        if ok:
            model = tiny_gpt.fresh_model(cfg, seed=int(seed)).to(dev)   # a brand-new private model, on the chosen device
            res = tiny_gpt.PretrainResult(model, tiny_gpt.TrainLog(steps, MAX_SECONDS), steps, every, int(seed))
            lv = live.begin("pretraining-live", res.log, res,
                            dict(layers=n_layer, width=n_embd, steps=steps, lr=lr, every=every, seed=int(seed)))
            res.samples.append((0, tiny_gpt.sample(model, tok, "\n", max_new_tokens=40, seed=int(seed))))
            bar = st.progress(0.0, text="starting ...")
            chart = st.empty()
            sample_box = st.empty()
            show_samples(res, sample_box)

            def draw(row: dict, log: tiny_gpt.TrainLog) -> None:
                charts.show(loss_fig(res), key=f"pretraining-live.live_{row['step']}", where=chart)

            def on_step(row: dict, log: tiny_gpt.TrainLog) -> None:
                if row["step"] % every == 0:
                    res.samples.append((row["step"], tiny_gpt.sample(model, tok, "\n", max_new_tokens=40, seed=int(seed))))
                    show_samples(res, sample_box)
                tick(row, log)

            tick = live.progress(bar, draw, text=lambda m, log: f"loss {m['loss']:.3f} · "
                                 f"{m['tokens'] / max(m['seconds'], 1e-6):,.0f} tokens/s")
            tiny_gpt.train_causal_lm(model, train_ids, steps=steps, batch_size=tiny_gpt.LIVE_BATCH, block=tiny_gpt.LIVE_BLOCK,
                               lr=lr, warmup=min(30, steps // 5), max_seconds=MAX_SECONDS, seed=int(seed),
                               progress=on_step, log=res.log, should_stop=runtime.stop_requested)
            live.end(lv, finish)
            bar.empty()
            chart.empty()
            sample_box.empty()

lv = live.state("pretraining-live")
if lv.status == "idle":
    st.info("Press **Start pretraining**. Expect about a minute on a laptop CPU; a GPU is much faster.")
elif not lv.running:
    res = lv.result
    done = lv.run.steps_done
    why = lv.run.describe()
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Steps done", f"{done} of {res.steps}", help=why)
    m2.metric("Final loss (10-step mean)", f"{sum(res.log.losses[-10:]) / max(1, len(res.log.losses[-10:])):.3f}"
              if res.log.losses else "–")
    m3.metric("Validation perplexity", f"{res.val_ppl:,.1f}" if res.val_ppl else "–",
              help=f"Shakespeare perplexity, {describe_slice()} (the same slice on every page). "
                   "Uniform guessing: 4,096.")
    m4.metric("Tokens seen", f"{res.log.tokens_seen:,}")
    st.caption(f"Run ended: {why}. {res.log.seconds:.1f} s of training.")
    charts.show(loss_fig(res), key="pretraining-live.final_fig")
    st.subheader("Samples during training")
    if res.samples:
        last_step, last_text = res.samples[-1]
        st.markdown(f"**Last sample (step {last_step})**, prompt: a new line")
        st.text(last_text)
    st.dataframe(pd.DataFrame([{"step": s, "sample (⏎ = new line)": t.replace(chr(10), " ⏎ ")}
                               for s, t in res.samples]), hide_index=True, width="stretch")

common.try_this(
    "Train 1 layer × 32 wide, then 4 × 128 for the same steps: which reaches a lower loss, and which is faster per step?",
    "Set the learning rate to 3e-2: the loss may spike or stall. Then 3e-4: it learns, slowly.",
    "Stop a run after ~100 steps and read the last sample: spaces and line breaks come first, words later.",
    "The shipped tiny GPT is this recipe (4 × 128) run ~20x longer; compare its samples on the Domain adaptation page.",
)
