# lesson: Distillation: a small student learns from a teacher
# week: 3
# order: 30
# icon: 🎓
# topics: knowledge distillation, soft labels, temperature, teacher-student, model compression
# summary: Train a student half as deep and half as wide on the tiny GPT's soft labels and compare it with a student trained on hard labels.
"""Distillation: softmax-with-temperature on the teacher's real next-token logits, then two
students trained live (bounded by their steps) on soft vs hard labels and compared. The training
is a class run (ui/class_runs.py): it runs in a worker process, learners who press Train on the
same settings follow one run, and a run that finished all its steps shows again at once."""
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from lessons.efficiency import distillation as kd
from lessons.efficiency import distillation_job
from lessons.efficiency import recorded as kd_recorded
from lessons.core.loop import StopReason
from lessons.core.perplexity import describe as describe_slice
from ui import charts, class_run_page, common, figures, inputs, jobs, live, loaders, recorded

MAX_SECONDS = 600   # a safety net for a very busy server: the steps define the run

st.title("🎓 Distillation: a small student learns from a teacher")
st.markdown(
    "To deploy a model cheaply you want it smaller. **Knowledge distillation** (Hinton et al. 2015) "
    "trains a small *student* to copy a big *teacher*. The trick is to copy the teacher's whole "
    "next-token **distribution**, not only the right token: the teacher also says which wrong "
    "tokens are almost right. A **temperature** T > 1 makes those small probabilities visible."
)
st.latex(r"p_T = \operatorname{softmax}(z_{\text{teacher}}/T),\quad q_T = \operatorname{softmax}(z_{\text{student}}/T)")
st.latex(r"\mathcal{L} = \alpha\,T^2\,\mathrm{KL}(p_T \,\|\, q_T) + (1-\alpha)\,\mathrm{CE}(q_1, y)")
st.caption("The T² factor keeps the gradient size the same when you change T, so α keeps its meaning.")

dev = common.device()
teacher = common.model_or_stop(loaders.tiny_gpt, dev)

# --------------------------------------------------------------------------- temperature
st.header("1 · Soft labels: softmax with temperature")
c1, c2 = st.columns([2, 1])
raw = c1.text_input("Context for the teacher", kd.DEFAULT_CONTEXT, key="distillation.prompt")
T = c2.slider("Temperature T", 0.25, 10.0, 2.0, step=0.25, key="distillation.T")
text = inputs.clean_text(raw, max_chars=300, what="context")
if text is not None:
    try:
        sl = kd.soft_labels(teacher.model, teacher.tokenizer, text, T)
    except ValueError:
        st.warning("The teacher's tokenizer produced no tokens for that text.")
        sl = None
    if sl:
        labels = [repr(t) for t in sl.tokens]
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                            subplot_titles=["probability (log scale)", "relative to the top token (p ÷ p_top)"])
        for name, ps, colour in (("T = 1", sl.p1, "#1f77b4"), (f"T = {T:g}", sl.pT, "#ff7f0e")):
            fig.add_trace(go.Bar(x=labels, y=ps, name=name, marker_color=colour, legendgroup=name), row=1, col=1)
            fig.add_trace(go.Bar(x=labels, y=[p / ps[0] for p in ps], name=name, marker_color=colour,
                                 legendgroup=name, showlegend=False), row=1, col=2)
        fig.update_yaxes(**figures.log_axis(list(sl.p1) + list(sl.pT)), row=1, col=1)
        fig.update_yaxes(range=[0, 1.05], row=1, col=2)
        fig.update_xaxes(tickangle=-45)
        fig.update_layout(barmode="group", height=380, margin=dict(t=60, b=10), font=dict(size=14),
                          title="The teacher's 15 most likely next tokens",
                          legend=dict(orientation="h", y=1.22, x=1, xanchor="right"))
        charts.show(fig, key="distillation.temp_fig")
        m1, m2, m3 = st.columns(3)
        m1.metric("Entropy at T = 1", f"{sl.entropy1:.2f} bits")
        m2.metric(f"Entropy at T = {T:g}", f"{sl.entropyT:.2f} bits")
        m3.metric("Top token's probability", f"{sl.top1:.1%} → {sl.topT:.1%}")
        st.caption(f"The vocabulary has {len(teacher.tokenizer):,} tokens: at T > 1 probability flows from the top "
                   "token to *all* of them, so every bar on the left drops. The right panel shows what the student "
                   "learns from: the runners-up close in on the top token — the teacher's view of which wrong "
                   "answers are almost right.")

# --------------------------------------------------------------------------- training
st.header("2 · Train two students, live")
st.markdown(
    f"The teacher is our tiny Shakespeare GPT ({teacher.n_params / 1e6:.2f}M parameters). Both "
    "students start from the **same random weights** and see the **same batches**: one learns from "
    "the hard next token only (α = 0), the other from your mix of soft and hard labels. "
    "The training curves show the ordinary next-token cross-entropy for both, so they compare directly."
)
a, b, c = st.columns(3)
D = kd.PAGE_DEFAULTS
train_T = a.slider("Training temperature T", 1.0, 8.0, D["T"], step=0.5, key="distillation.train_T")
alpha = b.slider("α (weight of the soft loss)", 0.0, 1.0, D["alpha"], step=0.1, key="distillation.alpha")
steps = c.slider("Steps per student", 10, 400, D["steps"], step=10, key="distillation.steps",
                 help="Both students train in lockstep on the same batches; the run is defined by its steps, so a "
                      "busy server takes longer but reaches the same point.")
e, f, g = st.columns(3)
layers = e.select_slider("Student layers", [1, 2, 3], D["layers"], key="distillation.layers")
width = f.select_slider("Student width", [32, 64, 96], D["width"], key="distillation.width")
seed = g.number_input("Seed", 0, 10_000, D["seed"], key="distillation.seed")

settings = dict(T=train_T, alpha=alpha, steps=steps, layers=layers, width=width, seed=int(seed))
train = live.buttons("distillation", "▶ Train both students",
                     stop_help="Stops both students after the current step; what they learned so far is kept and "
                               "compared.")
# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "distillation", distillation_job.KIND,
    describe=lambda spec: (f"α = {spec['settings']['alpha']:g}, T = {spec['settings']['T']:g}, students "
                           f"{spec['settings']['layers']} layer(s) × {spec['settings']['width']} wide, "
                           f"{spec['settings']['steps']} steps, seed {spec['settings']['seed']}"),
    watch=lambda spec: class_run_page.watch_spec(spec, keys=D))


def ce_figure(ces: dict) -> go.Figure:
    """Both students' training cross-entropy (10-step mean; ``ces``: {student: CE per step}):
    drawn live, after the run and for the recorded run."""
    fig = go.Figure()
    for name, ce in ces.items():
        smooth = pd.Series(ce, dtype=float).rolling(10, min_periods=1).mean()
        fig.add_trace(go.Scatter(x=list(range(1, len(smooth) + 1)), y=smooth, mode="lines", name=name))
    fig.update_xaxes(**figures.step_axis(max((len(ce) for ce in ces.values()), default=0)))
    fig.update_layout(height=320, title="Training next-token cross-entropy (10-step mean)",
                      yaxis_title="CE (nats)", margin=dict(t=40, b=10), font=dict(size=14),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def in_order(students: dict) -> dict:
    """The students of a result (JSON, its keys sorted) in the page's order: hard labels, then distilled."""
    return {name: students[name] for name in ("hard labels", "distilled")}


def ce_of_rows(rows: list) -> dict:
    """{student: CE per step} from a class run's rows (what the page draws while it follows the run)."""
    return {"hard labels": [r["ce_hard"] for r in rows], "distilled": [r["ce_distilled"] for r in rows]}


def val_figure(curves: dict) -> go.Figure:
    """Validation perplexity of both students (``curves``: {student: [(step, perplexity), ...]})."""
    fig = go.Figure()
    for name, curve in curves.items():
        fig.add_trace(go.Scatter(x=[s for s, _ in curve], y=[p for _, p in curve], mode="lines+markers", name=name))
    fig.update_xaxes(**figures.step_axis(max((s for c in curves.values() for s, _ in c), default=0)))
    fig.update_layout(height=320, title="Validation perplexity (held-out plays)", yaxis_title="perplexity",
                      yaxis=figures.log_axis([p for c in curves.values() for _, p in c]),
                      margin=dict(t=40, b=10), font=dict(size=14), legend=dict(orientation="h", y=-0.25))
    return fig


def teacher_lab(device: str) -> kd_recorded.Lab:
    """The shared teacher whose fingerprint keys the recorded default run (lessons/efficiency/recorded.py)
    and the class runs."""
    return kd_recorded.Lab(loaders.tiny_gpt(device))


rec = recorded.find(kd_recorded, kd_recorded.KIND, kd_recorded.settings(), dev, teacher_lab)
is_default = settings == D


def expectation() -> str:
    """What the recorded default run showed, in figures read from the record."""
    if rec is None:
        return "What to expect: in the first few steps the two curves are close; give the students all their steps before judging."
    v50, v100 = kd_recorded.val_at(rec, 50), kd_recorded.val_at(rec, 100)
    return ("What to expect: in the first few steps the two curves are close. In the recorded run of the defaults "
            f"(α = {D['alpha']}, T = {D['T']:g}, {D['layers']} layers × {D['width']}, seed {D['seed']}) validation "
            f"perplexity was {v50['distilled']:.0f} distilled vs {v50['hard labels']:.0f} hard labels at step 50 and "
            f"{v100['distilled']:.0f} vs {v100['hard labels']:.0f} at step 100, so give the students all their steps "
            "before judging.")


def start_run(use_record: bool = True) -> None:
    """Train (or Run it again live): join the class run of these settings, or queue it for a
    worker process (both students train there); a finished run of these settings shows at once."""
    s = kd_recorded.settings(**settings)
    lab = recorded.lab(kd_recorded, dev, teacher_lab)   # the Lab the recorded runs are keyed with (hashed once per process)
    spec = distillation_job.spec(s, MAX_SECONDS, lab.fingerprints(s), jobs.budget().threads, dev)
    class_run_page.train_together("distillation", distillation_job.KIND, spec, shareable=True, max_seconds=MAX_SECONDS,
                                  steps=steps, settings=settings, use_record=use_record, broadcast=broadcast,
                                  rows_of=lambda result: result["history"])


# Stop: this learner leaves the run; when nobody else follows it, it stops after its current step
# and the page compares both students as they were then (evaluated by the worker).
class_run_page.presses("distillation", train, start_run)

main = charts.main_figure()   # the two students' curves: live, trained, or the recorded run
note = main.empty()           # where a class run's result came from (a record, the teacher's run, a shared run)
if live.state("distillation").running:
    bar, chart = main.progress(0.0, text="Training ..."), main.empty()
    class_run_page.follow("distillation", bar, lambda rows, lv: charts.show(ce_figure(ce_of_rows(rows)), where=chart,
                                                                            fit=True))
    bar.empty()
    chart.empty()


def results_table(res: dict) -> None:
    """The teacher and both students: parameters, validation perplexity, speed, steps."""
    ms = res["ms_per_forward"]
    rows = [{"model": "teacher (tiny GPT)", "parameters": res["n_params_teacher"],
             "validation perplexity": round(res["teacher_val_ppl"], 1),
             "ms per forward (1×64)": round(ms["teacher"], 2), "steps": ""}]
    for name, r in in_order(res["students"]).items():
        rows.append({"model": f"student, {name}", "parameters": res["n_params_student"],
                     "validation perplexity": round(r["val_ppl"][-1][1], 1),
                     "ms per forward (1×64)": round(ms[name], 2),
                     "steps": f"{r['steps']}" + (f" ({StopReason(res['stopped']).describe()})"
                                                 if res["stopped"] != StopReason.STEPS.value else "")})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


lv = live.state("distillation")
res = (lv.result or {}).get("job") if not lv.running else None   # the worker's result; none if this learner left
if lv.status == "finished":
    class_run_page.class_run_note("distillation", note)          # a record of these settings, or a shared run
    if lv.result.get("error"):
        main.error(f"The run stopped: {inputs.md_escape(lv.result['error'])}. Press **Train both students** to "
                   "try again.")
    if lv.settings != settings:
        main.info("These students were trained with other settings; press the button to retrain.")
if lv.status == "finished" and res is None and lv.run.history:      # left a shared run: the steps seen
    class_run_page.left_note("distillation", where=main)
    charts.show(ce_figure(ce_of_rows(lv.run.history)), key="distillation.left_fig", where=main, fit=True)
elif lv.status == "finished" and res is not None:
    students = in_order(res["students"])
    done = students["distilled"]["steps"]
    if res["stopped"] != StopReason.STEPS.value:
        main.info(f"Training ended early, {StopReason(res['stopped']).describe()}, after {done} of "
                  f"{lv.run.steps_planned} steps: the curves and the table show both students as they were then "
                  "(they always stop after the same step).")
    p1c, p2c = main.columns(2)
    charts.show(ce_figure({n: s["ce"] for n, s in students.items()}), key="distillation.loss_fig", where=p1c, fit=True)
    charts.show(val_figure({n: s["val_ppl"] for n, s in students.items()}), key="distillation.ppl_fig", where=p2c,
                fit=True)
    results_table(res)
    st.caption(f"Validation perplexity: Shakespeare, {describe_slice()}; the teacher's figure is the tiny "
               "GPT's Shakespeare perplexity shown on every page. The three speeds were measured together (interleaved) "
               "on the training worker.")
    hard, soft = students["hard labels"]["val_ppl"][-1][1], students["distilled"]["val_ppl"][-1][1]
    better = "distilled" if soft < hard else "hard-label"
    st.markdown(f"**Result:** after {done} steps the **{better}** student has the lower "
                f"validation perplexity ({soft:.1f} distilled vs {hard:.1f} hard labels). The students have "
                f"{res['n_params_student'] / teacher.n_params:.0%} of the teacher's parameters.")
    st.caption(f"Both students trained for {res['seconds']:.1f} s together. Timings are from this machine, possibly "
               "shared with other users; at this tiny size per-call overhead dominates, so treat the ms column as "
               "rough.")
    st.caption(expectation())
elif lv.status == "finished":
    main.info("Training was stopped before the students took a step: nothing to compare yet.")
elif rec is not None and is_default:
    students = in_order(rec.result["students"])
    hard, soft = students["hard labels"]["val_ppl"][-1][1], students["distilled"]["val_ppl"][-1][1]
    recorded.note(rec, f"The default settings: after {students['distilled']['steps']} steps the distilled "
                       f"student's validation perplexity is {soft:.1f} against {hard:.1f} for the hard-label student. "
                       "Press *Train both students* to train your own pair live (the same settings give the same "
                       "curves).", where=main)
    p1c, p2c = main.columns(2)
    charts.show(ce_figure({n: s["ce"] for n, s in students.items()}), key="distillation.recorded_loss_fig", where=p1c,
                fit=True)
    charts.show(val_figure({n: s["val_ppl"] for n, s in students.items()}), key="distillation.recorded_ppl_fig",
                where=p2c, fit=True)
    st.caption(expectation())
else:
    main.caption("Press *Train both students* (bounded by its steps; learners who press it on the same settings "
                 "share one run, trained on the server's training workers).")

common.try_this(
    "Set α = 0 for the distilled student too: both curves should coincide (same seed, same batches). "
    "This is the control experiment.",
    "Try T = 1 vs T = 4 with α = 1: does the student learn faster from sharper or softer targets?",
    "In section 1, with the default context, raise T from 1 to 1.5: the top token ' lord' falls from about a "
    "third to below 20%, and on the right the runners-up close in. Which other tokens does the teacher consider "
    "plausible? That is the 'dark knowledge'.",
    "Give the students 1 layer and width 32: how much perplexity does a 4× smaller student lose?",
)
