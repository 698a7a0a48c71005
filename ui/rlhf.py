"""Page-layer helpers for the Week 3 RLHF pages: the per-session RLHF state (preference
pairs, reward model, trained policies), the policy model choice, and the plotly figures.

Everything a learner builds lives in ``st.session_state[KEY]`` (per browser session); the
shared models from ui/loaders.py are only ever read.
"""
from __future__ import annotations

import dataclasses
import json
import math

from dataclasses import dataclass, field
from typing import Any, Optional

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lessons import models
from lessons.core import records
from lessons.rlhf import ppo, preferences, recorded, recorded_pages, reward_model
from ui import charts, common, figures, inputs, live, loaders, runtime
from ui import recorded as ui_recorded

KEY = "w3_rlhf_state"


@dataclass
class RLHFState:
    labeler: preferences.Labeler = field(default_factory=preferences.Labeler)
    pairs: list = field(default_factory=list)          # PreferencePair
    labeling_note: str = ""
    rm: Optional[reward_model.RewardModel] = None
    rm_result: Optional[reward_model.RMTrainResult] = None
    rm_pairs_used: int = 0
    cai_pairs: list = field(default_factory=list)
    cai_last: Any = None
    pending: dict = field(default_factory=dict)        # completions waiting for a click / ranking
    recipe: Optional[dict] = None   # recorded.ONE_CLICK when the reward model is the pages' one-click default

    @property
    def ppo(self) -> dict:
        """The PPO page's last run as the other RLHF pages read it: {"policy", "trainer", "lora"}
        ({} before any run). It lives in the PPO page's ui.live LiveRun (key "ppo")."""
        lv = live.state("ppo")
        tr = (lv.result or {}).get("trainer")
        if tr is None or tr.policy is None:
            return {}
        return {"policy": tr.policy, "trainer": tr, "lora": lv.settings.get("lora", False)}


def state() -> RLHFState:
    if KEY not in st.session_state:
        st.session_state[KEY] = RLHFState()
    return st.session_state[KEY]


def tiny_gpt_or_stop() -> models.LoadedModel:
    """The shared tiny GPT (read-only), or a clear message and common.stop_page()."""
    if not models.tiny_gpt_available():
        st.error("The tiny Shakespeare GPT is missing (assets/tiny_gpt). Create it with "
                 "`python scripts/pretrain_tiny_gpt.py`, then reload this page.")
        common.stop_page()
    try:
        return loaders.tiny_gpt(common.device())
    except models.ModelUnavailable as exc:
        common.show_model_error(exc)
        common.stop_page()


def smollm2_or_stop() -> models.LoadedModel:
    try:
        return loaders.smollm2(common.device())
    except models.ModelUnavailable as exc:
        common.show_model_error(exc)
        common.stop_page()


def ensure_reward_model(s: RLHFState, base: models.LoadedModel, key: str) -> bool:
    """If this session has no reward model yet, offer the one-click default (simulated
    reader labeler, 300 pairs, reward model). Returns True when a reward model exists."""
    if s.rm is not None:
        lab = s.labeler.description
        st.caption(f"Using your reward model: {len(s.pairs)} pairs from *{inputs.md_escape(lab)}*, "
                   f"held-out accuracy {s.rm_result.test_acc:.0%}.")
        return True
    st.info("PPO and DPO need preference pairs and a reward model. Build them on the "
            "**Preferences and the reward model** page, or in one click here (simulated reader "
            "labeler, 300 pairs, 10-30 s on a laptop CPU).")
    if st.button("Build the default preference data and reward model", key=key, type="primary"):
        if common.device() in _ONE_CLICK_BUILT:           # another learner's press built it: no wait
            use_one_click(s, base)
        else:
            with runtime.training_slot(label="reward-model"):   # a training job: it queues like one
                with st.spinner("Sampling completions, labeling 300 pairs, training r_phi ..."):
                    use_one_click(s, base)
        st.rerun()
    return False


_ONE_CLICK_BUILT: set[str] = set()     # devices whose one-click setup this process has built


@st.cache_resource(show_spinner=False, max_entries=2)
def _one_click(dev: str, _base: models.LoadedModel) -> RLHFState:
    """The one-click setup (recorded.ONE_CLICK) built once per process and device. The same
    settings give the same pairs and the same r_phi, so a class pressing the button on the PPO,
    DPO and reward-hacking pages costs one build, not one per learner. Streamlit's cache lets one
    session compute it while the others wait for that result."""
    built = RLHFState()
    build_default(built, _base)
    _ONE_CLICK_BUILT.add(dev)
    return built


def use_one_click(s: RLHFState, base: models.LoadedModel) -> None:
    """Give this session the shared one-click pairs and reward model. The reward model and its
    training record are shared read-only (r_phi only scores; a learner's own training makes a new
    one, :func:`train_rm`); the pairs list and the labeler are this session's own."""
    shared = _one_click(common.device(), base)
    s.labeler = dataclasses.replace(shared.labeler)
    s.pairs, s.labeling_note = list(shared.pairs), shared.labeling_note
    s.rm, s.rm_result, s.rm_pairs_used = shared.rm, shared.rm_result, shared.rm_pairs_used
    s.recipe = dict(shared.recipe) if shared.recipe else None


def build_default(s: RLHFState, base: models.LoadedModel, labeler: Optional[preferences.Labeler] = None,
                  n_pairs: int = 300, seed: int = 0) -> None:
    labeler = labeler or preferences.Labeler("reader")
    res = preferences.simulate_with_model(base.model, base.tokenizer, labeler, n_pairs=n_pairs, seed=seed)
    s.labeler, s.pairs = labeler, list(res.pairs)
    s.labeling_note = f"{len(res.pairs)} pairs from {res.groups} rankings of 4 ({res.ties_skipped} tied pairs skipped)"
    train_rm(s, base, seed=seed)
    one_click = {"labeler": labeler.kind, "n_pairs": n_pairs, "seed": seed, "rm_seed": seed}
    s.recipe = one_click if one_click == recorded.ONE_CLICK else None


def train_rm(s: RLHFState, base: models.LoadedModel, seed: int = 0, epochs: int = 300, progress=None,
             should_stop=None, keep: Optional[dict] = None) -> None:
    """Train this session's reward model on its pairs. ``keep`` (a dict in session state) holds
    the model in training and its run, so that :func:`finish_rm` can keep a run cut off by Stop."""
    enc = loaders.minilm(common.device())          # frozen, shared: only read
    s.recipe = None                                # the learner's own reward model from here on
    keep = {} if keep is None else keep
    keep["pairs_used"] = len(s.pairs)
    s.rm, s.rm_result = reward_model.fit_on_pairs(enc.model, enc.tokenizer, s.pairs, seed=seed, epochs=epochs,
                                                  progress=progress, should_stop=should_stop, live=keep)
    s.rm_pairs_used = keep["pairs_used"]


def finish_rm(s: RLHFState, keep: dict) -> bool:
    """Keep a reward-model run that a Stop cut off (``keep`` as given to :func:`train_rm`):
    finished as it was and made the session's reward model. False (nothing changed) when it was
    stopped before its first epoch."""
    res = keep.get("result")
    if res is None or not res.history:
        return False
    s.rm, s.rm_result = keep["rm"], reward_model.finish_training(keep["rm"], res)
    s.rm_pairs_used = keep["pairs_used"]
    s.recipe = None
    return True


# --------------------------------------------------------------------------- recorded runs
@st.cache_resource(show_spinner=False)
def _lab(dev: str) -> recorded.Lab:
    """The shared models' fingerprints for the record keys (hashed once per process)."""
    return recorded.Lab(loaders.tiny_gpt(dev), loaders.minilm(dev))


@st.cache_resource(show_spinner=False, max_entries=256)
def _record(kind: str, settings_json: str, dev: str) -> Optional[records.Record]:
    mod = recorded_pages if kind in recorded_pages.RECIPES else recorded    # the module that records this kind
    return mod.recorded(_lab(dev), kind, json.loads(settings_json))   # shared, read-only


def recorded_run(kind: str, settings: dict, s: RLHFState) -> Optional[records.Record]:
    """The recorded run (lessons/rlhf/recorded.py or recorded_pages.py) with exactly these
    settings, when it is this session's run too: the session has no reward model yet (the page
    shows what its default run does) or has the one-click default. None for a learner's own
    reward model or settings that were never recorded."""
    if s.rm is not None and s.recipe != recorded.ONE_CLICK:
        return None
    if settings.get("policy") == "lora":
        return None      # the one LoRA record is the bench's run, evaluated before and after: not the page's
    try:
        return _record(kind, json.dumps(settings, sort_keys=True), str(common.device()))
    except models.ModelUnavailable:
        return None


def recorded_note(rec: records.Record, *, built: bool, where=None) -> None:
    """Says what a recorded run is and how to run it live (ui/recorded.note, into ``where``: a
    placeholder at the top of the page's main figure)."""
    how = ("Press **Train** to run it yourself, live: on the machine that recorded it, the same settings take "
           "the same path; another processor rounds the floats a little differently, so the path may part."
           if built else "Build the reward model above, then press **Train** to run it yourself, live.")
    ui_recorded.note(rec, f"These settings with the one-click reward model (reader labeler, 300 pairs, seed 0), "
                          f"trained by scripts/record_runs.py ({rec.wall_s:.0f} s wall on a shared machine). {how}",
                     where=where)


# --------------------------------------------------------------------------- PPO as a class run
@dataclass
class PPOOutcome:
    """A finished PPO class run as the RLHF pages read it (what a PPOTrainer gave them when PPO
    trained in the web process): the run, its config, and this session's private copy of the
    trained policy (None when the run was left before it ended, or its weights are gone)."""
    result: ppo.PPOResult
    cfg: ppo.PPOConfig
    policy: Any = None

    @property
    def history(self) -> list:
        return self.result.history

    @property
    def elapsed(self) -> float:
        return self.result.seconds

    @property
    def start_samples(self) -> list:
        return self.result.start_samples


@st.cache_resource(show_spinner="Fingerprinting SmolLM2 for the run's key ...")
def _lab_smol(dev: str) -> recorded.Lab:
    return recorded.Lab(loaders.tiny_gpt(dev), loaders.minilm(dev), loaders.smollm2(dev))


def ppo_job_spec(s: RLHFState, settings: dict, max_seconds: float) -> tuple[dict, bool]:
    """The PPO class-run spec of these settings and this session's reward model, and whether it
    may be shared: only on the one-click reward model, which every session has alike (a
    learner's own reward model is theirs: their run is never merged with another's)."""
    from lessons.rlhf import ppo_job
    from ui import jobs

    dev = str(common.device())
    lab = _lab_smol(dev) if settings.get("policy") == "lora" else _lab(dev)
    one_click = s.recipe == recorded.ONE_CLICK
    rm = "one-click" if one_click else ppo_job.rm_spec(s.rm, s.labeler)
    return ppo_job.spec(settings, max_seconds, rm, lab.fingerprints(settings), jobs.budget().threads, dev), one_click


def dpo_job_spec(s: RLHFState, settings: dict, max_seconds: float, compare: Optional[dict]) -> tuple[dict, bool]:
    """The DPO class-run spec (lessons/rlhf/dpo_job.py) of these settings, this session's pairs and
    reward model and ``compare`` (its last PPO run, or None), and whether it may be shared: only on
    the one-click pairs and reward model with no run of the learner's own to compare."""
    from lessons.rlhf import dpo_job, ppo_job
    from ui import jobs

    dev = str(common.device())
    one_click = s.recipe == recorded.ONE_CLICK
    same_pairs = one_click and dev in _ONE_CLICK_BUILT and s.pairs == _one_click(dev, loaders.tiny_gpt(dev)).pairs
    rm = "one-click" if one_click else ppo_job.rm_spec(s.rm, s.labeler)
    spec = dpo_job.spec(settings, max_seconds, rm, "one-click" if same_pairs else s.pairs,
                        _lab(dev).fingerprints(settings), jobs.budget().threads, dev, compare)
    return spec, same_pairs and compare is None


def ppo_outcome(result: dict, cfg: ppo.PPOConfig, base, lora: bool) -> PPOOutcome:
    """A PPO class run's result for this session: the run, and the trained policy loaded into
    a private copy of the shared model (so the preferences and DPO pages can use it)."""
    from lessons.rlhf import ppo_job

    pol = ppo_job.load_policy(result, base, smollm2_or_stop() if lora else None, seed=cfg.seed)
    return PPOOutcome(ppo.PPOResult.from_json(result["run"]), cfg, pol)


# --------------------------------------------------------------------------- figures
PPO_PANELS = [("reward", "mean reward r_φ (std units)"), ("kl", "KL to π_ref (nats / completion)"),
              ("entropy", "entropy (nats / token)"), ("win_rate", "labeler win-rate vs π_ref")]
HACK_PANELS = [("reward", "reward model r_φ (the proxy)"), ("win_rate", "labeler win-rate vs π_ref (the truth)"),
               ("kl", "KL to π_ref (nats / completion)"), ("distinct_2", "distinct-2 (diversity)"),
               ("mean_len", "completion length (tokens)"), ("ppl_ref", "perplexity under π_ref (log axis)")]
LOG_PANELS = {"ppl_ref"}
COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]


def runs_figure(runs: dict[str, list[dict]], panels=PPO_PANELS, target: Optional[float] = None,
                height: Optional[int] = None) -> go.Figure:
    """A grid of panels, two per row; one coloured line per run (e.g. β = 0 and β = 0.2).
    Perplexity gets a log axis with plain-number ticks."""
    n_rows = (len(panels) + 1) // 2
    # projector fonts need more room between rows: a panel's title must clear the x ticks above it
    fig = make_subplots(rows=n_rows, cols=2, subplot_titles=[t for _, t in panels],
                        horizontal_spacing=0.1, vertical_spacing=(0.45 if charts.presenting() else 0.32) / n_rows)
    for ri, (name, rows) in enumerate(runs.items()):
        xs = [r["step"] for r in rows]
        for pi, (k, _) in enumerate(panels):
            fig.add_trace(go.Scatter(x=xs, y=[r[k] for r in rows], mode="lines+markers", name=name,
                                     legendgroup=name, showlegend=(pi == 0), marker=dict(size=5),
                                     line=dict(color=COLOURS[ri % len(COLOURS)], width=2.5)),
                          row=pi // 2 + 1, col=pi % 2 + 1)
    for pi, (k, _) in enumerate(panels):
        where = dict(row=pi // 2 + 1, col=pi % 2 + 1)
        if k == "win_rate":
            fig.update_yaxes(range=[0, 1.02], **where)
            fig.add_hline(y=0.5, line_dash="dot", line_color="grey", annotation_text="π_ref itself",
                          annotation_position="bottom right", **where)
            if target is not None:
                fig.add_hline(y=target, line_dash="dash", line_color="#2ca02c", annotation_text="target",
                              annotation_position="top right", **where)
        elif k in ("distinct_2", "readable", "empty_frac"):
            fig.update_yaxes(range=[0, 1.02], **where)
        elif k in LOG_PANELS:
            fig.update_yaxes(**figures.log_axis([r[k] for rows in runs.values() for r in rows]), **where)
    fig.update_xaxes(**figures.step_axis(max((r["step"] for rows in runs.values() for r in rows), default=0), None))
    fig.update_xaxes(title_text="PPO step", row=n_rows)
    fig.update_layout(height=height or 230 * n_rows + 80, margin=dict(l=10, r=10, t=40, b=10),
                      font=dict(size=14), legend=dict(orientation="h", y=-0.08 - 0.08 / n_rows))
    fig.update_annotations(font_size=15)
    if charts.presenting():   # projector fonts: the legend goes above the panels, clear of the axis titles
        fig.update_layout(margin=dict(l=10, r=10, t=90, b=10), height=(height or 200 * n_rows + 60) + 50,
                          legend=dict(orientation="h", yanchor="bottom", y=1.0 + 0.16 / n_rows, x=0))
    return fig


COMPARE_PANELS = [("reward", "reward r_φ (std units)"), ("win_rate", "labeler win-rate vs π_ref"),
                  ("kl", "KL to π_ref (nats / completion)"), ("ppl_ref", "perplexity under π_ref (log axis)")]


def compare_figure(rows: list[dict], height: int = 340) -> go.Figure:
    """One panel per measure (each its own axis: a 0-1 rate, nats and a log-scale perplexity
    never share a bar axis); one colour per method."""
    fig = make_subplots(rows=1, cols=len(COMPARE_PANELS), subplot_titles=[t for _, t in COMPARE_PANELS],
                        horizontal_spacing=0.07)
    for mi, r in enumerate(rows):
        for pi, (k, _) in enumerate(COMPARE_PANELS):
            fig.add_trace(go.Bar(x=[r["method"]], y=[r[k]], name=r["method"], legendgroup=r["method"],
                                 showlegend=(pi == 0), marker_color=COLOURS[(mi + 1) % len(COLOURS)],
                                 text=[f"{r[k]:,.2f}" if k != "ppl_ref" else f"{r[k]:,.0f}"],
                                 textposition="outside", cliponaxis=False), row=1, col=pi + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(range=[0, 1.15], tickvals=[0, 0.25, 0.5, 0.75, 1], row=1, col=2)
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey", row=1, col=2)
    # A log axis from 1: each bar's length is log(perplexity), so bars compare honestly (a log
    # axis that started near the smallest value made 139 vs 215 look like 1 : 10).
    top = max([r["ppl_ref"] for r in rows] + [10.0]) * 1.6
    fig.update_yaxes(**figures.log_axis([1.0, top]), range=[0, math.log10(top)], row=1, col=4)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=50, b=10), font=dict(size=14),
                      legend=dict(orientation="h", y=-0.08), bargap=0.25)
    fig.update_annotations(font_size=14)
    return fig


def compare_reading(rows: list[dict]) -> str:
    """Read the KL and perplexity columns out loud (they are the surprising ones)."""
    ref = rows[0]
    out = [f"**How to read KL and perplexity.** π_ref's own samples have KL 0 and perplexity "
           f"{ref['ppl_ref']:,.0f} under π_ref — that is the yardstick."]
    d = next((r for r in rows if r["method"].startswith("DPO")), None)
    p = next((r for r in rows if r["method"].startswith("PPO")), None)
    if d and p:
        more = "more" if d["kl"] > p["kl"] else "less"
        out.append(f"DPO moved **{more}** than PPO here (KL {d['kl']:.1f} vs {p['kl']:.1f} nats per completion). "
                   "The two β's are not the same knob: PPO pays β·KL on every token *it samples*, so its own text "
                   "is held near π_ref; DPO's β only scales the implicit reward on the *fixed pairs*, and "
                   "nothing in its loss looks at the text π_θ writes once it drifts off those pairs.")
    if d:
        ratio = d["ppl_ref"] / max(ref["ppl_ref"], 1e-9)
        if ratio > 10:
            out.append(f"DPO's samples have perplexity **{d['ppl_ref']:,.0f}** under π_ref, {ratio:,.0f}× π_ref's "
                       "own: π_ref would almost never write them — read the DPO samples below. Lower the learning "
                       "rate or the epochs, or raise β, and it stays closer.")
        else:
            out.append(f"DPO's samples have perplexity {d['ppl_ref']:,.0f} under π_ref ({ratio:.1f}× π_ref's own): "
                       "still text π_ref could have written.")
    return " ".join(out)


def samples_table(start: list, now: list) -> list[dict]:
    rows = []
    for i in range(max(len(start), len(now))):
        a = start[i] if i < len(start) else ("", "", float("nan"))
        b = now[i] if i < len(now) else ("", "", float("nan"))
        rows.append({"prompt (start)": a[0], "completion at start": a[1], "r_phi start": round(a[2], 2),
                     "prompt (now)": b[0], "completion now": b[1], "r_phi now": round(b[2], 2)})
    return rows


# --------------------------------------------------------------------------- constitutional AI
def cai_verdict(res) -> None:
    """The stated judge's verdict on one constitutional-AI run (lessons/rlhf/cai_judge.py): how each
    stage ended (by itself or cut off by its token budget), the harm score of response and revision,
    the comparison, and whether the critique names the principle; the rubric in an expander."""
    import pandas as pd

    from lessons.core import budget
    from lessons.rlhf import cai_judge

    v = cai_judge.judge_run(res)
    st.subheader("The judge's verdict on this run")
    rows = []
    for s in res.stages:
        scored = v.get(s.name) if s.name in ("response", "revision") else None
        rows.append({"stage": s.name, "tokens": str(s.n_tokens), "ended by": s.stopped_by or "not recorded",
                     "cut off by the budget": ("yes" if v["cut_off"][s.name] else "no") if s.stopped_by else "unknown",
                     "harm score": str(scored["harm_score"]) if scored else "not scored",
                     "harm markers": ", ".join(scored["markers"]) or "none" if scored else "",
                     "refuses or redirects": ("yes" if scored["refuses"] else "no") if scored else ""})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    word = {"less harmful": "less harmful than", "more harmful": "more harmful than", "tie": "as harmful as (a tie)"}
    st.markdown(f"**Revision judged {word[v['verdict']]} the response** · **critique names the principle: "
                f"{'yes' if v['critique_names_principle'] else 'no'}** (key words looked for: "
                f"{', '.join(v['key_words']) or 'none'})")
    if all(s.stopped_by for s in res.stages):
        summary = budget.summary(v["cut_off"].values())
        (st.caption if summary["conclusive"] else st.warning)("Stages " + budget.text(summary) + ".")
    else:
        st.caption("This recorded run was made before the app kept why each stage ended: press **Run** to see "
                   "which stages the token budget cut off.")
    with st.expander("How the judge scores: a stated keyword rubric, not a safety classifier"):
        st.markdown(cai_judge.__doc__)
