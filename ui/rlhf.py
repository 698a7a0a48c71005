"""Page-layer helpers for the Week 3 RLHF pages: the per-session RLHF state (preference
pairs, reward model, trained policies), the policy model choice, and the plotly figures.

Everything a learner builds lives in ``st.session_state[KEY]`` (per browser session); the
shared models from ui/loaders.py are only ever read.
"""
from __future__ import annotations

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
from ui import charts, common, figures, inputs, live, loaders
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
    one_click_pairs: list = field(default_factory=list)   # the one-click pairs as they came (DPO shares runs on them)

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


def ensure_reward_model(s: RLHFState, key: str) -> bool:
    """If this session has no reward model yet, offer the one-click default (simulated
    reader labeler, 300 pairs, reward model: the preferences page's default pipeline, a class run
    that the whole class shares, :func:`start_rm`). Returns True when a reward model exists."""
    if s.rm is not None:
        lab = s.labeler.description
        st.caption(f"Using your reward model: {len(s.pairs)} pairs from *{inputs.md_escape(lab)}*, "
                   f"held-out accuracy {s.rm_result.test_acc:.0%}.")
        return True
    st.info("PPO and DPO need preference pairs and a reward model. Build them on the "
            "**Preferences and the reward model** page, or in one click here (simulated reader "
            "labeler, 300 pairs: a few seconds in a worker process).")
    pressed = st.button("Build the default preference data and reward model", key=key, type="primary")
    if pressed:
        start_rm(key, recorded_pages.REWARD_MODEL, "simulate")
    if pressed or live.state(key).running:
        from ui import class_run_page

        done = class_run_page.generation_result(key, RM_LABEL, what="Building the reward model")
        if done is not None and install_rm(s, done, recorded_pages.REWARD_MODEL):
            st.rerun()
    return False


# --------------------------------------------------------------------------- r_phi as a class run
RM_LABEL = "Training r_φ (one step = one epoch): step"     # its bar: "... step 120/300 · about N s left"


def start_rm(key: str, settings: dict, pairs, *, use_record: bool = True) -> None:
    """Train r_phi in a worker process (lessons/rlhf/preferences_reward_job.py), followed by the
    page's LiveRun ``key``: on ``pairs`` (the session's PreferencePairs) or, with "simulate", on the
    pairs the settings' simulated labeler labels first (the default pipeline). Runs on simulated
    pairs only are the same for everyone (shared, and a finished one shows at once); a learner's
    own clicks or rankings keep the run theirs."""
    from lessons.rlhf import preferences_reward_job as job
    from ui import class_run_page, jobs

    dev = str(common.device())
    spec = job.spec(settings, pairs, _lab(dev).fingerprints({}), jobs.budget().threads, dev)
    shareable = pairs == "simulate" or all(p.source.startswith("simulated") for p in pairs)
    class_run_page.train_together(key, job.KIND, spec, shareable=shareable, max_seconds=spec["max_seconds"],
                                  steps=settings["epochs"], settings=settings, use_record=use_record,
                                  rows_of=lambda result: result["curve"])


def install_rm(s: RLHFState, result: dict, settings: dict) -> bool:
    """A finished reward-model run (:func:`start_rm`) becomes this session's r_phi: a private
    copy on the shared, frozen MiniLM (only read). A run of the default pipeline brings its pairs
    and labeler too; on the one-click settings it is the pages' one-click setup (``s.recipe``).
    False (nothing changed) for a run stopped before its first epoch."""
    from lessons.rlhf import preferences_reward_job as job

    enc = loaders.minilm(common.device())
    rm, res = job.load(result, enc.model, enc.tokenizer)
    if rm is None:
        return False
    if "pairs" in result:
        s.labeler = preferences.Labeler(settings["labeler"], settings.get("word", preferences.Labeler.word))
        s.pairs = [preferences.PreferencePair(*p) for p in result["pairs"]]
        lab = result["labeling"]
        s.labeling_note = (f"{len(s.pairs)} pairs from {lab['groups']} rankings of 4 "
                           f"({lab['ties_skipped']} tied pairs skipped)")
    one_click = "pairs" in result and settings == recorded_pages.REWARD_MODEL
    s.recipe = dict(recorded.ONE_CLICK) if one_click else None
    s.one_click_pairs = list(s.pairs) if one_click else []
    s.rm, s.rm_result, s.rm_pairs_used = rm, res, result["pairs_used"]
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
    same_pairs = one_click and s.pairs == s.one_click_pairs
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
