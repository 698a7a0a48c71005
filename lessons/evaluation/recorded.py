"""The model-summaries page's SmolLM2 run as a recorded run (lessons.core.records).

The page's "Summarize with SmolLM2" generates two greedy summaries per dialogue (zero-shot and
few-shot), which takes a learner many seconds of waiting (the record keeps its own CPU seconds).
Greedy decoding on the same model, code and thread count writes the same summaries every time: so
the run at the page's defaults (``summaries.PAGE_DEFAULTS``) is recorded once, the page opens with
it (labelled as recorded, the button one click away), and a test replays one dialogue live to prove
that the record is what the current code does.

Kind ``model-summaries``: settings = {"model": "smollm2", "ids": [dialogue ids], "shots",
"max_new_tokens"}; the fingerprints are SmolLM2's, torch's version and the thread count. The JSON
result: {"rows": summaries.summarize_and_score's rows}.
"""
from __future__ import annotations

from lessons.core import records
from lessons.evaluation import corpus_scoring, summaries

KIND = "model-summaries"
CODE = ("lessons/evaluation/recorded.py", "lessons/evaluation/summaries.py", "lessons/evaluation/corpus_scoring.py",
        "lessons/evaluation/rouge.py", "lessons/evaluation/bleu.py", "lessons/core/generate.py", "lessons/core/rng.py",
        "lessons/core/tensors.py", "lessons/core/budget.py", "assets/evaluation/dialogues.json")
FAR = 3600.0          # the seconds cap of a recorded run: far away, the tokens decide
THREADS = 1


def settings(ids=None, shots: int | None = None, max_new_tokens: int | None = None) -> dict:
    d = summaries.PAGE_DEFAULTS
    return {"model": "smollm2", "ids": [int(i) for i in (d["ids"] if ids is None else ids)],
            "shots": int(d["shots"] if shots is None else shots),
            "max_new_tokens": int(d["max_new_tokens"] if max_new_tokens is None else max_new_tokens)}


RUNS: list[tuple[str, dict]] = [(KIND, settings())]


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


def summarize(lab: Lab, s: dict, only: int | None = None, max_seconds: float = FAR, progress=None,
              should_stop=None) -> dict:
    """The page's run with the settings ``s``: ``only`` = the first dialogues only (a short replay;
    the few-shot examples stay those of the whole selection, as on the page). The class-run job
    (model_summaries_job) passes the page's time limit, its progress and its stop check."""
    sample = corpus_scoring.load_sample()
    by_id = {d["id"]: d for d in sample}
    shots = summaries.few_shot_examples(sample, s["ids"], s["shots"])
    items = [by_id[i] for i in s["ids"]][:only]
    return {"rows": summaries.summarize_and_score(lab.smollm2, items, shots, s["max_new_tokens"], max_seconds=max_seconds,
                                                  progress=progress, should_stop=should_stop)}


RECIPES = {KIND: summarize}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call
