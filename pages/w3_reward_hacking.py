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

from lessons.core.loop import StopReason
from lessons.rlhf import ppo, recorded, reward_hacking
from ui import class_run_page, charts, common, inputs, live, rlhf

st.title("🎰 Reward hacking and the KL penalty")
st.markdown(
    "The reward model r_φ is only a *proxy* for what the labeler wants, learned from a few hundred "
    "ordinary lines. Our default labeler is a **reader**: more positive lines are better, but a line "
    "must read like language — an empty line, a word repeated, a list of nice words with no "
    "*the/my/I/of* in it loses to any real line. The reward model only ever saw ordinary lines, and it "
    "adds up the meaning of each word, so *every extra positive word* raises r_φ. Push a policy hard "
    "against it and the policy finds text r_φ over-scores and the reader hates. The KL term charges "
    "every token for straying from the frozen π_ref. Here two copies of the tiny GPT train at the "
    "same time: one with **β = 0** (no penalty) and one with your β."
)
st.latex(r"\max_\theta\ \mathbb{E}_{y\sim\pi_\theta}\big[r_\phi(x,y)\big] - \beta\,"
         r"\mathrm{KL}\big(\pi_\theta(\cdot|x)\,\|\,\pi_{\text{ref}}(\cdot|x)\big)")
st.markdown(
    "**Symptoms of hacking** — r_φ soars while the *labeler's win-rate* against π_ref falls below ½ "
    "(the true preference is not fooled); *KL* to π_ref climbs far above the penalised run's; *distinct-2* (unique word pairs "
    "÷ all word pairs in a batch) falls as outputs collapse onto one phrase; the *length* runs to the "
    "limit (or collapses to empty lines); *perplexity under π_ref* jumps while the lines break up, "
    "because the original model finds them unnatural — and can fall again once the text is one word "
    "repeated, which any language model predicts well after a few repeats."
)

base = rlhf.tiny_gpt_or_stop()
s = rlhf.state()
built = rlhf.ensure_reward_model(s, key="reward-hacking.quickstart")
if built and s.labeler.kind != "reader":
    st.warning(f"Your labeler is *{inputs.md_escape(s.labeler.description)}*. The win-rate below uses it. "
               "VADER alone is fooled by spam too (it scores *good good good* near +1), so with it the "
               "win-rate rises along with the hack. The **reader** labeler (the default on the preferences "
               "page) is the one the spam cannot fool.")

c1, c2, c3, c4 = st.columns(4)
D = reward_hacking.DEFAULTS
beta = c1.select_slider("β for the penalised run", [0.05, 0.1, 0.2, 0.3, 0.5], value=D["beta"], key="reward-hacking.beta")
steps = c2.slider("PPO steps per run", 5, 150, D["steps"], step=5, key="reward-hacking.steps")
lr = c3.select_slider("learning rate", [5e-4, 1e-3, 1.5e-3], value=D["lr"], key="reward-hacking.lr",
                      help="Higher: hacking shows sooner (and training gets unstable).")
seed = c4.number_input("seed", 0, 10_000, D["seed"], key="reward-hacking.seed")
max_s = st.slider("time limit per run (s)", 10, 600, 240, step=10, key="reward-hacking.seconds",
                  help="A safety bound: the run is defined by its steps (about 0.7 s each on a free CPU core).")
st.caption(f"Both runs use the same seed, prompts, reward model and settings; only β differs. Worst case "
           f"≈ 2 × {max_s} s on a CPU.")

record = rlhf.recorded_run("reward-hacking", recorded.hacking_settings((0.0, beta), beta=beta, steps=steps, lr=lr,
                                                                     seed=int(seed)), s)
start = False if not built else live.buttons("reward-hacking", "▶ Train both", start="run",
                                             stop_help="Stops both runs after the current round; what they learned is kept.")
# The teacher can broadcast a run (the projector's): learners follow it live on their own pages.
broadcast = class_run_page.teacher_broadcast(
    "reward-hacking", "reward-hacking",
    describe=lambda spec: (f"β = 0 against β = {spec['settings']['beta']}, {spec['settings']['steps']} PPO steps each, "
                           f"learning rate {spec['settings']['lr']:g}, seed {spec['settings']['seed']}"),
    watch=lambda spec: class_run_page.watch_spec(spec, keys=("beta", "steps", "lr", "seed")))
bar = st.empty()
with charts.main_figure():       # the lesson's main figure: the recorded runs on open, the live runs after Train
    note_ph = st.empty()        # the recorded run's label, above its figure
    chart_ph = st.empty()
# On a projector the four panels that carry the idea (proxy up, truth down, KL, diversity), full size.
PANELS = rlhf.HACK_PANELS[:4] if charts.presenting() else rlhf.HACK_PANELS


def names(b: float) -> str:
    return "β = 0 (no KL penalty)" if b == 0 else f"β = {b}"


def named_rows(rows: list[dict]) -> dict[str, list[dict]]:
    """The class run's rounds ({"step", "seconds", "runs": {beta: step stats}}) as one line per beta."""
    return {names(float(b)): [r["runs"][b] for r in rows] for b in (rows[0]["runs"] if rows else {})}


def finish(lv: live.LiveRun) -> None:
    """The class run ended: each policy's result (symptoms, samples)."""
    job = lv.result.get("job")
    if job is not None:
        lv.result["results"] = {float(b): ppo.PPOResult.from_json(r) for b, r in job["runs"].items()}


def train(use_record: bool = True) -> None:
    """Train both (or Run it again live): join the class run of these settings (a worker process
    trains it, ui/class_runs.py), or see a finished one at once from its record."""
    settings = recorded.hacking_settings((0.0, beta), beta=beta, steps=steps, lr=lr, seed=int(seed))
    spec, shareable = rlhf.ppo_job_spec(s, settings, float(max_s) * 2)
    lv = class_run_page.train_together("reward-hacking", "reward-hacking", spec, shareable=shareable,
                             max_seconds=float(max_s) * 2, steps=steps, use_record=use_record, broadcast=broadcast,
                             rows_of=lambda result: result["rounds"],
                             settings=dict(beta=beta, steps=steps, lr=lr, seed=int(seed)))
    if lv.status == "finished":
        finish(lv)


class_run_page.presses("reward-hacking", start, train, see_it_end=False)

lv = live.state("reward-hacking")
if lv.running:
    class_run_page.follow("reward-hacking", bar, label="both runs: step", finisher=finish,
                draw=lambda rows, lv: charts.show(rlhf.runs_figure(named_rows(rows), PANELS), where=chart_ph,
                                                   key=f"reward-hacking.live_{rows[-1]['step']}"))
    bar.empty()


def show_results(results: dict) -> None:
    """The symptom table and what each policy writes at the end: {beta: PPOResult}."""
    verdicts = {names(b): reward_hacking.verdict(res) for b, res in results.items()}
    st.dataframe(pd.DataFrame(reward_hacking.symptom_rows(verdicts)), hide_index=True, width="stretch")
    n = min(len(res.history) for res in results.values())
    if n < 6:   # the table compares the mean of the first 3 steps with the mean of the last 3
        st.caption(f"Only {n} step{'s' if n != 1 else ''}: the start and end averages overlap, so they look alike. "
                   "The two runs also start alike: the KL penalty is 0 until a policy has moved away from π_ref, "
                   "so β makes no difference in the first steps.")
    st.subheader("What each policy writes now")
    cols = st.columns(len(results))
    for col, (b, res) in zip(cols, results.items()):
        with col:
            st.markdown(f"**{names(b)}**")
            if res.history:
                st.dataframe(pd.DataFrame([{"prompt": p, "completion": c, "r_φ": round(r, 2)}
                                           for p, c, r in res.history[-1].samples]),
                             hide_index=True, width="stretch")
    st.caption("Start → end: averages of the first and last 3 steps. Read the completions: a high r_φ "
               "with one word repeated is the reward model being gamed, not the labeler being pleased "
               "— the labeler's win-rate says so.")


if lv.result and lv.result.get("error"):
    st.error(f"The runs stopped: {inputs.md_escape(lv.result['error'])}. Press **Train both** to try again.")
if not lv.running and lv.run is not None and lv.run.history:
    charts.show(rlhf.runs_figure(named_rows(lv.run.history), PANELS), key="reward-hacking.done",
                where=chart_ph)
    class_run_page.class_run_note("reward-hacking", note_ph)      # a record of these settings, or a shared run
    if lv.run.stopped is not StopReason.STEPS:
        how = lv.run.stopped.describe() if lv.run.stopped is not None else "failed"
        st.warning(f"Run ended early ({how}): showing the steps finished so far.")
    if lv.result.get("results"):
        show_results(lv.result["results"])
    elif lv.stopped:
        b_rows = {float(b): [r["runs"][b] for r in lv.run.history] for b in lv.run.history[0]["runs"]}
        show_results({b: ppo.PPOResult.from_json({"history": rows, "start_samples": rows[0]["samples"],
                                                  "stopped": "stopped", "steps_to_target": None,
                                                  "seconds_to_target": None, "seconds": rows[-1]["seconds"]})
                      for b, rows in b_rows.items()})
elif lv.stopped:
    st.info("Stopped by you before the first round finished: nothing to show yet.")
elif not lv.running and record is not None:
    recorded_runs = {float(b): ppo.PPOResult.from_json(r) for b, r in record.result["runs"].items()}
    charts.show(rlhf.runs_figure({names(b): r.rows() for b, r in recorded_runs.items()}, PANELS),
                key="reward-hacking.recorded", where=chart_ph)
    rlhf.recorded_note(record, built=built, where=note_ph)
    show_results(recorded_runs)
elif not lv.running:
    st.info("Press **Train both**: each chart gets one red line (β = 0) and one blue line (your β)." if built
            else "Build the reward model above to train. (No recorded run has these settings.)")

common.try_this(
    "Run with the defaults. Which run reaches the higher reward r_φ? Which one does the labeler prefer, and which would you rather read?",
    "Raise β to 0.5: the penalised run stays close to π_ref (its KL stays under 6 nats), but its lines shrink "
    "to a few words, because every token costs KL, and the labeler's win-rate falls too. Lower β to 0.05: it "
    "hacks too.",
    "Lower the learning rate to 5e-4: hacking takes longer to appear — the KL term matters more the longer you train.",
    "On the preferences page, switch the labeler to 'VADER sentiment only', rebuild the reward model and run again: VADER likes the spam too, so the win-rate no longer warns you.",
)
