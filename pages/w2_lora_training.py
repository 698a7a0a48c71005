# lesson: Train a LoRA adapter live
# week: 2
# order: 22
# icon: 🏋️
# topics: instruction fine-tuning, LoRA training, adapters, prompt-completion template, swapping adapters
# summary: Instruction-tune the tiny GPT with LoRA in under a minute, watch the loss fall, prove the base weights never change, and swap adapters per task.
"""Live LoRA training with swappable adapters. Each Train is a class run (ui/class_runs.py): the
adapter trains in a worker process on its copy of the tiny GPT, learners who press Train on the
same task and settings follow one run, and a run that finished all its steps shows again at once;
its trained adapter then joins this session's own bank (a per-session copy of the tiny GPT)."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import models
from lessons.core.loop import StopReason
from lessons.finetune import lora, lora_training, lora_training_job, instructions
from lessons.finetune import recorded as lora_recorded
from ui import charts, class_run_page, common, figures, inputs, jobs, live, loaders, recorded

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


main = charts.main_figure()   # the live run, then its result (or the recorded one): the lesson's main figure
note = main.empty()           # where a class run's result came from (a record, the teacher's run, a shared run)


def base_lab(device: str) -> lora_recorded.Lab:
    """The shared base whose fingerprint keys the recorded runs of the page's Try-this at its
    defaults (lessons/finetune/recorded.py: 'archaic', then 'mood', on one frozen base) and the
    class runs."""
    return lora_recorded.Lab(loaders.tiny_gpt(device))


run_settings = lora_training_job.settings(task, r=r, alpha=alpha, targets=list(targets), steps=steps, lr=lr,
                                          seed=int(seed))
# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "lora-training", lora_training_job.KIND,
    describe=lambda spec: (f"the '{spec['settings']['task']}' adapter, r = {spec['settings']['r']} on "
                           f"{', '.join(spec['settings']['targets'])}, {spec['settings']['steps']} steps, "
                           f"learning rate {spec['settings']['lr']:g}"))


def start_run(use_record: bool = True) -> None:
    """Train (or Run it again live): join the class run of this task and settings, or queue it for a
    worker process (the adapter trains on the worker's copy of the base); a finished run of these
    settings shows at once. Either way its adapter then joins this session's bank."""
    lab = recorded.lab(lora_recorded, dev, base_lab)   # the Lab the recorded runs are keyed with (hashed once per process)
    spec = lora_training_job.spec(run_settings, D["max_seconds"], lab.fingerprints(run_settings),
                                  jobs.budget().threads, dev)
    class_run_page.train_together("lora-training", lora_training_job.KIND, spec, shareable=True,
                                  max_seconds=D["max_seconds"], steps=steps, settings=run_settings,
                                  use_record=use_record, broadcast=broadcast,
                                  rows_of=lambda result: result["train"]["history"])


# Stop: this learner leaves the run; when nobody else follows it, it stops after its current step
# and the worker scores the adapter as it is (and saves it for this session's bank).
class_run_page.presses("lora-training", go_train and targets, start_run)

if live.state("lora-training").running:
    with main.container():
        bar = st.progress(0.0, text="Scoring the base model on the test split (adapter off) ...")
        chart = st.empty()
    class_run_page.follow("lora-training", bar, lambda rows, lv: charts.show(loss_figure(rows, "Live training loss"),
                                                                             where=chart, fit=260))
    bar.empty()
    chart.empty()

lv = live.state("lora-training")
job = (lv.result or {}).get("job") if lv.status == "finished" else None   # the worker's; none if this learner left
if job is not None and not lv.result.get("kept"):      # a run of this session: its adapter joins the bank, once
    lv.result["kept"] = True
    results[job["task"]] = {**job, "in_bank": lora_training_job.load_adapter(bank, job)}
if lv.status == "finished":
    class_run_page.class_run_note("lora-training", note)          # a record of these settings, or a shared run
    if lv.result.get("error"):
        main.error(f"The run stopped: {inputs.md_escape(lv.result['error'])}. Press **Train** to try again.")
    if lv.stopped and job is not None and lv.settings.get("task") == task:
        main.info(f"Training of '{task}' stopped at step {job['train']['steps_done']} of {job['train']['steps_planned']}; "
                  "the adapter keeps what it learned so far.")
    if job is None and lv.run.history and lv.settings.get("task") == task:   # left a shared run: the steps seen
        class_run_page.left_note("lora-training", where=main)
        charts.show(loss_figure(lv.run.history, "Training loss (the steps you saw)"), key="lora-training.left_fig",
                    where=main, fit=260)


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
    m4.metric("Trainable (LoRA)", f"{res['trainable']:,}",   # a short label: nothing cut at 1280 px
              help=f"{100 * res['trainable'] / res['total']:.2f} % of {res['total']:,}")
    main.caption(f"Floor: answering '{floor['answer']}' to everything scores {floor['accuracy']:.0%} exact; the base "
               f"model scores {res['before']['accuracy']:.0%}. Only the part above the floor was learned from the inputs.")
    charts.show(loss_figure(tr["history"], "Training loss"), key="lora-training.loss_fig", where=main, fit=260)
    if res.get("in_bank") is False:
        main.warning("This adapter's weights are no longer kept on the server (only the newest runs' are), so "
                     "it is not in section 3's bank: press **↻ Run it again live** or change a setting to train it.")

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
