# lesson: PPO: RLHF that really trains
# week: 3
# order: 12
# icon: 🏋️
# topics: RLHF, PPO, KL penalty, value head, GAE, clipped objective, LoRA, reference model
# summary: Train the tiny GPT (or SmolLM2 with LoRA) with a real PPO loop against your reward model, live, in about a minute.
"""RLHF stage 3: a small, paper-named PPO loop (lessons/rlhf/ppo.py) with live charts, progress,
a Stop button, start-versus-now samples and the memory a frozen reference costs."""
import pandas as pd
import streamlit as st

from dataclasses import asdict

from lessons.core import measured
from lessons.rlhf import policy as policy_lib, ppo, ppo_job, recorded
from ui import class_run_page, charts, common, live, rlhf
from ui.inputs import md_escape

st.title("🏋️ PPO: RLHF that really trains")
st.markdown(
    "Now the language model becomes a **policy** π_θ: the prompt is the state, each sampled "
    "token an action, and at the end of the line the reward model gives a score. PPO nudges "
    "π_θ towards completions with higher reward — while a **KL penalty** keeps it close to the "
    "frozen starting model π_ref, so it stays fluent. Every step below: sample a batch of "
    "completions, score them, compute advantages, and take a few clipped gradient steps."
)
st.latex(r"R(x,y) = r_\phi(x,y) - \beta \sum_t \underbrace{\big(\log\pi_\theta(y_t|s_t) - \log\pi_{\text{ref}}(y_t|s_t)\big)}_{\text{KL}_t}")
st.latex(r"\hat A_t = \sum_{l\ge 0} (\gamma\lambda)^l \delta_{t+l},\quad \delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)")
st.latex(r"\rho_t(\theta) = \frac{\pi_\theta(y_t|s_t)}{\pi_{\theta_\text{old}}(y_t|s_t)},\qquad "
         r"L^{\text{CLIP}} = -\mathbb{E}_t\big[\min\big(\rho_t \hat A_t,\ \operatorname{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\,\hat A_t\big)\big]")
st.caption("The per-token reward r_t is −β·KL_t, plus r_φ(x, y) on the last token. V(s_t) is a linear "
           "value head on the policy's last hidden state. The **win-rate** is the share of the policy's "
           "completions the labeler prefers over the starting model's completions of the same prompt "
           "(ties count ½), so it starts near 0.5.")

base = rlhf.tiny_gpt_or_stop()
s = rlhf.state()
built = rlhf.ensure_reward_model(s, key="ppo.quickstart")

MODELS = {"tiny": "tiny GPT, full fine-tune (default)", "lora": "SmolLM2-135M + LoRA (slower on a CPU)"}
# Each policy has its own widgets (keys end in .tiny / .lora) and its own measured defaults.
c1, c2, c3, c4 = st.columns(4)
with c1:
    pol_kind = st.radio("Policy", list(MODELS), format_func=MODELS.get, key="ppo.model")
lora = pol_kind == "lora"
d = ppo.POLICY_DEFAULTS[pol_kind]
with c2:
    beta = st.select_slider("β (KL coefficient)", [0.0, 0.05, 0.1, 0.2, 0.3, 0.5], value=d["beta"],
                            key=f"ppo.beta.{pol_kind}")
    lr = st.select_slider("learning rate", [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3], value=d["lr"],
                          key=f"ppo.lr.{pol_kind}")
with c3:
    steps = st.slider("PPO steps", 1, 60 if lora else 200, d["steps"], key=f"ppo.steps.{pol_kind}")
    max_s = st.slider("time limit (s)", 10, 900, d["max_seconds"], step=10, key=f"ppo.seconds.{pol_kind}",
                      help="A safety bound; the run is defined by its steps.")
with c4:
    batch = st.select_slider("prompts per batch", [8, 16, 24, 32, 48], value=d["batch_size"], key=f"ppo.batch.{pol_kind}")
    seed = st.number_input("seed", 0, 10_000, 0, key="ppo.seed")
if lora:
    m, hot = measured.outcome("ppo-lora"), measured.outcome("ppo-lora-hot")
    note = ("SmolLM2 + LoRA has its own defaults: one SmolLM2 step costs about as much as 20 tiny-GPT "
            "steps, so the batch is half the tiny GPT's and the run is short (about 5 minutes on a laptop CPU).")
    if m and hot:
        note += (f" Measured with these defaults ({measured.outcomes().get('date', '')}, seed 0): win-rate "
                 f"{m['start']:.2f} → {m['value']:.2f} in {m['steps']} steps at KL {m['kl_nats']:.1f} nats, a "
                 f"smaller gain than the tiny GPT's, and noisy from step to step. With learning rate "
                 f"{hot['lr']:g} the policy drifted {hot['kl_nats'] / m['kl_nats']:.0f} times as far (KL "
                 f"{hot['kl_nats']:.0f} nats) and gained nothing (win-rate {hot['value']:.2f}): try it.")
    st.caption(note)
with st.expander("PPO settings (defaults work)"):
    e1, e2, e3, e4 = st.columns(4)
    epochs = e1.slider("epochs per batch (K)", 1, 8, 4, key="ppo.epochs")
    clip_eps = e2.select_slider("clip ε", [0.1, 0.2, 0.3], value=0.2, key="ppo.clip")
    lam = e3.select_slider("GAE λ", [0.0, 0.5, 0.9, 0.95, 1.0], value=0.95, key="ppo.lambda")
    max_new = e4.slider("max new tokens", 4, 24, 12, key="ppo.max_new")

cfg = ppo.PPOConfig(steps=steps, batch_size=batch, max_new_tokens=max_new, ppo_epochs=epochs, lr=lr, beta=beta,
                    lam=lam, clip_eps=clip_eps, max_seconds=float(max_s), seed=int(seed))
settings = recorded.ppo_settings(pol_kind, **{k: v for k, v in asdict(cfg).items() if k != "max_seconds"})
record = rlhf.recorded_run("ppo", settings, s)

train_clicked = False if not built else live.buttons("ppo", "▶ Train", stop_help="Stops after the current PPO step; the policy keeps what it learned.")


def watch_air(spec: dict) -> dict:
    """How this page follows the teacher's broadcast PPO run (class_run_page.teacher_broadcast)."""
    sp = spec["settings"]
    c = ppo.PPOConfig(**{k: v for k, v in sp.items() if k not in ("policy", "evaluate")}, max_seconds=spec["max_seconds"])
    return dict(steps=c.steps, max_seconds=c.max_seconds, settings=dict(beta=c.beta, lora=sp["policy"] == "lora", config=c))


# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "ppo", ppo_job.KIND, watch=watch_air,
    describe=lambda spec: (f"{'SmolLM2 + LoRA' if spec['settings']['policy'] == 'lora' else 'tiny GPT'}, "
                           f"β = {spec['settings']['beta']}, learning rate {spec['settings']['lr']:g}, "
                           f"{spec['settings']['steps']} steps, {spec['settings']['batch_size']} prompts per batch"))

bar = st.empty()
metrics_ph = st.empty()
with charts.main_figure():       # the lesson's main figure: the recorded run on open, the live run after Train
    note_ph = st.empty()        # the recorded run's label, above its figure
    chart_ph = st.empty()
samples_ph = st.empty()


def draw(rows: list[dict], beta_run: float, start: list, now: list, live_chart: bool) -> None:
    if not rows:
        return
    last = rows[-1]
    with metrics_ph.container():
        m = st.columns(5)
        m[0].metric("step", last["step"])
        m[1].metric("mean reward r_φ", f"{last['reward']:+.2f}", f"{last['reward'] - rows[0]['reward']:+.2f}")
        m[2].metric("win-rate vs π_ref", f"{last['win_rate']:.2f}", f"{last['win_rate'] - rows[0]['win_rate']:+.2f}")
        m[3].metric("KL to π_ref (nats)", f"{last['kl']:.2f}")   # the unit in the label: the value fits at 1280 px
        m[4].metric("time", f"{last['seconds']:.0f} s")
    charts.show(rlhf.runs_figure({f"β = {beta_run}": rows}, target=0.8), where=chart_ph, fit=True,
                key=f"ppo.chart_{'live' if live_chart else 'done'}_{last['step']}")
    samples_ph.dataframe(pd.DataFrame(rlhf.samples_table(start, now)), hide_index=True, width="stretch")


def finish(lv: live.LiveRun) -> None:
    """The class run ended: its result and this session's copy of the trained policy (the
    preferences and DPO pages use it)."""
    job = lv.result.get("job")
    if job is not None:
        c = lv.settings["config"]
        lv.result["trainer"] = rlhf.ppo_outcome(job, c, base, lv.settings["lora"])
        lv.result["memory"] = policy_lib.MemoryReport(**job["memory"])


def start(use_record: bool = True) -> None:
    """Train (or Run it again live): join the class run of these settings, or start it in a
    worker process (ui/class_runs.py); a finished run with these settings shows at once."""
    spec, shareable = rlhf.ppo_job_spec(s, settings, cfg.max_seconds)
    lv = class_run_page.train_together("ppo", ppo_job.KIND, spec, shareable=shareable, max_seconds=cfg.max_seconds,
                             steps=cfg.steps, settings=dict(beta=beta, lora=lora, config=cfg), use_record=use_record,
                             broadcast=broadcast)
    if lv.status == "finished":      # shown from the record of a finished class run
        finish(lv)


# Stop: this learner leaves the run (it goes on for the others who follow it); the steps seen stay.
class_run_page.presses("ppo", train_clicked, start, see_it_end=False)

lv = live.state("ppo")
if lv.running:
    # the metrics, chart and samples redraw at most a fifth of the time (class_run_page.follow); the bar
    # moves at every step; the training itself runs in a worker process
    class_run_page.follow("ppo", bar, label="PPO step", finisher=finish,
                draw=lambda rws, lv: draw(rws, lv.settings["beta"], rws[0]["samples"], rws[-1]["samples"],
                                          live_chart=True))
    bar.empty()
rows = lv.run.history if lv.run is not None and not lv.running else []
if lv.result and lv.result.get("error"):
    st.error(f"The PPO run stopped: {md_escape(lv.result['error'])}. Press **Train** to try again.")
if rows:
    tr = lv.result.get("trainer")
    draw(rows, lv.settings["beta"], rows[0]["samples"], rows[-1]["samples"], live_chart=False)
    res = tr.result if tr is not None else None
    class_run_page.class_run_note("ppo", note_ph)      # a record, the teacher's run, or a shared run
    first, last = rows[0], rows[-1]
    how = lv.run.stopped.describe() if lv.run.stopped is not None else "failed"
    msg = (f"Run finished ({how}) after {last['step']} steps in {last['seconds']:.0f} s: win-rate "
           f"{first['win_rate']:.2f} → {last['win_rate']:.2f}, reward {first['reward']:+.2f} → "
           f"{last['reward']:+.2f}, KL {last['kl']:.2f} nats; on average "
           f"{sum(r['clipfrac'] for r in rows) / len(rows):.0%} of the token updates hit the clip (clipfrac).")
    if res is not None and res.steps_to_target:
        msg += f" Reached win-rate 0.8 (mean of 3 steps) at step {res.steps_to_target} ({res.seconds_to_target:.0f} s)."
    st.success(msg)
    if lv.stopped and tr is None:
        class_run_page.left_note("ppo")
mem = (lv.result or {}).get("memory") if rows else None
if mem is not None:
    st.subheader("Memory: what the frozen reference costs")
    mc = st.columns(4)
    mc[0].metric("parameters in π_θ", f"{mem.total_params / 1e6:.2f} M")
    mc[1].metric("trainable parameters", f"{mem.trainable_params / 1e6:.3f} M",
                 f"{mem.trainable_params / mem.total_params:.2%} of the model",
                 delta_color="off", delta_arrow="off")   # a share, not a change: no green arrow
    mc[2].metric("a second copy for π_ref would cost", f"{mem.naive_reference_mb:.1f} MB")
    mc[3].metric("π_ref costs here", f"{mem.reference_mb:.1f} MB")
    extra = ""
    if lv.settings["lora"]:
        extra = (f" Adam's state also shrinks from {mem.naive_adam_mb:.0f} MB (every weight) to "
                 f"{mem.adam_mb:.2f} MB (adapter and value head only).")
    st.caption(f"{mem.how}. Saved: {mem.naive_reference_mb - mem.reference_mb:.1f} MB of weights.{extra}")
elif rows:
    pass      # drawn above (a run this learner left: no memory panel, the run was not theirs to the end)
elif lv.stopped:
    st.info("Stopped by you before the first PPO step finished: nothing to show yet.")
elif not lv.running and record is not None:
    run = ppo.PPOResult.from_json(record.result["run"])
    draw(run.rows(), beta, run.start_samples, run.history[-1].samples, live_chart=False)
    rlhf.recorded_note(record, built=built, where=note_ph)
elif not lv.running:
    st.info("Press **Train**. The progress bar moves after every PPO step and the charts follow as the run goes; **Stop** ends the run early."
            if built else "Build the reward model above to train. (No recorded run has these settings.)")

common.try_this(
    "Train with the defaults and watch the samples: which words does the policy learn to use?",
    "Set β = 0.5: the KL stays small, but the lines shrink to a few words (some empty) and the win-rate falls: "
    "every token costs KL, so short lines are cheap. Set β = 0.05: r_φ rises fast — but read the samples and "
    "watch the labeler's win-rate fall: the policy is gaming the reward model. β trades reward for staying "
    "close to π_ref; too much of it is as bad as too little.",
    "Set K = 1 epoch per batch, then 8, and train 3 steps each: with 8 passes over each batch, more of the token "
    "updates hit the clip (the clipfrac in the summary) — the clip is what stops many passes over one batch from "
    "pushing the policy too far. Which run has the higher reward after 3 steps?",
    "Switch the labeler on the preferences page to 'Shorter is better', retrain the reward model, and train again.",
    "Choose SmolLM2 + LoRA: only the adapter trains, and π_ref is the same model with the adapter off (see the memory panel).",
)
