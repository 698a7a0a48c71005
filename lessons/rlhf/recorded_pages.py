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

A run trains on ONE torch thread, as the pages' jobs do (ui/jobs.py), from torch's global seed set
to the run's seed, as recorded.run does.
"""
from __future__ import annotations

from lessons.core import records
from lessons.rlhf import recorded as rlhf_recorded

DPO_PAGE = "dpo-page"
CODE = rlhf_recorded.CODE + ("lessons/rlhf/recorded_pages.py",)
THREADS = rlhf_recorded.THREADS
Lab = rlhf_recorded.Lab           # the one-click setup on the shared models: the same fingerprints


def dpo_page_settings(**over) -> dict:
    """The DPO page's settings as a record's (``over``: the page's beta, lr, epochs, seed)."""
    return rlhf_recorded.dpo_settings(**over)


RUNS: list[tuple[str, dict]] = [(DPO_PAGE, dpo_page_settings())]


def _dpo_page(lab: Lab, s: dict, steps: int | None = None) -> dict:
    """The DPO page's run at ``s``; ``steps`` caps it (a short replay of the same run: the same
    batches in the same order, then the same evaluation)."""
    import torch

    torch.manual_seed(s.get("seed", 0))
    return rlhf_recorded._dpo(lab, {**s, "max_steps": steps} if steps else s)


RECIPES = {DPO_PAGE: _dpo_page}

RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the pages, tests and scripts call
