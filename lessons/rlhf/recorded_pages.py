"""Recorded default runs of the RLHF pages that lessons/rlhf/recorded.py does not hold
(lessons.core.records).

They live in their own module, with their own ``CODE``, so that adding one leaves the records of
recorded.py (the PPO, reward-hacking and DPO Try-this runs, long to make again) current: a record's
key holds the sha256 of the files its module names, recorded.py included, and this module is not
among them.

Kind ``dpo-page``: the DPO page's default run (``dpo.DPOConfig``'s defaults, the settings the page's
widgets start at) on the pages' one-click setup (recorded.ONE_CLICK: the reader labeler's 300 pairs
and a reward model fitted on them), judged as the page judges it: pi_ref and the DPO policy on fresh
samples of every prompt. settings = recorded.dpo_settings(...). The JSON result is recorded.py's
``dpo`` result: {"history": rows, "ref": eval of pi_ref, "end": eval + last row, "at": {}}.

Kind ``reward-model``: the preferences page's default pipeline, the same as the pages' one click
(ui/rlhf.build_default): the simulated labeler ranks the tiny GPT's completions into
ONE_CLICK["n_pairs"] pairs (seed ONE_CLICK["seed"]) and r_phi trains ``epochs`` full-batch epochs on
them (reward_model.fit_on_pairs). settings = :data:`REWARD_MODEL`. The JSON result:

    {"n_pairs": int, "curve": [{"step", "seconds", "loss", "train_acc", "test_acc"}, ...],
     "steps_done": int, "train_acc", "test_acc": float, "n_train", "n_test": int}

A learner's own clicked or ranked pairs are not recordable (nobody else has them): the page shows
this record only while the session has no pairs and no reward model.

A run trains on ONE torch thread, as the pages' jobs do (ui/jobs.py), from torch's global seed set
to the run's seed, as recorded.run does.
"""
from __future__ import annotations

from lessons.core import records
from lessons.rlhf import recorded as rlhf_recorded

DPO_PAGE = "dpo-page"
REWARD = "reward-model"
CODE = rlhf_recorded.CODE + ("lessons/rlhf/recorded_pages.py",)
THREADS = rlhf_recorded.THREADS
Lab = rlhf_recorded.Lab           # the one-click setup on the shared models: the same fingerprints


def dpo_page_settings(**over) -> dict:
    """The DPO page's settings as a record's (``over``: the page's beta, lr, epochs, seed)."""
    return rlhf_recorded.dpo_settings(**over)


# The preferences page's defaults: its labeler, pairs and seed widgets start at the one click's
# (rlhf_recorded.ONE_CLICK), its epochs slider at "epochs".
REWARD_MODEL = {**rlhf_recorded.ONE_CLICK, "epochs": 300}

RUNS: list[tuple[str, dict]] = [(DPO_PAGE, dpo_page_settings()), (REWARD, REWARD_MODEL)]


def _dpo_page(lab: Lab, s: dict, steps: int | None = None) -> dict:
    """The DPO page's run at ``s``; ``steps`` caps it (a short replay of the same run: the same
    batches in the same order, then the same evaluation)."""
    import torch

    torch.manual_seed(s.get("seed", 0))
    return rlhf_recorded._dpo(lab, {**s, "max_steps": steps} if steps else s)


def _reward_model(lab: Lab, s: dict, epochs: int | None = None) -> dict:
    """The preferences page's default pairs and reward model at ``s``; ``epochs`` caps the
    training (a short replay: the same pairs, the same held-out split, the same first epochs)."""
    from lessons.rlhf import preferences, reward_model

    # sampled here, not taken from lab.pairs: the record's CPU seconds are the whole pipeline's
    pairs = preferences.simulate_with_model(lab.base.model, lab.base.tokenizer, preferences.Labeler(s["labeler"]),
                                            n_pairs=s["n_pairs"], seed=s["seed"]).pairs
    _, res = reward_model.fit_on_pairs(lab.encoder.model, lab.encoder.tokenizer, list(pairs), seed=s["rm_seed"],
                                       epochs=epochs or s["epochs"])
    return {"n_pairs": len(pairs), "curve": res.curve, "steps_done": res.steps_done,
            "train_acc": res.train_acc, "test_acc": res.test_acc, "n_train": res.n_train, "n_test": res.n_test}


RECIPES = {DPO_PAGE: _dpo_page, REWARD: _reward_model}

RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the pages, tests and scripts call
