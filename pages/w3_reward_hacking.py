# lesson: Reward hacking and the KL penalty
# week: 3
# order: 14
# icon: 🎰
# topics: reward hacking, KL divergence, beta, distinct-n, perplexity, RLHF
# summary: Train two policies side by side, with and without the KL penalty, and watch the one without it game the reward model.
"""Reward hacking: two interleaved PPO runs (beta = 0 and a learner-chosen beta > 0) on one
live chart, with KL, distinct-2 and perplexity under pi_ref as the symptoms."""

import pandas as pd
import streamlit as st

from lessons import policy as policy_lib
from lessons import ppo, reward_hacking
from ui import common, rlhf

st.title("🎰 Reward hacking and the KL penalty")
st.markdown(
    "The reward model is only a *proxy* for what the labeler wants, learned from a few hundred "
    "ordinary lines. Push a policy hard against it and the policy finds text the proxy "
    "over-scores — repetitions, fragments, odd words — that no longer reads like language. "
    "The KL term charges every token for straying from the frozen π_ref. Here two copies of "
    "the tiny GPT train at the same time: one with **β = 0** (no penalty) and one with your β."
)
st.latex(r"\max_\theta\ \mathbb{E}_{y\sim\pi_\theta}\big[r_\phi(x,y)\big] - \beta\,"
         r"\mathrm{KL}\big(\pi_\theta(\cdot|x)\,\|\,\pi_{\text{ref}}(\cdot|x)\big)")
st.markdown(
    "**Symptoms of hacking** — *KL* to π_ref keeps rising; *distinct-2* (unique word pairs ÷ all word "
    "pairs in a batch) falls as outputs collapse onto a few phrases; *perplexity under π_ref* rises "
    "because the original model finds the text unnatural."
)

base = rlhf.tiny_gpt_or_stop()
s = rlhf.state()
if not rlhf.ensure_reward_model(s, base, key="reward-hacking.quickstart"):
    st.stop()

c1, c2, c3, c4 = st.columns(4)
beta = c1.select_slider("β for the penalised run", [0.05, 0.1, 0.2, 0.3, 0.5], value=0.2, key="reward-hacking.beta")
steps = c2.slider("PPO steps per run", 5, 150, 45, step=5, key="reward-hacking.steps")
lr = c3.select_slider("learning rate", [5e-4, 1e-3, 1.5e-3], value=1e-3, key="reward-hacking.lr",
                      help="Higher: hacking shows sooner (and training gets unstable).")
seed = c4.number_input("seed", 0, 10_000, 0, key="reward-hacking.seed")
max_s = st.slider("time limit per run (s)", 10, 300, 90, step=10, key="reward-hacking.seconds")
st.caption(f"Both runs use the same seed, prompts, reward model and settings; only β differs. Worst case "
           f"≈ 2 × {max_s} s on a CPU.")

run = st.button("▶ Train both", key="reward-hacking.run", type="primary")
st.button("⏹ Stop", key="reward-hacking.stop")
if s.hack.get("running") and not run:
    s.hack.update(running=False, stopped=True, rows={k: list(v) for k, v in s.hack_live.items()})

bar = st.empty()
chart_ph = st.empty()


def names(b: float) -> str:
    return "β = 0 (no KL penalty)" if b == 0 else f"β = {b}"


if run:
    with common.training_slot() as ok:
        if ok:
            cfg = ppo.PPOConfig(steps=steps, lr=lr, beta=beta, max_seconds=float(max_s), seed=int(seed))

            def make_trainer(c: ppo.PPOConfig) -> ppo.PPOTrainer:
                pol = policy_lib.from_shared(base.model, base.tokenizer, seed=int(seed))
                return ppo.PPOTrainer(pol, s.rm, s.labeler, policy_lib.PROMPTS, c)

            s.hack_live = {names(0.0): [], names(beta): []}
            s.hack = {"running": True, "beta": beta}
            prog = bar.progress(0.0, text="Starting both runs ...")

            def on_step(b: float, stat: ppo.StepStats, total: int) -> None:
                s.hack_live[names(b)].append({k: v for k, v in vars(stat).items() if k != "samples"})
                done = sum(len(v) for v in s.hack_live.values())
                prog.progress(min(done / (2 * total), 1.0), text=f"{names(b)}: step {stat.step}/{total}")
                chart_ph.plotly_chart(rlhf.runs_figure(s.hack_live, rlhf.HACK_PANELS), width="stretch",
                                      key=f"reward-hacking.live_{done}")

            results = reward_hacking.run_side_by_side(make_trainer, cfg, (0.0, beta), progress=on_step)
            s.hack.update(running=False, stopped=False, results=results,
                          rows={names(b): r.rows() for b, r in results.items()})
            bar.empty()

rows = s.hack.get("rows")
if rows and not s.hack.get("running"):
    chart_ph.plotly_chart(rlhf.runs_figure(rows, rlhf.HACK_PANELS), width="stretch", key="reward-hacking.done")
    if s.hack.get("stopped"):
        st.warning("Stopped by you: showing the steps finished so far.")
    results = s.hack.get("results")
    if results:
        table = []
        for b, res in results.items():
            v = reward_hacking.verdict(res)
            if not v:
                continue
            table.append({"run": names(b), "steps": len(res.history),
                          "reward r_φ (start → end)": f"{v['reward'][0]:+.2f} → {v['reward'][1]:+.2f}",
                          "KL (end)": round(v["kl"][1], 2),
                          "distinct-2 (start → end)": f"{v['distinct_2'][0]:.2f} → {v['distinct_2'][1]:.2f}",
                          "perplexity under π_ref (start → end)": f"{v['ppl_ref'][0]:.0f} → {v['ppl_ref'][1]:.0f}",
                          "labeler win-rate (end)": round(v["win_rate"][1], 2)})
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
        st.subheader("What each policy writes now")
        cols = st.columns(len(results))
        for col, (b, res) in zip(cols, results.items()):
            with col:
                st.markdown(f"**{names(b)}**")
                if res.history:
                    st.dataframe(pd.DataFrame([{"prompt": p, "completion": c, "r_φ": round(r, 2)}
                                               for p, c, r in res.history[-1].samples]),
                                 hide_index=True, width="stretch")
        st.caption("Averages of the first and last 3 steps. Read the completions: a high reward with "
                   "repeated words and broken lines is the reward model being gamed, not the labeler "
                   "being pleased.")
elif not rows:
    st.info("Press **Train both**: each chart gets one red line (β = 0) and one blue line (your β).")

common.try_this(
    "Run with the defaults. Which run reaches the higher reward? Which one would you rather read?",
    "Raise β to 0.5: the penalised run barely moves from π_ref. Lower it to 0.05: does it start to hack too?",
    "Lower the learning rate to 5e-4: hacking takes longer to appear — the KL term matters more the longer you train.",
    "Compare the labeler's win-rate at the end of both runs: does the β = 0 policy please the *real* labeler as much as r_φ?",
)
