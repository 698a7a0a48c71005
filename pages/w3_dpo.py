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
from lessons.rlhf import dpo, ppo, policy as policy_lib, recorded, recorded_pages
from ui import charts, common, figures, live, rlhf, runtime

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
built = rlhf.ensure_reward_model(s, base, key="dpo.quickstart")
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
bar = st.empty()
with charts.main_figure():       # the lesson's main figure: the recorded run on open, the live run after Train
    note_ph = st.empty()        # the recorded run's label, above its figure
    chart_ph = st.empty()


def loss_figure(hist: list[dict]) -> go.Figure:
    h = pd.DataFrame(hist)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=h.step, y=h.loss, name="DPO loss", mode="lines+markers"))
    fig.add_trace(go.Scatter(x=h.step, y=h.margin, name="implicit reward margin r_w − r_l", mode="lines+markers"))
    fig.add_trace(go.Scatter(x=h.step, y=h.pair_acc, name="pairs with r_w > r_l (batch)", mode="lines+markers"))
    fig.update_xaxes(**figures.step_axis(int(h.step.max()) if len(h) else 0, "DPO step"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title="nats (loss, margin) · share (pairs)",
                      legend=dict(orientation="h", y=1.15))
    return fig


def compare_rows(d_pol, d_seconds: float, d_steps: int, new_ppo: bool) -> list[dict]:
    """pi_ref, the DPO policy and a PPO policy, judged the same way: fresh samples on every prompt."""
    yard = ppo.PPOTrainer(policy_lib.from_shared(base.model, base.tokenizer), s.rm, s.labeler,
                          policy_lib.PROMPTS, ppo.PPOConfig(steps=1, seed=int(seed)))
    ref_c = yard.ref_completions
    rows = [{"method": "starting model π_ref", **ppo.evaluate_policy(yard.policy, s.rm, s.labeler, ref_c)}]
    rows.append({"method": f"DPO (β = {beta})", **ppo.evaluate_policy(d_pol, s.rm, s.labeler, ref_c),
                 "seconds": round(d_seconds, 1), "steps": d_steps})
    p_pol = None
    if new_ppo:
        pcfg = ppo.PPOConfig(**{**ppo.POLICY_DEFAULTS["tiny"], "seed": int(seed), "steps": ppo_steps})
        p_tr = ppo.PPOTrainer(policy_lib.from_shared(base.model, base.tokenizer, seed=int(seed)), s.rm,
                              s.labeler, policy_lib.PROMPTS, pcfg)
        live.state("dpo").result["phase"] = "ppo"
        p_res = ppo.train(p_tr, progress=live.progress(bar.progress(0.0), label="PPO step"))
        p_pol, p_secs, p_steps, p_beta = p_tr.policy, p_res.seconds, len(p_res.history), pcfg.beta
    elif has_ppo:
        p_tr = s.ppo["trainer"]
        p_pol, p_secs, p_steps, p_beta = p_tr.policy, p_tr.elapsed, len(p_tr.history), p_tr.cfg.beta
    if p_pol is not None:
        rows.append({"method": f"PPO (β = {p_beta})", **ppo.evaluate_policy(p_pol, s.rm, s.labeler, ref_c),
                     "seconds": round(p_secs, 1), "steps": p_steps})
    return rows


def finish(lv: live.LiveRun) -> None:
    """A run interrupted by Stop (or by any other click, which also reruns the page): the partly
    trained DPO policy is judged like a finished one (no new PPO run) and its curve stays."""
    hist = lv.run.history if lv.run is not None else []
    if hist:
        with st.spinner(f"Scoring the DPO policy stopped after {len(hist)} steps ..."):
            lv.result["rows"] = compare_rows(lv.result["policy"], hist[-1]["seconds"], len(hist), new_ppo=False)


live.finish_interrupted("dpo", finish, restarting=go_clicked)

if go_clicked:
    with runtime.training_slot() as ok:
        if ok:
            cfg = dpo.DPOConfig(beta=beta, lr=lr, epochs=epochs, max_steps=10_000, max_seconds=float(max_s),
                                seed=int(seed))
            d_pol = policy_lib.from_shared(base.model, base.tokenizer, seed=int(seed))
            lv = live.begin("dpo", None, {"policy": d_pol, "phase": "dpo", "rows": None},
                            dict(beta=beta, lr=lr, epochs=epochs, seed=int(seed), with_ppo=run_ppo))
            tick = live.progress(bar.progress(0.0, text="DPO ..."), label="DPO step",
                                 draw=lambda row, run: charts.show(loss_figure(run.history), where=chart_ph,
                                                                   fit=True, key=f"dpo.live_{row['step']}"),
                                 keep=lv)   # its history grows in place: survives a Stop

            d_res = dpo.train_dpo(d_pol, s.pairs, cfg, progress=tick, should_stop=runtime.stop_requested)
            lv.run = d_res
            if d_res.stopped is not StopReason.STOPPED:
                lv.result["rows"] = compare_rows(d_pol, d_res.train_seconds, len(d_res.history), new_ppo=run_ppo)
            live.end(lv, None if lv.result["rows"] is not None else finish)
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

lv = live.state("dpo")
if not lv.running and lv.result is not None and lv.result["rows"]:
    rows, hist = lv.result["rows"], lv.run.history
    show_comparison(rows, hist, "dpo.done")
    if lv.run.stopped is not StopReason.STEPS:
        if lv.result["phase"] == "ppo":
            st.info(f"The comparison's PPO run was {lv.run.stopped.describe()}: DPO finished "
                    f"({len(hist)} steps) and is compared with π_ref only.")
        else:
            st.info(f"DPO {lv.run.stopped.describe()} after {len(hist)} of "
                    f"{lv.run.steps_planned} steps: the table judges the partly trained policy.")
elif lv.stopped:
    st.info(f"DPO {lv.run.stopped.describe()} before its first step finished: nothing to judge yet.")
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
