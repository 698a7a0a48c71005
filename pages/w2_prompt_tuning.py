# lesson: Prompt tuning and the PEFT families
# week: 2
# order: 24
# icon: 🎛️
# topics: prompt tuning, soft prompts, PEFT, selective, reparameterization, additive, adapters, prefix tuning
# summary: Train a soft prompt of a few virtual tokens with the model frozen, then compare every PEFT family's trainable parameters on one model.
"""Prompt tuning (a soft prompt trained live, model frozen) and the PEFT families chart."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import models
from lessons.finetune import peft_families as pf, instructions, prompt_tuning, prompt_tuning_job
from lessons.finetune import recorded_prompt_tuning as pt_recorded
from ui import class_run_page, charts, common, figures, inputs, jobs, live, loaders, recorded

st.title("🎛️ Prompt tuning and the PEFT families")
st.markdown(
    "**Prompt tuning** keeps every weight of the model frozen and trains only a *soft prompt*: "
    "$n$ extra input vectors that sit in front of the text's embeddings. They are not words — "
    "the optimiser may put them anywhere in the embedding space. The cost is tiny: "
    "$n \\times d_{model}$ numbers per task."
)
st.latex(r"\text{inputs\_embeds} = [\,P\,;\,E(x)\,] \qquad P \in \mathbb{R}^{n\times d_{model}}"
         r"\qquad \min_{P}\; -\log p_{\theta_{\text{frozen}}}(y \mid P, x)")

dev = common.device()
lm = common.model_or_stop(loaders.tiny_gpt, dev)  # for the families chart
D = prompt_tuning.DEMO_DEFAULTS
tuned = common.model_or_stop(loaders.instruction_tuned, D["model"], dev)
st.markdown(
    "Lester et al. (2021) show that a soft prompt can only **draw out what the frozen model can already "
    "do** — which is why it needs big models. Our Shakespeare GPT can do neither task, so this page "
    "starts from a tiny GPT that was instruction-tuned on **both** tasks (shipped in "
    "`assets/instruction_tuned/two_tasks`, made by `scripts/build_instruction_tuned.py`). Here the "
    "written instruction is left **blank** (`Instruction: ` + input): without it the model falls back on its "
    "default skill, love or war (it was tuned to answer that when no instruction is given, even for a modern "
    "sentence), and the soft prompt has to take the instruction's place to select the other skill."
)

# --------------------------------------------------------------------------- 1. prompt tuning
st.header("1 · Train a soft prompt")
c1, c2, c3, c4, c5, c6 = st.columns([1.6, 1, 1.3, 1, 1, 0.8])
task = c1.radio("Task", instructions.task_names(), index=instructions.task_names().index(D["task"]),
                format_func=lambda t: instructions.TASK_TITLES.get(t, t), key="prompt-tuning.task")
n_virtual = c2.slider("virtual tokens n", 1, 32, D["n_virtual"], key="prompt-tuning.n")
init = c3.radio("initialise from", ["text", "random"], key="prompt-tuning.init",
                format_func=lambda s: "the instruction's words" if s == "text" else "random vectors")
steps = c4.slider("steps", 10, 300, D["steps"], step=10, key="prompt-tuning.steps")
lr = c5.select_slider("learning rate", [0.01, 0.03, 0.1, 0.3], value=D["lr"], key="prompt-tuning.lr")
seed = c6.number_input("seed", 0, 9999, 0, key="prompt-tuning.seed")
d = pf.d_model(lm.model)


@st.cache_data(show_spinner=False, max_entries=64)
def peft_count(_model, name: str, n: int) -> int:
    return prompt_tuning.peft_prompt_tuning_count(_model, n)


k1, k2, k3 = st.columns(3)
k1.metric("Trainable: n × d_model", f"{n_virtual} × {d} = {prompt_tuning.soft_prompt_count(n_virtual, d):,}")
k2.metric("peft PromptTuningConfig counts", f"{peft_count(lm.model, lm.name, n_virtual):,}")
k3.metric("Frozen model", f"{tuned.n_params:,}", help="not one of these changes")

go_train = live.buttons("prompt-tuning", "▶ Train soft prompt",
                        stop_help="Stops after the current step and keeps the soft prompt so far.")
# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "prompt-tuning", prompt_tuning_job.KIND,
    describe=lambda spec: (f"task '{instructions.TASK_TITLES.get(spec['settings']['task'], spec['settings']['task'])}', "
                           f"{spec['settings']['n_virtual']} virtual tokens from {spec['settings']['init']}, "
                           f"{spec['settings']['steps']} steps, learning rate {spec['settings']['lr']:g}"))
main = charts.main_figure()   # the live run, then its result (or the recorded one): the lesson's main figure


def loss_fig(history: list) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[x["step"] for x in history], y=[x["loss"] for x in history], mode="lines"))
    fig.update_xaxes(**figures.step_axis(max((x["step"] for x in history), default=0)))
    fig.update_layout(yaxis_title="loss on completion tokens", height=280,
                      margin=dict(l=10, r=10, t=20, b=10))
    return fig


def tuned_lab(device: str) -> pt_recorded.Lab:
    """The shared instruction-tuned start whose fingerprint keys the recorded default run
    (lessons/finetune/recorded_prompt_tuning.py) and the class runs."""
    return pt_recorded.Lab(loaders.instruction_tuned(D["model"], device))




settings = dict(task=task, n_virtual=n_virtual, init=init, steps=steps, lr=lr, seed=int(seed))


def start_run(use_record: bool = True) -> None:
    """Train (or Run it again live): join the class run of these settings, or queue it for a
    worker process (the frozen model's copy and the soft prompt live there); a finished run of
    these settings shows at once."""
    lab = recorded.lab(pt_recorded, dev, tuned_lab)   # the Lab the recorded runs are keyed with (hashed once per process)
    spec = prompt_tuning_job.spec(settings, D["max_seconds"], lab.fingerprints(settings),
                                  jobs.budget().threads, dev)
    class_run_page.train_together("prompt-tuning", prompt_tuning_job.KIND, spec, shareable=True,
                                  max_seconds=D["max_seconds"], steps=steps, settings=settings, use_record=use_record,
                                  broadcast=broadcast, rows_of=lambda result: result["history"])


# Stop: this learner leaves the run; when nobody else follows it, it stops after its current step
# and the page shows the soft prompt learned so far, scored (by the worker).
class_run_page.presses("prompt-tuning", go_train, start_run)

note = main.empty()            # where a class run's result came from (a record, a shared run)
if live.state("prompt-tuning").running:
    bar, chart = main.progress(0.0, text="Scoring the frozen model first ..."), main.empty()
    class_run_page.follow("prompt-tuning", bar, lambda rows, lv: charts.show(loss_fig(rows), where=chart, fit=260))
    bar.empty()
    chart.empty()


lv = live.state("prompt-tuning")
res = (lv.result or {}).get("job") if not lv.running else None   # the worker's scores; none if this learner left
if not lv.running and lv.result:
    if lv.result.get("error"):
        main.error(f"The run stopped: {inputs.md_escape(lv.result['error'])}. Press **Train soft prompt** to try again.")
    if lv.stopped:
        with main.container():
            live.stopped_note(lv.run, "the soft prompt learned so far is kept" if res else "you left the run")
    if lv.stopped and res is None:
        class_run_page.left_note("prompt-tuning", where=main)
        charts.show(loss_fig(lv.run.history), key="prompt-tuning.left_fig", where=main, fit=260)
    class_run_page.class_run_note("prompt-tuning", note)      # a record of these settings, or a shared run
at_defaults = settings == pt_recorded.settings()
rec = (recorded.find(pt_recorded, pt_recorded.KIND, pt_recorded.settings(), dev, tuned_lab)
       if res is None and at_defaults and not lv.running else None)
if rec is not None:
    recorded.note(rec, "The default settings. Press **Train soft prompt** to train your own live: the same "
                       "settings give the same curve and scores.", where=main)
    res = rec.result
if res is None:
    main.info("Press **Train soft prompt** (well under a minute on a laptop CPU).")
else:
    main.subheader(f"Soft prompt for '{res['task']}' after {len(res['history'])} of {res['steps_planned']} steps: "
                 f"{res['why']}")
    r1, r2, r3, r4, r5 = main.columns(5)
    r1.metric("Blank instruction, no soft prompt", f"{res['before']['accuracy']:.0%}")
    if res.get("at_init"):
        r2.metric("Soft prompt at init", f"{res['at_init']['accuracy']:.0%}")
    r3.metric("Soft prompt trained", f"{res['after']['accuracy']:.0%}",
              delta=f"{100 * (res['after']['accuracy'] - res['before']['accuracy']):+.0f} points vs blank")
    if res.get("written"):
        r4.metric("Written instruction instead", f"{res['written']['accuracy']:.0%}",
                  help="The same frozen model with the hand-written instruction: what prompt design reaches.")
    r5.metric("Time per step", f"{1000 * res['seconds_per_step']:.0f} ms", help=f"{res['seconds']:.1f} s in all")
    charts.show(loss_fig(res["history"]), key="prompt-tuning.loss_fig", where=main, fit=260)
    st.caption("Compare the three numbers above: the soft prompt against the blank instruction (what the "
               "training bought) and against the written instruction (what prompt design reaches). On a model "
               "this small prompt tuning recovers part of a skill, as Lester et al. (2021) predict (it matches "
               "fine-tuning only at about 10B parameters). On 'mood' there is little to gain: without an "
               "instruction the model already answers love/war.")
    unchanged = res.get("model_unchanged")        # the worker's copy of the model, after the run
    st.caption(f"{res['trainable']:,} trained numbers ({res['n_virtual']} × {res['d_model']}); "
               + ("" if unchanged is None else f"the model's weights hash is {'unchanged' if unchanged else 'CHANGED'} and ")
               + f"no gradient reached it: {not res['grad_on_model']}.")
    rows = [{"input": b["input"], "expected": b["expected"], "no soft prompt": b["model"] or "(empty)",
             "with soft prompt": a["model"] or "(empty)", "correct": "✅" if a["correct"] else "❌"}
            for b, a in zip(res["before"]["rows"], res["after"]["rows"])]
    st.dataframe(pd.DataFrame(rows[:10]), hide_index=True, width="stretch")
    with st.expander("Which real tokens are the virtual tokens closest to?"):
        st.dataframe(pd.DataFrame({"virtual token": [f"P[{i}]" for i in range(len(res["nearest"]))],
                                   "nearest vocabulary tokens (cosine)": [", ".join(x) for x in res["nearest"]]}),
                     hide_index=True, width="stretch")
        st.caption("After training the vectors usually sit between words: a soft prompt is not text.")

# --------------------------------------------------------------------------- 2. families
st.header("2 · The PEFT families on one model")
st.markdown(
    "**Selective** methods train a subset of the existing weights; **reparameterization** "
    "methods (LoRA) train a low-rank form of the weight update; **additive** methods add new "
    "trainable pieces — bottleneck adapters inside every block, or virtual tokens at the input "
    "(prompt tuning) or in every layer's keys and values (prefix tuning)."
)
f1, f2, f3, f4 = st.columns([2, 1, 1, 1])
which = f1.selectbox("Model", ["tiny GPT (ours, Shakespeare)", "all-MiniLM-L6-v2", "SmolLM2-135M-Instruct"],
                     key="prompt-tuning.fam_model")
fr = f2.select_slider("LoRA rank r", [1, 2, 4, 8, 16, 32, 64], value=8, key="prompt-tuning.fam_r")
fm = f3.select_slider("adapter bottleneck m", [4, 8, 16, 32, 64], value=16, key="prompt-tuning.fam_m")
fn = f4.slider("virtual tokens", 1, 100, 20, key="prompt-tuning.fam_n")
try:
    fam_lm = lm if which.startswith("tiny") else loaders.minilm(dev) if which.startswith("all") else loaders.smollm2(dev)
except models.ModelUnavailable as exc:
    common.show_model_error(exc)
    common.stop_page()
qv = {"tiny": ["c_attn"], "all-": ["query", "value"], "SmolL": ["q_proj", "v_proj"]}
lora_targets = next(v for k, v in qv.items() if which.startswith(k))
rows = pf.compare(fam_lm.model, r=fr, lora_targets=lora_targets, bottleneck=fm, n_virtual=fn)
colors = {"full fine-tuning": "#9aa5b1", "selective": "#f4a259", "reparameterization": "#e4572e", "additive": "#2e86ab"}
fig = go.Figure()
for fam, color in colors.items():
    sub = [r_ for r_ in rows if r_["family"] == fam]
    fig.add_trace(go.Bar(y=[r_["method"] for r_ in sub], x=[max(r_["trainable"], 0.9) for r_ in sub],
                         orientation="h", name=fam, marker_color=color,
                         text=[f"{r_['trainable']:,} ({r_['share_percent']:.3g} %)" for r_ in sub],
                         textposition="outside"))
import math  # noqa: E402

_vals = [max(r_["trainable"], 1) for r_ in rows]
fig.update_layout(xaxis=dict(**figures.log_axis(_vals), title="trainable parameters (log scale)",
                             range=[math.log10(min(_vals)) - 0.3, math.log10(max(_vals)) + 0.8]), height=460,
                  yaxis=dict(autorange="reversed"), margin=dict(l=10, r=10, t=20, b=10),
                  legend=dict(orientation="h", y=1.08))
charts.show(fig, key="prompt-tuning.fam_fig")
st.dataframe(pd.DataFrame([{"family": r_["family"], "method": r_["method"], "trainable": f"{r_['trainable']:,}",
                            "share of model": f"{r_['share_percent']:.4f} %", "how it is counted": r_["detail"]}
                           for r_ in rows]), hide_index=True, width="stretch")
if pf.bias_only(fam_lm.model) == 0:
    st.caption(f"{fam_lm.name} has no bias vectors at all (Llama-style layers), so BitFit has nothing to train.")
st.caption("LoRA, prompt- and prefix-tuning counts equal peft's; the adapter count equals the parameters of "
           "adapters actually inserted into the model (see tests/unit/finetune/test_peft_families.py).")

common.try_this(
    "Train a soft prompt with 1 virtual token, then 16: does the accuracy follow the count?",
    "Compare 'the instruction's words' with 'random vectors' as a start (same seed and steps).",
    "Open 'Which real tokens...': are the trained virtual tokens still close to any real word?",
    "In the families chart pick SmolLM2: why does BitFit train nothing, and how does prefix tuning "
    "compare with LoRA at r = 8?",
)
