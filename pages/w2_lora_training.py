# lesson: Train a LoRA adapter live
# week: 2
# order: 22
# icon: 🏋️
# topics: instruction fine-tuning, LoRA training, adapters, prompt-completion template, swapping adapters
# summary: Instruction-tune the tiny GPT with LoRA in under a minute, watch the loss fall, prove the base weights never change, and swap adapters per task.
"""Live LoRA training on a per-session copy of the tiny GPT, with swappable adapters."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import models
from lessons.core.loop import StopReason
from lessons.finetune import lora, lora_training, instructions
from lessons.finetune import recorded as lora_recorded
from ui import charts, common, figures, inputs, live, loaders, recorded, runtime

st.title("🏋️ Train a LoRA adapter live")
st.markdown(
    "**Instruction fine-tuning** is plain next-token training on prompt–completion pairs written "
    "in one fixed template. The loss counts only the completion tokens $y$, so the model learns "
    "to *answer* the instruction $x$. With **LoRA** only the small matrices $A, B$ train; the "
    "pretrained weights stay frozen, so one base model can carry one adapter per task."
)
st.latex(r"\mathcal{L} = -\frac{1}{|y|}\sum_{t=1}^{|y|} \log p_\theta\!\left(y_t \mid x, y_{<t}\right)"
         r"\qquad \theta_{\text{trainable}} = \{A_\ell, B_\ell\}")

dev = common.device()
lm = common.model_or_stop(loaders.tiny_gpt, dev)
tok = lm.tokenizer

# --------------------------------------------------------------------------- per-session state
if "lora-training.bank" not in st.session_state:
    # A private copy: the cached tiny GPT is shared by every session and stays read-only.
    st.session_state["lora-training.bank"] = lora_training.AdapterBank(models.session_copy(lm.model))
    st.session_state["lora-training.results"] = {}
bank: lora_training.AdapterBank = st.session_state["lora-training.bank"]
results: dict = st.session_state["lora-training.results"]


@st.cache_data(show_spinner=False, max_entries=4)
def shared_fingerprint(_model, name: str) -> str:
    return models.state_fingerprint(_model)


# --------------------------------------------------------------------------- data
st.header("1 · The data")
TASKS = instructions.task_names()
task = st.radio("Task", TASKS, format_func=lambda t: instructions.TASK_TITLES.get(t, t), key="lora-training.task",
                horizontal=True)
train_ex, test_ex = instructions.split(task, "train"), instructions.split(task, "test")
c1, c2 = st.columns([3, 2])
with c1:
    st.markdown("Every example is written in this template. The **prompt** (instruction and input, "
                "ending in *Response:*) gets no loss; the **completion** after it is what the loss is "
                "computed on:")
    st.code(train_ex[0].prompt, language=None, wrap_lines=True)
    st.code(train_ex[0].completion.strip() + "   ← completion (the model learns to write this)", language=None,
            wrap_lines=True)
with c2:
    st.dataframe(pd.DataFrame(instructions.split_table()).drop(columns=["instruction"]), hide_index=True, width="stretch")
    st.caption("Small datasets written for this app (assets/instructions/), split 70 / 15 / 15.")
with st.expander(f"Training examples for '{task}' ({len(train_ex)})"):
    st.dataframe(pd.DataFrame([{"input": e.input, "output": e.output} for e in train_ex]),
                 hide_index=True, width="stretch")

# --------------------------------------------------------------------------- settings
st.header("2 · Train an adapter")
D = lora_training.LIVE_DEFAULTS
s3, _ = st.columns([2, 1])   # a row of its own: four chips fit at 1280 px
s1, s2, s4, s5, s6 = st.columns([1, 1, 1.3, 1, 1])
r = s1.select_slider("rank r", [1, 2, 4, 8, 16, 32], value=D["r"], key="lora-training.r")
alpha = s2.select_slider("alpha", [1, 2, 4, 8, 16, 32, 64], value=D["alpha"], key="lora-training.alpha")
cands = lora.target_candidates(lm.model)
targets = s3.multiselect("Target modules", [c for c in cands if c not in ("wte", "wpe")],
                         default=list(D["targets"]), key="lora-training.targets",
                         help="c_attn = the fused query/key/value projection; c_fc, c_proj = the MLP; "
                              "lm_head = the output layer (tied to the token embeddings). On this small, "
                              "briefly pretrained model copying words from the input is hard: adapters on "
                              "every layer learn it far faster than one on c_attn alone.")
steps = s4.slider("steps", 10, 400, D["steps"], step=10, key="lora-training.steps")
lr = s5.select_slider("learning rate", [1e-3, 2e-3, 5e-3, 1e-2, 2e-2], value=D["lr"], key="lora-training.lr")
seed = s6.number_input("seed", 0, 9999, lora_recorded.TRAIN["seed"], key="lora-training.seed")
count = lora.lora_parameter_count(lm.model, r, targets) if targets else 0  # peft refuses []
st.caption(f"This adapter trains **{count:,}** numbers ({100 * count / lm.n_params:.2f} % of the "
           f"{lm.n_params:,} in the tiny GPT). Bounded by {steps} steps of batch 16 (a safety net stops it after "
           f"{D['max_seconds']:.0f} s on a very busy server), plus a few seconds of scoring.")


def reset_adapters() -> None:
    """A fresh private copy of the tiny GPT: every adapter of this session goes."""
    st.session_state["lora-training.bank"] = lora_training.AdapterBank(models.session_copy(lm.model))
    results.clear()


go_train = live.buttons("lora-training", f"▶ Train '{task}' adapter", disabled=not targets,
                        stop_help="Stops after the current step; what was learned so far is kept.",
                        reset_label="Reset all adapters", on_reset=reset_adapters)
bank = st.session_state["lora-training.bank"]   # a fresh one after Reset
if not targets:
    st.info("Choose at least one target module to train.")


def loss_figure(history: list, title: str) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[h["step"] for h in history], y=[h["loss"] for h in history],
                               mode="lines", name="training loss"))
    fig.update_xaxes(**figures.step_axis(max((h["step"] for h in history), default=0)))
    fig.update_layout(title=title, yaxis_title="loss on completion tokens",
                      height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig


# The live run draws into this one slot, and the rerun after a Stop replaces it first thing:
# no greyed-out bar of the interrupted run is left showing an older step.
main = charts.main_figure()   # the live run, then its result (or the recorded one): the lesson's main figure
live_area = main.empty()


def finish(lv: live.LiveRun) -> None:
    """Score the (possibly partly) trained adapter; keep it with the others."""
    s = lv.settings
    results[s["task"]] = lora_training.finish_adapter(bank, tok, s["task"], lv.run, s["before"], s["fingerprint_before"])


def finish_stopped(lv: live.LiveRun) -> None:
    live_area.info(f"Scoring the adapter after {lv.run.steps_done} steps ...")
    finish(lv)


# A run interrupted by Stop (or by any other click, which also reruns the page) is finished
# here with what it learned so far, once its thread has really left the training loop.
if live.state("lora-training").running and not go_train:
    live_area.info("Stopping after the current step ...")
if (stopped := live.finish_interrupted("lora-training", finish_stopped, restarting=go_train)) is not None:
    live_area.info(f"Training of '{stopped.settings['task']}' stopped at step {stopped.run.steps_done} of "
                   f"{stopped.run.steps_planned}; the adapter keeps what it learned so far.")

if go_train and targets:
    with runtime.training_slot() as ok:
        if ok:
            with live_area.container():   # status, bar and curve: one element the next run replaces
                status = st.empty()
                bar = st.progress(0.0, text="starting ...")
                chart = st.empty()
            status.write("Scoring the base model on the test split (adapter off) ...")
            start = lora_training.start_adapter(bank, tok, task, r=r, alpha=alpha, targets=targets, seed=int(seed))
            status.empty()
            run = lora_training.TrainResult(steps, D["max_seconds"])   # kept in session_state: survives a Stop
            lv = live.begin("lora-training", run, None, {"task": task, **start})
            tick = live.progress(bar, lambda row, run: charts.show(loss_figure(run.history, "Live training loss"), where=chart, fit=260),
                                 text=lambda row, run: f"loss {row['loss']:.3f} · {1000 * row['seconds'] / row['step']:.0f} ms/step")
            lora_training.train(bank.model, tok, train_ex, steps=steps, lr=lr, seed=int(seed), max_seconds=D["max_seconds"],
                           progress=tick, should_stop=runtime.stop_requested, run=run)
            status.write("Scoring the adapter on the test split ...")
            live.end(lv, finish)
            live_area.empty()

def base_lab(device: str) -> lora_recorded.Lab:
    """The shared base whose fingerprint keys the recorded runs of the page's Try-this at its
    defaults (lessons/finetune/recorded.py: 'archaic', then 'mood', on one frozen base)."""
    return lora_recorded.Lab(loaders.tiny_gpt(device))


# --------------------------------------------------------------------------- results
res = results.get(task)
chosen = {"r": r, "alpha": alpha, "targets": list(targets), "steps": steps, "lr": lr, "seed": int(seed)}
at_defaults = chosen == {k: lora_recorded.settings()[k] for k in chosen}
rec = recorded.find(lora_recorded, lora_recorded.KIND, lora_recorded.settings(), dev, base_lab) if res is None and at_defaults and not live.state("lora-training").running else None
if rec is not None and task in rec.result["runs"]:
    res = rec.result["runs"][task]
    recorded.note(rec, f"These settings, in the page's Try-this: {' then '.join(repr(t) for t in rec.result['runs'])} "
                       f"on one frozen base. Press **Train** to train your own '{task}' adapter live: the same "
                       "settings give the same result.", where=main)
if res is None:
    main.info(f"No '{task}' adapter yet: press **Train** (about a minute on a laptop CPU).")
else:
    tr = res["train"]
    main.subheader(f"Adapter '{task}' after {tr['steps_done']} of {tr['steps_planned']} steps: "
                 f"{StopReason(tr['stopped']).describe()}")
    floor = instructions.majority_baseline(task)
    m0, m1, m2, m3, m4 = main.columns(5)
    above = res['after']['accuracy'] - floor['accuracy']
    m0.metric("Exact answers (test)", f"{res['after']['accuracy']:.0%}",   # a short delta: nothing cut at 1280 px
              delta=f"{above:+.0%}", delta_description="vs the floor",
              delta_color="normal" if round(100 * above) else "off", delta_arrow="auto" if round(100 * above) else "off",
              help=f"Base model (adapter off): {res['before']['accuracy']:.0%}. Always giving the most common "
                   f"training answer ('{floor['answer']}') scores {floor['accuracy']:.0%} of the test split: "
                   "that is the floor real learning has to beat.")
    m1.metric("Words right (test)", f"{res['after']['word_accuracy']:.0%}",
              delta=f"{res['after']['word_accuracy'] - res['before']['word_accuracy']:+.0%} vs base "
                    f"{res['before']['word_accuracy']:.0%}",
              help="Partial credit: the share of expected words at the right position.")
    m2.metric("Completion loss on test", f"{res['after']['loss']:.3f}",
              delta=f"{res['after']['loss'] - res['before']['loss']:+.3f}", delta_color="inverse")
    m3.metric("Time per step", f"{1000 * tr['seconds_per_step']:.0f} ms", help=f"{tr['seconds']:.1f} s in all")
    m4.metric("Trainable parameters", f"{res['trainable']:,}",
              help=f"{100 * res['trainable'] / res['total']:.2f} % of {res['total']:,}")
    main.caption(f"Floor: answering '{floor['answer']}' to everything scores {floor['accuracy']:.0%} exact; the base "
               f"model scores {res['before']['accuracy']:.0%}. Only the part above the floor was learned from the inputs.")
    charts.show(loss_figure(tr["history"], "Training loss"), key="lora-training.loss_fig", where=main, fit=260)

    same = res["fingerprint_before"] == res["fingerprint_after"]
    shared = shared_fingerprint(lm.model, lm.name)
    f1, f2, f3 = st.columns(3)   # hashes in code font: a metric's big digits are cut at 1280 px
    f1.markdown(f"Base weights hash, before  \n`{res['fingerprint_before']}`")
    f2.markdown(f"Base weights hash, after  \n`{res['fingerprint_after']}`")
    f3.markdown(f"Shared tiny GPT hash  \n`{shared}`")
    if same and shared == res["fingerprint_after"]:
        st.success("Identical hashes: training changed only the adapter; the frozen base (and the "
                   "app's shared model) did not move by a single bit.")
    else:
        st.error("The base weights changed: this should never happen with LoRA.")

    st.markdown("**Before / after on the test split** (greedy decoding; base = adapter switched off)")
    rows = [{"input": b["input"], "expected": b["expected"], "base model": b["model"] or "(empty)",
             "with adapter": a["model"] or "(empty)", "words right": f"{a['words']:.0%}"}
            for b, a in zip(res["before"]["rows"], res["after"]["rows"])]
    st.dataframe(pd.DataFrame(rows[:12]), hide_index=True, width="stretch")

# --------------------------------------------------------------------------- swapping
st.header("3 · One frozen base, one adapter per task")
st.markdown(
    "Train an adapter for each task, then switch between them. peft keeps every named adapter on "
    "the same frozen base (`add_adapter`, `set_adapter`); an adapter here is a few hundred kB, "
    "the base is shared."
)
trained = [t for t in TASKS if t in results]
options = ["(none: base model)"] + trained
w1, w2 = st.columns([1, 2])
active = w1.radio("Active adapter", options, key="lora-training.active")
ask_task = w1.selectbox("Instruction", TASKS, format_func=lambda t: instructions.load_task(t)[0].instruction,
                        key="lora-training.ask_task")
raw = w2.text_input("Your input line", "you are my noble friend", key="lora-training.input")
text = inputs.clean_text(raw, max_chars=200, what="input line")
if text is not None:
    ex = instructions.custom_example(ask_task, text)
    name = None if active.startswith("(none") else active
    out = bank.generate(name, tok, [ex.prompt])[0]
    w2.code(ex.prompt + " " + (out or "(empty: the model answered with a newline)"), language=None)
    w2.caption("The tiny GPT knows only Shakespeare's words: unusual words, emoji or non-Latin text "
               "are split into many byte pieces, and answers get strange.")
if len(trained) >= 1:
    probe = [instructions.split(t, "test")[i] for t in TASKS for i in (0, 1)]
    table = {"instruction → input": [f"{e.task}: {e.input}" for e in probe],
             "expected": [e.output for e in probe]}
    for name in [None] + trained:
        table["base" if name is None else f"adapter '{name}'"] = [
            g or "(empty)" for g in bank.generate(name, tok, [e.prompt for e in probe])]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")

common.try_this(
    "Train 'archaic', then 'mood', then swap adapters in section 3: each adapter does its own task "
    "on the very same frozen base, and the base alone does neither.",
    "Train with r = 1 and then r = 16 (same steps): does a bigger rank learn faster here?",
    "Set the learning rate to 1e-3: the loss falls far more slowly in the same number of steps.",
    "Press Stop half-way: the curve and the partly trained adapter are kept. How good is it already?",
)
