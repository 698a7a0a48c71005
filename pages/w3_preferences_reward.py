# lesson: Preferences and the reward model
# week: 3
# order: 10
# icon: ⚖️
# topics: RLHF, human feedback, preference data, ranking, reward model, Bradley-Terry
# summary: Click which completion is better, rank several, or let a simulated labeler label hundreds of pairs; then train a reward model on them and see what it scores.
"""RLHF stage 1 and 2: pairwise preference data (your clicks, rankings, simulated labelers)
and a reward model r_phi trained with -log sigmoid(r_w - r_l)."""
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from lessons.core.loop import StopReason
from lessons.rlhf import policy, preferences, recorded_pages
from ui import charts, class_run_page, common, inputs, live, rlhf, recorded

st.title("⚖️ Preferences and the reward model")
st.markdown(
    "RLHF starts with people comparing answers. Saying *which of two completions is better* is "
    "quicker and more consistent than giving scores, so the data is a list of pairs "
    "(prompt *x*, chosen *y_w*, rejected *y_l*). A **reward model** r_φ then learns a score whose "
    "*differences* predict those choices; PPO will later push the language model towards higher "
    "scores. Here the language model is our tiny GPT trained on Shakespeare: it completes a line "
    "of verse."
)

base = rlhf.tiny_gpt_or_stop()
s = rlhf.state()
current = s.ppo.get("policy")
who = "your PPO-trained policy" if current is not None else "the tiny GPT (no PPO run yet)"
D = recorded_pages.REWARD_MODEL     # the defaults: the widgets start at them, and the recorded run has them
seed = st.number_input("Seed", 0, 10_000, D["seed"], key="preferences-reward.seed",
                       help="Same seed, same completions: repeatable demos.")


def sample_pair(prompt: str, n: int, salt: int) -> list[str]:
    model = current.lm if current is not None else base.model
    return policy.sample_seeded(model, base.tokenizer, prompt, n, int(seed) * 1000 + salt)


# ------------------------------------------------------------------ 1. you label
st.header("1 · You are the labeler")
st.caption(f"Two completions sampled from {who}. Pick the better one, or skip if you cannot tell.")
c1, c2 = st.columns([2, 1])
with c1:
    prompt = st.selectbox("Prompt", policy.PROMPTS, key="preferences-reward.prompt")
with c2:
    st.write("")
    if st.button("🎲 New pair", key="preferences-reward.sample"):
        s.pending["click"] = (prompt, sample_pair(prompt, 2, len(s.pairs) + 7))
if "click" not in s.pending or s.pending["click"][0] != prompt:
    s.pending["click"] = (prompt, sample_pair(prompt, 2, 1))
p_prompt, (ya, yb) = s.pending["click"][0], s.pending["click"][1]
ca, cb = st.columns(2)
with ca:
    st.markdown("**A**")
    st.text(p_prompt + ya)
with cb:
    st.markdown("**B**")
    st.text(p_prompt + yb)
b1, b2, b3, _ = st.columns([1, 1, 1, 3])
clicked = None
if b1.button("👍 A is better", key="preferences-reward.a"):
    clicked = (ya, yb)
if b2.button("👍 B is better", key="preferences-reward.b"):
    clicked = (yb, ya)
if b3.button("⏭ Skip", key="preferences-reward.skip"):
    s.pending["click"] = (prompt, sample_pair(prompt, 2, len(s.pairs) + 99))
    st.toast("Skipped: no pair recorded (ties and unsure cases are dropped in real data too).")
if clicked:
    s.pairs.append(preferences.PreferencePair(p_prompt, clicked[0], clicked[1], "you"))
    s.pending["click"] = (prompt, sample_pair(prompt, 2, len(s.pairs) + 7))
    st.success(f"Recorded. The dataset now has {len(s.pairs)} pairs.")
    st.rerun()

# ------------------------------------------------------------------ 2. ranking
st.header("2 · Rank k completions → k(k−1)/2 pairs")
st.markdown("Ranking *k* answers at once gives every pair among them: the labeler's effort goes further.")
st.latex(r"\text{rank } y_1 \succ y_2 \succ \dots \succ y_k \;\Rightarrow\; \binom{k}{2} = \frac{k(k-1)}{2}\ \text{pairs } (y_i, y_j),\ i<j")
k = st.slider("k completions", 3, 5, 4, key="preferences-reward.k")
if st.button("🎲 Sample k completions", key="preferences-reward.rank_sample") or "rank" not in s.pending \
        or len(s.pending["rank"][1]) != k or s.pending["rank"][0] != prompt:
    s.pending["rank"] = (prompt, sample_pair(prompt, k, 500 + len(s.pairs)))
r_prompt, outs = s.pending["rank"]
ranks = []
for i, y in enumerate(outs):
    c1, c2 = st.columns([1, 6])
    ranks.append(c1.selectbox(f"Rank of #{i + 1}", list(range(1, k + 1)), index=i, key=f"preferences-reward.rank_{i}"))
    c2.text(r_prompt + y)
if sorted(ranks) != list(range(1, k + 1)):
    st.warning("Give every completion a different rank (1 = best).")
elif st.button(f"Add this ranking ({k * (k - 1) // 2} pairs)", key="preferences-reward.rank_add"):
    ranked = [y for _, y in sorted(zip(ranks, outs))]
    new = preferences.ranking_to_pairs(r_prompt, ranked, "your ranking")
    s.pairs += new
    st.success(f"Added {len(new)} pairs from one ranking of {k}.")

# ------------------------------------------------------------------ 3. simulated labeler
st.header("3 · A simulated labeler labels hundreds of pairs")
st.markdown(
    "Real RLHF pays people for thousands of comparisons. To see the whole pipeline train in a "
    "minute we use a fixed rule as the labeler. Tied pairs (the rule cannot tell) are skipped."
)
c1, c2, c3 = st.columns(3)
with c1:
    kind = st.selectbox("Labeler", list(preferences.LABELERS), format_func=preferences.LABELERS.get,
                        key="preferences-reward.labeler")
with c2:
    word_raw = st.text_input("Word to avoid (for 'Avoid a chosen word')", "love", key="preferences-reward.word")
with c3:
    n_pairs = st.slider("Pairs to label", 50, 500, D["n_pairs"], step=50, key="preferences-reward.n_pairs")
word = (inputs.clean_text(word_raw, max_chars=40, what="word", allow_empty=True) or "").strip()
if kind == "avoid" and (not word or " " in word):
    st.warning("Type one word (no spaces) for the 'avoid' labeler.")
elif st.button("Label with the simulated labeler", key="preferences-reward.simulate", type="primary"):
    labeler = preferences.Labeler(kind, word or "love")
    bar = st.progress(0.0, text="Sampling and labeling ...")
    res = preferences.simulate_with_model(base.model, base.tokenizer, labeler, n_pairs=n_pairs, seed=int(seed),
                                          progress=live.counter(bar, "pairs"))
    bar.empty()
    kept = [p for p in s.pairs if not p.source.startswith("simulated")]
    s.pairs, s.labeler = kept + list(res.pairs), labeler
    s.labeling_note = (f"{len(res.pairs)} pairs from {res.groups} rankings of 4 "
                       f"({res.ties_skipped} tied pairs skipped)")
    if len(res.pairs) < n_pairs:
        st.warning(f"Only {len(res.pairs)} non-tied pairs after {res.groups} rankings: this labeler "
                   "rarely tells the completions apart.")
if s.labeling_note:
    st.caption(f"Last simulated run: {s.labeling_note}. Labeler: {inputs.md_escape(s.labeler.description)}.")

# ------------------------------------------------------------------ dataset
st.subheader(f"The preference dataset: {len(s.pairs)} pairs")
if s.pairs:
    df = pd.DataFrame(preferences.as_rows(s.pairs))
    st.dataframe(df, hide_index=True, width="stretch", height=240)
    if st.button("🗑 Clear the dataset", key="preferences-reward.clear"):
        live.reset("preferences-reward")        # a reward model still training on these pairs never comes back
        s.pairs, s.rm, s.rm_result, s.labeling_note = [], None, None, ""
        st.rerun()
else:
    st.info("No pairs yet: click, rank, or run the simulated labeler above.")

# ------------------------------------------------------------------ 4. reward model
st.header("4 · Train the reward model r_φ")
st.markdown(
    "The reward model reads a completion and outputs one number. It treats a pair as a "
    "two-way choice whose *logits* are the two rewards (the Bradley–Terry model), and learns by "
    "maximising the probability of the labeler's choices. Ours is small and quick: a frozen "
    "all-MiniLM-L6-v2 turns each word into a meaning vector, the completion is the *sum* of its "
    "word vectors, and a linear head on that sum gives r_φ (385 trainable numbers). Summing "
    "word meanings lets it pick up the labelers' rules (positive words, length, one word) from "
    "a few hundred pairs — and, as you will see, it can be gamed by repeating words."
)
st.latex(r"P(y_w \succ y_l \mid x) = \sigma\big(r_\phi(x,y_w) - r_\phi(x,y_l)\big)"
         r" = \operatorname{softmax}\big([r_\phi(x,y_w),\, r_\phi(x,y_l)]\big)_0")
st.latex(r"\mathcal{L}(\phi) = -\,\mathbb{E}_{(x,y_w,y_l)}\big[\log \sigma\big(r_\phi(x,y_w) - r_\phi(x,y_l)\big)\big]")
train_rm, epochs = False, D["epochs"]
if len(s.pairs) < 10:
    st.info("Collect at least 10 pairs to train a reward model (20% are held out to test it).")
else:
    epochs = st.slider("epochs (full passes over the training pairs)", 50, 3000, D["epochs"], step=50,
                       key="preferences-reward.rm_epochs",
                       help="More epochs fit the training pairs better: does held-out accuracy follow?")
    # no Stop: the run is a few seconds of small steps (a learner who leaves the page ends it)
    train_rm = st.button("Train the reward model", key="preferences-reward.rm_train", type="primary")


def rm_figure(curve: list[dict]) -> go.Figure:
    """Loss and accuracies over the measured epochs (the first, every 10th, the last: a run's
    ``curve``): drawn live, after the run and for the recorded run."""
    h = pd.DataFrame(curve, columns=["step", "loss", "train_acc", "test_acc"])
    # Two panels, not a dual axis: loss and accuracy have different units, and one axis each
    # keeps the ticks round (0, 0.25, ... 1 for accuracy).
    fig = make_subplots(rows=1, cols=2, subplot_titles=["loss −log σ(r_w − r_l)", "accuracy (share of pairs right)"],
                        horizontal_spacing=0.12)
    fig.add_trace(go.Scatter(x=h.step, y=h.loss, name="loss", line=dict(width=2.5)), row=1, col=1)
    fig.add_trace(go.Scatter(x=h.step, y=h.train_acc, name="train accuracy", line=dict(width=2.5)), row=1, col=2)
    fig.add_trace(go.Scatter(x=h.step, y=h.test_acc, name="held-out accuracy", line=dict(width=2.5)), row=1, col=2)
    fig.update_yaxes(range=[0, 1.02], tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%", row=1, col=2)
    fig.update_xaxes(title_text="epoch (full batch)")
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), font=dict(size=14),
                      legend=dict(orientation="h", y=-0.3))
    return fig


# the recorded default pipeline (lessons/rlhf/recorded_pages.py): shown while the session has no pairs
rec = rlhf.recorded_run(recorded_pages.REWARD, recorded_pages.REWARD_MODEL, s)
bar = st.empty()
with charts.main_figure():       # the lesson's main figure: the reward model's training curves
    note = st.empty()            # a recorded run is labelled so, above its curves
    chart = st.empty()

# r_phi trains in a worker process (lessons/rlhf/preferences_reward_job.py): Train queues it (a
# quick run: the next free worker takes it first) and the page follows it; "build it live" below
# runs the default pipeline the same way.
class_run_page.presses("preferences-reward", train_rm, lambda use_record: rlhf.start_rm(
    "preferences-reward", {"epochs": epochs, "seed": int(seed)}, s.pairs, use_record=use_record))
if st.session_state.get("preferences-reward.quickstart"):
    rlhf.start_rm("preferences-reward", recorded_pages.REWARD_MODEL, "simulate", use_record=False)
lv = live.state("preferences-reward")
if lv.running:
    class_run_page.follow("preferences-reward", bar, label=rlhf.RM_LABEL,
                          draw=lambda rows, lv: charts.show(rm_figure(rows), where=chart, fit=True))
    bar.empty()
done = None if lv.running else (lv.result or {}).get("job")
if done is not None and not lv.result.get("installed"):     # a run that just ended: the session's r_phi now
    lv.result["installed"] = True
    if not rlhf.install_rm(s, done, lv.settings):
        st.info("Reward model training was stopped before its first epoch: the reward model did not change.")
if lv.result and lv.result.get("error"):
    st.error(f"Training the reward model stopped: {inputs.md_escape(lv.result['error'])}. Press Train to try again.")
if s.rm is not None and s.rm_result is not None:
    r = s.rm_result
    if lv.status == "finished" and (lv.result or {}).get("record") is not None:
        class_run_page.class_run_note("preferences-reward", note)
    if r.stopped is not StopReason.STEPS:   # the seconds cap, or everyone who followed it left mid-run
        why = r.stopped.describe(r) if r.stopped is StopReason.TIME else "the page was left while it trained"
        st.info(f"Reward model training stopped after {r.history[-1]['step']} of {r.steps_planned} epochs ({why}): "
                "r_φ keeps what it learned so far (standardised on the training texts, like a finished "
                "one), and the PPO and DPO pages use it as it is. Train again for a full run.")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("training pairs", r.n_train)
    m2.metric("held-out pairs", r.n_test)
    m3.metric("train accuracy", f"{r.train_acc:.0%}")
    m4.metric("held-out accuracy", f"{r.test_acc:.0%}")
    if s.rm_pairs_used != len(s.pairs):
        st.caption(f"Trained on the {s.rm_pairs_used} pairs that existed then; retrain to use all {len(s.pairs)}.")
    charts.show(rm_figure(r.curve), key="preferences-reward.rm_curve", where=chart, fit=True)
    if r.test_acc < 0.6:
        st.warning("Held-out accuracy is low: the reward model barely learned this labeler. "
                   "More pairs, or a labeler whose rule shows in the words, help.")

    st.subheader("One pair, seen by the reward model")
    idx = st.number_input("Pair number", 0, max(len(s.pairs) - 1, 0), 0, key="preferences-reward.rm_pair_idx")
    pair = s.pairs[int(idx)]
    v = s.rm.pair_view(pair)
    c1, c2 = st.columns([3, 2])
    with c1:
        st.markdown("**chosen y_w**")
        st.text(pair.prompt + pair.chosen)
        st.markdown("**rejected y_l**")
        st.text(pair.prompt + pair.rejected)
    with c2:
        pv = go.Figure(go.Bar(x=["chosen y_w", "rejected y_l"], y=v["probs"],
                              text=[f"logit {l:+.2f}<br>p = {p:.2f}" for l, p in zip(v["logits"], v["probs"])],
                              textposition="outside", cliponaxis=False, textfont=dict(size=14),
                              marker_color=[charts.RIGHT, charts.WRONG],
                              marker_pattern_shape=[charts.PATTERN["right"], charts.PATTERN["wrong"]]))
        pv.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), font=dict(size=14),
                         yaxis=dict(range=[0, 1.3], tickvals=[0, 0.25, 0.5, 0.75, 1], title="softmax"),
                         title="softmax of the two rewards")
        charts.show(pv, key="preferences-reward.rm_pair_fig")
    st.markdown(
        f"logits [r_w, r_l] = [{v['logits'][0]:+.3f}, {v['logits'][1]:+.3f}] → softmax "
        f"[{v['probs'][0]:.3f}, {v['probs'][1]:.3f}]; σ(r_w − r_l) = {v['p_chosen_sigmoid']:.3f} (the same "
        f"number); this pair's loss = {v['loss']:.3f}."
    )

    st.subheader("Score any text")
    raw = st.text_input("Text to score (it is read as a completion with no prompt)",
                        "O happy day, my sweet and gentle love!", key="preferences-reward.rm_text")
    text = inputs.clean_text(raw, max_chars=500)
    if text is not None:
        r_norm = float(s.rm.score([""], [text])[0])
        lab = float(s.labeler.score(text))
        c1, c2 = st.columns(2)
        c1.metric("reward r_φ (standardised)", f"{r_norm:+.2f}",
                  help="0 = the average training text, +1 = one standard deviation better.")
        c2.metric(f"labeler's own score ({s.labeler.kind})", f"{lab:+.2f}")
        st.caption("Compare the two: the reward model is a learned *approximation* of the labeler, "
                   "trained on a few hundred lines of Shakespeare-ish text.")
elif not s.pairs and rec is not None and (kind, n_pairs, int(seed)) == (D["labeler"], D["n_pairs"], D["seed"]):
    # a fresh session at the defaults: the recorded run of the default pipeline (no pairs of the learner's yet)
    res = rec.result
    recorded.note(rec, f"The default settings: the simulated labeler "
              f"(*{preferences.LABELERS[D['labeler']]}*) labeled {res['n_pairs']} pairs, seed {D['seed']}, and r_φ "
              f"trained {res['steps_done']} epochs on {res['n_train']} of them: held-out accuracy "
              f"{res['test_acc']:.0%} on the other {res['n_test']}. Press the button below to build the same data "
              "and reward model live (the same settings give the same curves), or label and train step by step above.", where=note)
    charts.show(rm_figure(res["curve"]), key="preferences-reward.recorded_curve", where=chart, fit=True)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("training pairs", res["n_train"])
    m2.metric("held-out pairs", res["n_test"])
    m3.metric("train accuracy", f"{res['train_acc']:.0%}")
    m4.metric("held-out accuracy", f"{res['test_acc']:.0%}")
    st.button("Build the default preference data and reward model, live", key="preferences-reward.quickstart",
              type="primary", help="Runs the default pipeline again in a worker: labeling, then r_φ's training, live.")
else:
    st.caption("No reward model yet in this session.")

common.try_this(
    "Label 300 pairs with the reader, train, then score *I hate this cruel night* and *O happy day*.",
    "Switch to 'Shorter is better': does held-out accuracy go up or down? Why might length be easy to learn?",
    "Label with only 50 pairs, then 500: how does held-out accuracy change?",
    "Pick a pair whose probability is near 0.5: is it a pair even you find hard?",
    "Type text in another language or with emoji: the reward model still gives a number — is it meaningful?",
)
