# lesson: DPO versus PPO
# week: 3
# order: 16
# icon: 🎯
# topics: DPO, direct preference optimization, PPO, implicit reward, RLHF
# summary: Train DPO directly on your preference pairs and compare it with PPO on the same data: reward reached, KL and time.
"""DPO on the session's preference pairs, then the same evaluation for DPO and PPO."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.core.loop import StopReason
from lessons.rlhf import dpo, dpo_job, ppo, recorded, recorded_pages
from ui import charts, class_run_page, common, figures, live, rlhf
from ui.inputs import md_escape

st.title("🎯 DPO versus PPO")
st.markdown(
    "**Direct Preference Optimization** skips the reward model and the RL loop. The optimum of "
    "the KL-penalised RLHF objective can be written in closed form, which turns every policy into "
    "an *implicit* reward model: β·log(π_θ/π_ref). Plugging that into the same Bradley–Terry "
    "loss gives a plain classification loss on the preference pairs — no sampling while "
    "training, no value head."
)
st.latex(r"\mathcal{L}_\text{DPO} = -\mathbb{E}\Big[\log\sigma\Big(\beta\log\frac{\pi_\theta(y_w|x)}{\pi_\text{ref}(y_w|x)}"
         r" - \beta\log\frac{\pi_\theta(y_l|x)}{\pi_\text{ref}(y_l|x)}\Big)\Big]")

base = rlhf.tiny_gpt_or_stop()
s = rlhf.state()
built = rlhf.ensure_reward_model(s, key="dpo.quickstart")
if built:
    st.caption(f"DPO trains on the {len(s.pairs)} preference pairs of this session; the reward model is used "
               "only to *evaluate* both methods on fresh samples.")

D = dpo.DPOConfig      # the defaults: the widgets start at them, and the recorded run has them
c1, c2, c3, c4 = st.columns(4)
beta = c1.select_slider("DPO β", [0.05, 0.1, 0.2, 0.5, 1.0], value=D.beta, key="dpo.beta")
lr = c2.select_slider("learning rate", [5e-5, 1e-4, 2e-4, 5e-4, 1e-3], value=D.lr, key="dpo.lr")
epochs = c3.slider("epochs over the pairs", 1, 10, D.epochs, key="dpo.epochs")
seed = c4.number_input("seed", 0, 10_000, D.seed, key="dpo.seed")
max_s = st.slider("time limit (s)", 30, 600, 300, step=30, key="dpo.seconds",
                  help="A safety net only: the epochs define the run, so a busy server takes longer but gets there.")
has_ppo = bool(s.ppo.get("trainer") and s.ppo["trainer"].history and not s.ppo.get("lora"))
c1, c2 = st.columns(2)
run_ppo = c1.checkbox("Also run PPO now (same pairs, same reward model)", value=not has_ppo, key="dpo.with_ppo",
                      help="Unticked: compare with your last tiny-GPT PPO run from the PPO page.")
ppo_steps = c2.slider("PPO steps for this comparison (page defaults otherwise)", 1, 200,
                      ppo.POLICY_DEFAULTS["tiny"]["steps"], key="dpo.ppo_steps",
                      disabled=not run_ppo)
if built and not run_ppo and not has_ppo:
    st.caption("No tiny-GPT PPO run in this session yet: only DPO will be shown.")

# the recorded run of these settings (the defaults, or a Try-this), while the session's reward model is
# the one-click default or there is none yet
page = dict(beta=beta, lr=lr, epochs=epochs, seed=int(seed))
record = (rlhf.recorded_run(recorded_pages.DPO_PAGE, recorded_pages.dpo_page_settings(**page), s)
          or rlhf.recorded_run("dpo", recorded.dpo_settings(**page), s))

go_clicked = False if not built else live.buttons(
    "dpo", "▶ Train DPO and compare", start="run",
    stop_help="Stops the run; the partly trained DPO policy is judged like a finished one.")


def dpo_steps(n_pairs: int, n_epochs: int) -> int:
    return n_epochs * recorded.dpo_steps_per_epoch(n_pairs)


def watch_air(spec: dict) -> dict:
    """How this page follows the teacher's broadcast DPO run (class_run_page.teacher_broadcast)."""
    sp = spec["settings"]
    n_pairs = recorded.ONE_CLICK["n_pairs"] if spec["pairs"] == "one-click" else len(spec["pairs"])
    return dict(steps=dpo_steps(n_pairs, sp["epochs"]) + sp["ppo_steps"],
                max_seconds=dpo_job.seconds_cap(sp, spec["max_seconds"]),
                settings=dict(beta=sp["beta"], with_ppo=bool(sp["ppo_steps"])))


# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "dpo", dpo_job.KIND, watch=watch_air,
    describe=lambda spec: (f"DPO β = {spec['settings']['beta']}, learning rate {spec['settings']['lr']:g}, "
                           f"{spec['settings']['epochs']} epoch(s)"
                           + (f", then {spec['settings']['ppo_steps']} PPO steps" if spec['settings']['ppo_steps'] else "")))

bar = st.empty()
with charts.main_figure():       # the lesson's main figure: the recorded run on open, the live run after Train
    note_ph = st.empty()        # the recorded run's label, above its figure
    chart_ph = st.empty()


def loss_figure(hist: list[dict]) -> go.Figure:
    h = pd.DataFrame([r for r in hist if r.get("phase", "dpo") == "dpo"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=h.step, y=h.loss, name="DPO loss", mode="lines+markers"))
    fig.add_trace(go.Scatter(x=h.step, y=h.margin, name="implicit reward margin r_w − r_l", mode="lines+markers"))
    fig.add_trace(go.Scatter(x=h.step, y=h.pair_acc, name="pairs with r_w > r_l (batch)", mode="lines+markers"))
    fig.update_xaxes(**figures.step_axis(int(h.step.max()) if len(h) else 0, "DPO step"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title="nats (loss, margin) · share (pairs)",
                      legend=dict(orientation="h", y=1.15))
    return fig


def compare_with() -> dict | None:
    """The session's last tiny-GPT PPO run, for a comparison without a new PPO run: its saved
    weights (the class run's file), β, training time and steps; None when there is none."""
    job = (live.state("ppo").result or {}).get("job") or {}
    if not has_ppo or not job.get("weights"):
        return None
    tr = s.ppo["trainer"]
    return {"weights": job["weights"], "beta": tr.cfg.beta, "seconds": round(tr.elapsed, 1), "steps": len(tr.history)}


def start(use_record: bool = True) -> None:
    """Train (or Run it again live): the run trains in a worker process (lessons/rlhf/dpo_job.py);
    learners with the same settings on the one-click data share it, and a finished one shows at once."""
    settings = {**recorded.dpo_settings(**page), "ppo_steps": ppo_steps if run_ppo else 0}
    compare = None if run_ppo else compare_with()
    spec, shareable = rlhf.dpo_job_spec(s, settings, float(max_s), compare)
    class_run_page.train_together(
        "dpo", dpo_job.KIND, spec, shareable=shareable, max_seconds=dpo_job.seconds_cap(settings, float(max_s)),
        steps=dpo_steps(len(s.pairs), epochs) + settings["ppo_steps"], use_record=use_record, broadcast=broadcast,
        settings=dict(beta=beta, with_ppo=run_ppo), rows_of=lambda r: r["history"] + r["ppo_history"])


# Stop: this learner leaves the run; when nobody else follows it, it ends and the partly trained
# DPO policy is judged (the page waits for that result).
class_run_page.presses("dpo", go_clicked, start, see_it_end=True)
lv = live.state("dpo")
if lv.running:
    class_run_page.follow(
        "dpo", bar, label="DPO + PPO step" if lv.settings.get("with_ppo") else "DPO step",
        draw=lambda rows, lv: charts.show(loss_figure(rows), where=chart_ph, fit=True, key=f"dpo.live_{rows[-1]['step']}"))
    bar.empty()


def show_comparison(rows: list[dict], hist: list[dict], key: str) -> None:
    """The DPO curve (the main figure), the table and bars of every row and their samples."""
    charts.show(loss_figure(hist), key=f"{key}.curve", where=chart_ph, fit=True)
    table = pd.DataFrame([{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items() if k != "samples"}
                          for r in rows])
    table = table.rename(columns={"reward": "reward r_φ (std units)", "kl": "KL to π_ref (nats)",
                                  "win_rate": "labeler win-rate", "ppl_ref": "perplexity under π_ref",
                                  "seconds": "training time (s)"})
    st.dataframe(table, hide_index=True, width="stretch")
    charts.show(rlhf.compare_figure(rows), key=f"{key}.bars")
    st.markdown(rlhf.compare_reading(rows))
    st.subheader("Samples")
    cols = st.columns(len(rows))
    for col, r in zip(cols, rows):
        col.markdown(f"**{r['method']}**")
        col.dataframe(pd.DataFrame(r["samples"], columns=["prompt", "completion"]), hide_index=True, width="stretch")
    st.caption("All rows are evaluated the same way: two fresh samples per prompt, scored by r_φ "
               "and by the labeler against π_ref's own completions; KL is the Monte-Carlo estimate "
               "Σ_t log π_θ − log π_ref over those samples. DPO learns only from the fixed pairs (sampled "
               "from π_ref), so it cannot explore beyond them; PPO samples new text every step.")


EVAL_KEYS = ("reward", "kl", "win_rate", "ppl_ref", "distinct_2", "empty_frac", "mean_len", "readable", "samples")

job = (lv.result or {}).get("job") if not lv.running else None
seen = [r for r in (lv.run.history if lv.run is not None else []) if r.get("phase", "dpo") == "dpo"]
if lv.result and lv.result.get("error"):
    st.error(f"The DPO run stopped: {md_escape(lv.result['error'])}. Press **Train DPO and compare** to try again.")
if job and job["rows"]:
    hist = job["history"]
    class_run_page.class_run_note("dpo", note_ph)      # a record, the teacher's run, or a shared run
    show_comparison(job["rows"], hist, "dpo.done")
    d_stop, p_stop = StopReason(job["dpo_stopped"]), job["ppo_stopped"]
    if d_stop is not StopReason.STEPS:
        st.info(f"DPO {d_stop.describe()} after {len(hist)} of {job['steps_planned']} steps: "
                "the table judges the partly trained policy.")
    elif p_stop not in (None, StopReason.STEPS.value):
        st.info(f"The comparison's PPO run was {StopReason(p_stop).describe()}"
                + (f": DPO finished ({len(hist)} steps) and is compared with π_ref only." if p_stop == "stopped" else
                   f" after {len(job['ppo_history'])} of {job['ppo_steps']} steps: its row judges the policy it had."))
elif not lv.running and seen and (job is None or not job["rows"]) and lv.stopped:
    charts.show(loss_figure(seen), key="dpo.left.curve", where=chart_ph, fit=True)
    class_run_page.left_note("dpo")
elif job is not None or lv.stopped:
    st.info("DPO was stopped before its first step finished: nothing to judge yet.")
elif not lv.running and record is not None:
    res = record.result
    hist, end = res["history"], res["end"]
    rows = [{"method": "starting model π_ref", **{k: res["ref"][k] for k in EVAL_KEYS if k in res["ref"]}},
            {"method": f"DPO (β = {beta})", **{k: end[k] for k in EVAL_KEYS if k in end},
             "seconds": round(end["seconds"], 1), "steps": len(hist)}]
    rlhf.recorded_note(record, built=built, where=note_ph)
    show_comparison(rows, hist, "dpo.recorded")
    st.caption("The recorded run compares DPO with π_ref; *Train DPO and compare* also trains PPO on the same "
               "pairs and adds its row.")
elif not lv.running:
    st.info("Press **Train DPO and compare**." if built
            else "Build the reward model above to train. (No recorded run has these settings.)")

common.try_this(
    "Compare the 'training time' column: a DPO step is two forward passes and one backward pass on fixed pairs, a "
    "PPO step samples every token first. Does DPO reach PPO's reward?",
    "Raise DPO β to 1.0: the implicit reward is scaled up, so the policy moves less from π_ref (lower KL).",
    "Train DPO for 10 epochs: the margin on the pairs keeps growing. Does the labeler win-rate keep improving too?",
    "Raise the learning rate to 1e-3: the DPO loss falls much faster and the policy moves several times as far "
    "from π_ref (KL), yet the labeler's win-rate does not improve. A low loss on the pairs says little about "
    "the text the policy writes.",
    "Clear the dataset on the preferences page and label only your own clicks: DPO with 20 pairs versus 300.",
)
