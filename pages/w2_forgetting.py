# lesson: Full fine-tuning vs LoRA: catastrophic forgetting
# week: 2
# order: 23
# icon: 🧠
# topics: catastrophic forgetting, full fine-tuning, LoRA, multi-task instruction tuning, FLAN
# summary: Fine-tune the tiny GPT on one task fully and with LoRA, watch what it forgets (another task, Shakespeare itself), and mix tasks to forget less.
"""Full fine-tuning versus LoRA on task A; forgetting of task B and of the pretraining text. The
run is a class run (ui/class_runs.py): it trains in a worker process, learners who press Run on
the same settings follow one run, and a run that finished all its steps shows again at once."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lessons.core.loop import StopReason
from lessons.core.perplexity import describe as describe_slice
from lessons.finetune import forgetting, forgetting_job, instructions, recorded_forgetting
from ui import charts, class_run_page, common, figures, inputs, jobs, live, loaders, recorded

st.title("🧠 Full fine-tuning vs LoRA: catastrophic forgetting")
st.markdown(
    "Fine-tuning on one task can make a model **worse at everything else**: full fine-tuning "
    "moves every weight towards the new task, overwriting what the old weights did. This is "
    "*catastrophic forgetting*. Two remedies from the course: **parameter-efficient fine-tuning** "
    "(LoRA leaves the base weights alone, so switching the adapter off restores the old model "
    "exactly) and **multi-task instruction tuning** (FLAN mixes many tasks in every batch, so "
    "no single task can take over)."
)
st.latex(r"\text{batch} = (1-m)\cdot\text{task A} \;+\; m\cdot\text{task B}"
         r"\qquad \text{PPL} = \exp\Big(-\tfrac{1}{N}\sum_t \log p(x_t\mid x_{<t})\Big)")

dev = common.device()
common.model_or_stop(loaders.tiny_gpt, dev)   # the runs' shared tiny GPT: say so here if it is missing
A, B = forgetting.TASKS
st.markdown(
    f"**Task A** (trained now): *{instructions.load_task(A)[0].instruction}* · **Task B** (learned earlier): "
    f"*{instructions.load_task(B)[0].instruction}* · **Pretraining skill**: Shakespeare perplexity "
    f"({describe_slice()}, the same figure on every page). The starting model is the tiny GPT fully "
    "instruction-tuned on "
    "task B beforehand (shipped in `assets/instruction_tuned/mood`, made by "
    "`scripts/build_instruction_tuned.py`): it answers task B 100 % right, so there is something to forget."
)
FD = forgetting.DEMO_DEFAULTS
common.model_or_stop(loaders.instruction_tuned, "mood", dev)  # the start the runs copy: say so here if it is missing

c1, c2, c3, c5 = st.columns([1, 1.2, 1, 0.8])
c4, _ = st.columns([2, 1])   # a row of its own: four chips fit at 1280 px
steps = c1.slider("steps on task A", 10, 300, FD["steps"], step=10, key="forgetting.steps")
mix = c2.slider("share of task B in each batch (m)", 0.0, 0.5, FD["mix"], step=0.125, key="forgetting.mix",
                help="0 = task A only. FLAN-style multi-task mixing keeps old tasks in the batches.")
r = c3.select_slider("LoRA rank r", [1, 2, 4, 8, 16, 32], value=FD["r"], key="forgetting.r")
targets = c4.multiselect("LoRA target modules", ["c_attn", "c_proj", "c_fc", "lm_head"], default=list(FD["targets"]),
                         key="forgetting.targets", help="lm_head lets the adapter rewrite every answer directly: "
                         "it learns task A faster and forgets task B more.")
seed = c5.number_input("seed", 0, 9999, FD["seed"], key="forgetting.seed")
run = live.buttons("forgetting", "▶ Run: fine-tune fully and with LoRA", start="run", disabled=not targets,
                   stop_help="Stops the method that is training after its current step and scores it as it is. "
                             "Stopped during full fine-tuning, LoRA is not trained.")
st.caption(f"Each run trains two private copies of the starting model for {steps} steps each (full "
           f"fine-tuning at lr {FD['full_lr']:g}, LoRA at lr {FD['lora_lr']:g}, the live LoRA page's setting; a "
           f"safety net stops a method after {FD['max_seconds']:.0f} s on a very busy server), on the server's "
           "training workers: learners who press Run on the same settings share one run. The shared models never change.")

runs: list = st.session_state.setdefault("forgetting.runs", [])
METHODS = {"full": "Full fine-tuning", "lora": "LoRA"}
EVAL_S = 120.0   # beyond both methods' time limits: scoring the start and both models (the run's deadline)


def models_lab(device: str) -> recorded_forgetting.Lab:
    """The shared models whose fingerprints key the recorded default run
    (lessons/finetune/recorded_forgetting.py) and the class runs."""
    return recorded_forgetting.Lab(loaders.tiny_gpt(device), loaders.instruction_tuned("mood", device))


rec = recorded.find(recorded_forgetting, recorded_forgetting.KIND, recorded_forgetting.settings(), dev, models_lab)
settings = recorded_forgetting.settings(steps=steps, mix=mix, r=r, targets=list(targets), seed=int(seed))
is_default = settings == recorded_forgetting.settings()
# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "forgetting", forgetting_job.KIND,
    describe=lambda spec: (f"{spec['settings']['steps']} steps per method, mix m = {spec['settings']['mix']:.3g}, "
                           f"LoRA r = {spec['settings']['r']} on {', '.join(spec['settings']['targets'])}, "
                           f"seed {spec['settings']['seed']}"),
    watch=lambda spec: class_run_page.watch_spec(spec, steps_per_setting=2, extra_s=EVAL_S))
head = st.empty()                # the results' header, above the main figure
with charts.main_figure():       # the lesson's main figure: the live loss curve while training, then the scores
    note = st.empty()                # a recorded run is labelled so, above the main figure
    main_ph = st.empty()


def loss_figure(histories: dict) -> go.Figure:
    """Training loss on task A, one line per method: drawn live and after the run."""
    fig = go.Figure()
    for (meth, hist), color in zip(histories.items(), ("#e4572e", "#2e86ab")):
        fig.add_trace(go.Scatter(x=[h["step"] for h in hist], y=[h["loss"] for h in hist], mode="lines",
                                 name=METHODS[meth], line=dict(color=color)))
    fig.update_xaxes(**figures.step_axis(max((h["step"] for hist in histories.values() for h in hist), default=0)))
    fig.update_layout(title="Training loss on the task-A batches", yaxis_title="loss", showlegend=True,
                      height=300, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom"))
    return fig


def histories_of(rows: list) -> dict:
    """{method: [{"step", "loss"}, ...]} from a class run's rows (lessons/finetune/forgetting_job.py)."""
    return {m: [{"step": r["method_step"], "loss": r["loss"]} for r in rows if r["method"] == m]
            for m in METHODS if any(r["method"] == m for r in rows)}


def rows_of(result: dict) -> list:
    """A finished run's rows as the job streamed them (both methods' histories, full first)."""
    return [{**h, "method": m, "method_step": h["step"], "step": i * result["steps"] + h["step"]}
            for i, m in enumerate(METHODS) if result.get(m) for h in result[m]["train"]["history"]]


def start_run(use_record: bool = True) -> None:
    """Run (or Run it again live): join the class run of these settings, or queue it for a worker
    process (both private copies train there); a finished run of these settings shows at once."""
    lab = recorded.lab(recorded_forgetting, dev, models_lab)   # the Lab the recorded runs are keyed with (hashed once per process)
    spec = forgetting_job.spec(settings, FD["max_seconds"], lab.fingerprints(settings),
                               jobs.budget().threads, dev)
    class_run_page.train_together("forgetting", forgetting_job.KIND, spec, shareable=True,
                                  max_seconds=2 * FD["max_seconds"] + EVAL_S, steps=2 * steps, settings=settings,
                                  use_record=use_record, broadcast=broadcast, rows_of=rows_of)


# Stop: this learner leaves the run; when nobody else follows it, the method in training stops
# after its current step and is scored as it is (by the worker; stopped during full fine-tuning,
# LoRA is not trained).
class_run_page.presses("forgetting", run, start_run)

if live.state("forgetting").running:
    bar = st.progress(0.0, text="Scoring the starting model ...")
    class_run_page.follow("forgetting", bar, lambda rows, lv: charts.show(loss_figure(histories_of(rows)),
                                                                          where=main_ph, fit=True),
                          label="full fine-tuning, then LoRA: step")
    bar.empty()

lv = live.state("forgetting")
job = (lv.result or {}).get("job") if lv.status == "finished" else None   # the worker's; none if this learner left
if job is not None and not lv.result.get("kept"):       # a run of this session joins its list, once
    lv.result["kept"] = True
    if job.get("full"):
        runs.append(job)
if lv.status == "finished":
    class_run_page.class_run_note("forgetting", note)          # a record of these settings, or a shared run
    if lv.result.get("error"):
        st.error(f"The run stopped: {inputs.md_escape(lv.result['error'])}. Press **Run** to try again.")
    if job is None and lv.run.history:       # left a shared run: the steps seen
        class_run_page.left_note("forgetting")
        charts.show(loss_figure(histories_of(lv.run.history)), key="forgetting.left_fig")
    elif job is not None and not job.get("full"):
        st.info("Stopped before the first fine-tuning step: nothing to score.")


def _stopped(x: dict) -> bool:
    return any(x.get(k) is None or x[k]["train"]["stopped"] == StopReason.STOPPED.value for k in ("full", "lora"))


# this session's runs; before the first, the recorded run of the defaults (while the settings are those)
recorded_only = not runs and rec is not None and is_default
shown = runs or ([rec.result] if recorded_only else [])
if not shown:
    st.info("Press **Run** to fine-tune. Then move the mixing slider and run again to compare.")
else:
    last = shown[-1]
    before, full, lo = last["before"], last["full"], last.get("lora")
    head.header("What was learned, what was forgotten")
    if recorded_only:
        recorded.note(rec, f"The default settings: task B accuracy went from "
                  f"{before['task_b_accuracy']:.0%} to {full['after']['task_b_accuracy']:.0%} with full fine-tuning "
                  f"and to {lo['after']['task_b_accuracy']:.0%} with LoRA. Press **Run** to fine-tune your own pair "
                  "live (the same settings give the same scores).", where=note)
    ft, lt = full["train"], lo["train"] if lo else None
    if ft["stopped"] == StopReason.STOPPED.value:
        st.info(f"Full fine-tuning {StopReason.STOPPED.describe()} after {ft['steps_done']} of "
                f"{ft['steps_planned']} steps: the partly fine-tuned model is scored below as it was. LoRA was "
                "not trained, so it has no bars; press **Run** for the whole comparison.")
    elif lt and lt["stopped"] == StopReason.STOPPED.value:
        st.info(f"LoRA {StopReason.STOPPED.describe()} after {lt['steps_done']} of {lt['steps_planned']} steps: "
                f"full fine-tuning finished all {ft['steps_done']} steps, the LoRA adapter is scored as it was. "
                "Compare them with care: LoRA trained fewer steps.")
    cut = [n for n, t_ in (("full fine-tuning", ft), ("LoRA", lt)) if t_ and t_["stopped"] == StopReason.TIME.value]
    if cut:
        st.warning(f"The time limit stopped {' and '.join(cut)} before all {last['steps']} steps: this computer is "
                   "busy (other jobs share its cores). Results from so few steps say little; try again "
                   "when it is idle, or lower the steps.")
    labels = ["start (knows B)", "full FT on A", "LoRA on A", "LoRA, adapter off"]
    cols = ["#9aa5b1", "#e4572e", "#2e86ab", "#a5c8e1"]
    # with the adapter switched off the LoRA model IS the start model (base hash unchanged)
    series = [before, full["after"], lo["after"], before] if lo else [before, full["after"]]
    fig = make_subplots(rows=1, cols=3, subplot_titles=(
        "Task A: words right (learned)", "Task B: exact answers (kept?)", "Shakespeare perplexity (log)"))
    for i, (lab, m) in enumerate(zip(labels, series)):
        for j, key in enumerate(["task_a_word_accuracy", "task_b_accuracy", "shakespeare_ppl"]):
            fig.add_trace(go.Bar(x=[lab], y=[m[key]], marker_color=cols[i], showlegend=False,
                                 text=[f"{m[key]:.0%}" if j < 2 else f"{m[key]:,.0f}"], textposition="outside"),
                          1, j + 1)
    fig.update_yaxes(range=[0, 1.2], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(range=[0, 1.2], tickformat=".0%", row=1, col=2)
    import math
    ppls = [m["shakespeare_ppl"] for m in series] + [last["pretrained_ppl"]]
    fig.update_yaxes(**figures.log_axis(ppls), range=[math.log10(min(ppls)) - 0.3, math.log10(max(ppls)) + 0.5],
                     row=1, col=3)
    fig.add_hline(y=last["pretrained_ppl"], line_dash="dot", row=1, col=3)
    # the label as its own annotation: on a log axis plotly reads an annotation's y as log10(y),
    # and add_hline's annotation_text passes the raw value (the label landed far off the chart)
    fig.add_annotation(x=1, xref="x3 domain", y=math.log10(last["pretrained_ppl"]), yref="y3",
                       text=f"pretrained tiny GPT: {last['pretrained_ppl']:,.0f}", showarrow=False,
                       xanchor="right", yanchor="top", font=dict(size=11))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10))
    charts.show(fig, key="forgetting.chart", where=main_ph, fit=True)
    which = "Recorded run" if recorded_only else f"Run {len(runs)}"
    st.caption(f"{which}: {last['steps']} steps, mix m = {last['mix']:.3g}, LoRA r = {last['r']} on "
               f"{', '.join(last['targets'])}, seed {last['seed']}. Test splits: {len(instructions.split(A, 'test'))} + "
               f"{len(instructions.split(B, 'test'))} examples. 'Words right' gives partial credit (same word at the same "
               "position); exact answers need every word. The dotted line is the perplexity of the pretrained "
               "tiny GPT before any instruction tuning: tuning on task B already cost some of it.")

    m1, m2, m3 = st.columns(3)
    m1.metric("Task B accuracy after full FT", f"{full['after']['task_b_accuracy']:.0%}",
              delta=f"{full['after']['task_b_accuracy'] - before['task_b_accuracy']:+.0%}")
    if lo:
        m2.metric("Task B accuracy after LoRA (adapter on)", f"{lo['after']['task_b_accuracy']:.0%}",
                  delta=f"{lo['after']['task_b_accuracy'] - before['task_b_accuracy']:+.0%}")
    else:
        m2.metric("Task B accuracy after LoRA (adapter on)", "not trained")
    m3.metric("LoRA with the adapter switched off", f"{before['task_b_accuracy']:.0%}",
              help="The base weights did not change (hash checked), so removing the adapter gives the "
                   "starting model back exactly.")
    if not _stopped(last):      # a verdict on a run cut short would compare unequal training
        st.markdown(forgetting.verdict(before, full["after"], lo["after"], last["mix"]))

    charts.show(loss_figure({k: last[k]["train"]["history"] for k in METHODS if last.get(k)}), key="forgetting.loss_chart")
    st.subheader("Cost: trainable parameters and training memory")
    table = pd.DataFrame([{
        "method": name, "trainable params": f"{r_['trainable']:,}",
        "share": f"{100 * r_['trainable'] / r_['total']:.2f} %",
        "weights MB": round(r_["memory_mb"]["weights"], 2), "gradients MB": round(r_["memory_mb"]["gradients"], 2),
        "Adam states MB": round(r_["memory_mb"]["adam_states"], 2), "total MB": round(r_["memory_mb"]["total"], 2),
        "base weights changed": "yes" if r_["base_changed"] else "no",
        "steps": r_["train"]["steps_done"], "ms / step": round(1000 * r_["train"]["seconds_per_step"]),
    } for name, r_ in (("full fine-tuning", full), ("LoRA", lo)) if r_])
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("Memory while training in fp32 with Adam, activations not counted: 4 bytes per weight, "
               "+4 per trainable weight for its gradient, +8 for Adam's two moments. On a 1.35M-parameter "
               "model the saving is small; on a 7B model it is the difference between one GPU and several. "
               + ("The shared tiny GPT's hash is unchanged." if last["shared_unchanged"] else
                  "WARNING: the shared model changed."))

    st.subheader("Multi-task mixing: forgetting shrinks as task B stays in the batches")
    hist = pd.DataFrame([{"run": i + 1, "mix m": x["mix"], "method": meth,
                          "task B accuracy": x[key]["after"]["task_b_accuracy"],
                          "task A words right": x[key]["after"]["task_a_word_accuracy"]}
                         for i, x in enumerate(shown) for meth, key in (("full FT", "full"), ("LoRA", "lora"))
                         if not _stopped(x)],
                        columns=["run", "mix m", "method", "task B accuracy", "task A words right"])
    fig2 = go.Figure()
    for meth, color in (("full FT", "#e4572e"), ("LoRA", "#2e86ab")):
        d = hist[hist["method"] == meth].sort_values("mix m")
        fig2.add_trace(go.Scatter(x=d["mix m"], y=d["task B accuracy"], mode="lines+markers",
                                  name=f"{meth}: task B", line=dict(color=color)))
        fig2.add_trace(go.Scatter(x=d["mix m"], y=d["task A words right"], mode="markers",
                                  name=f"{meth}: task A (words right)", marker=dict(color=color, symbol="x", size=10)))
    fig2.add_hline(y=before["task_b_accuracy"], line_dash="dot", annotation_text="task B before")
    fig2.update_xaxes(range=[-0.05, 0.55])
    fig2.update_yaxes(range=[-0.05, 1.1])
    fig2.update_layout(xaxis_title="share of task B in each batch (m)", yaxis_title="test accuracy",
                       yaxis_tickformat=".0%", height=340, margin=dict(l=10, r=10, t=30, b=10))
    charts.show(fig2, key="forgetting.mix_chart")
    st.caption("Every run of this session is a point (runs you stopped are left out: they trained fewer "
               "steps). Run again with m = 0.25 and m = 0.5.")
    if runs and st.button("Clear the runs", key="forgetting.clear"):
        runs.clear()
        st.rerun()

common.try_this(
    "Run with m = 0, then m = 0.25 and m = 0.5: how much of task B survives full fine-tuning?",
    "Lower the steps to 30 at m = 0: does full fine-tuning keep more of task B while it learns less of task A?",
    "Compare the Shakespeare perplexity bars: which method damages the pretraining skill more?",
    "Set LoRA r = 1: still learns task A? Does it forget less than r = 32?",
)
