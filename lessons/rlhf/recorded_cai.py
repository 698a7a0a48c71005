"""The constitutional-AI page's SmolLM2 runs as recorded runs (lessons.core.records).

Response -> critique -> revision is three greedy generations in a row, many seconds of waiting on a
CPU (each record keeps its own CPU seconds). Greedy decoding on the same model, code and thread
count writes the same three texts every time: so every shipped red-team prompt with the default
principle (the first of ``DEFAULT_CONSTITUTION``, the page's default choice) and the page's token cap
is recorded once, the page opens with the record of its current settings (labelled as recorded, the
button one click away), and a test replays the first stage live to prove that the records are what
the current code does.

Kept apart from lessons/rlhf/recorded.py (the RLHF training runs): that module's CODE names the files
of its long runs, and a constitutional-AI record must not depend on them.

Kind ``constitutional-ai``: settings = {"model": "smollm2", "prompt", "principle", "tokens"}; the
fingerprints are SmolLM2's, torch's version and the thread count. The JSON result:
{"stages": [constitutional_ai.Stage as a dict, ...]}.
"""
from __future__ import annotations

from dataclasses import asdict

from lessons.core import records
from lessons.rlhf import constitutional_ai as cai

KIND = "constitutional-ai"
CODE = ("lessons/rlhf/recorded_cai.py", "lessons/rlhf/constitutional_ai.py", "lessons/models/prompts.py",
        "lessons/core/generate.py", "lessons/core/rng.py", "lessons/core/tensors.py")
THREADS = 1


def settings(prompt: str, principle: str | None = None, tokens: int | None = None) -> dict:
    return {"model": "smollm2", "prompt": prompt,
            "principle": cai.DEFAULT_CONSTITUTION[0] if principle is None else principle,
            "tokens": int(cai.DEFAULT_TOKENS if tokens is None else tokens)}


RUNS: list[tuple[str, dict]] = [(KIND, settings(p)) for p in cai.RED_TEAM_PROMPTS]


class Lab:
    """The shared SmolLM2 (read-only)."""

    def __init__(self, smollm2):
        self.smollm2 = smollm2
        self._fp: str | None = None

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = state_fingerprint(self.smollm2.model)
        return {"smollm2": self._fp, "torch": torch.__version__, "threads": THREADS}


def critique(lab: Lab, s: dict) -> dict:
    res = cai.critique_and_revise(lab.smollm2.model, lab.smollm2.tokenizer, s["prompt"], s["principle"], s["tokens"])
    return {"stages": [asdict(stage) for stage in res.stages]}


def as_result(result: dict, s: dict) -> cai.CAIResult:
    """A recorded run as the constitutional_ai.CAIResult the page draws."""
    return cai.CAIResult(s["prompt"], s["principle"], [cai.Stage(**stage) for stage in result["stages"]])


RECIPES = {KIND: critique}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
