"""The domain-adaptation page's table of the two shipped domains as a recorded run
(lessons.core.records).

Scoring the two shipped texts (1,024 tokens each) with SmolLM2-135M costs about 20 CPU-seconds on
a laptop, and the result is the same every time for the same texts, models, code and thread
count: so the page opens with the recorded table (labelled as recorded, "Measure live" one click
away) and a learner's own text is the only cell measured on the spot. The tests check that the
record is current and that measuring now gives the same figures.

Kind ``domain-adaptation``: settings = {"texts": {domain: sha256 of its text}, "block": 64,
"max_tokens": 1024}; fingerprints = both models' weights, torch's version and the thread count.
The JSON result: {"rows": [domain_adaptation.domain_row(...) for each model, for each domain]}.
"""
from __future__ import annotations

import hashlib

from lessons.core import records
from lessons.core.threads import torch_threads
from lessons.pretraining import domain_adaptation

KIND = "domain-adaptation"
CODE = ("lessons/pretraining/recorded.py", "lessons/pretraining/domain_adaptation.py",
        "lessons/core/perplexity.py", "lessons/core/tensors.py")
THREADS = 1


def settings() -> dict:
    texts = domain_adaptation.shipped_domains()
    return {"texts": {d: hashlib.sha256(t.encode("utf-8")).hexdigest() for d, t in texts.items()},
            "block": 64, "max_tokens": 1024}


RUNS: list[tuple[str, dict]] = [(KIND, settings())]


class Lab:
    """The two shared, read-only models the table scores (``models``: key of
    domain_adaptation.MODELS -> LoadedModel). Fingerprints are computed once."""

    def __init__(self, tiny, smollm2):
        self.models = {"tiny": tiny, "smollm2": smollm2}
        self._fp: dict | None = None

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = {name: state_fingerprint(lm.model) for name, lm in self.models.items()}
        return {**self._fp, "torch": torch.__version__, "threads": THREADS}


def measure_table(lab: Lab, s: dict, only: tuple[str, ...] | None = None) -> dict:
    """Score every shipped domain with every model (``only``: these model keys), in table order."""
    texts = domain_adaptation.shipped_domains()
    assert set(texts) == set(s["texts"]), "the settings name other domains than the page ships"
    rows = []
    for name, label in domain_adaptation.MODELS.items():
        if only is not None and name not in only:
            continue
        lm = lab.models[name]
        for dom, text in texts.items():
            r = domain_adaptation.text_perplexity(lm.model, lm.tokenizer, text, s["block"], s["max_tokens"])
            rows.append(domain_adaptation.domain_row(label, dom, r))
    return {"rows": rows}


RECIPES = {KIND: measure_table}


def key(lab: Lab, kind: str, settings: dict) -> tuple[dict, str, str]:
    fp, code = lab.fingerprints(settings), records.code_version(CODE)
    return fp, code, records.run_key(kind, settings, fp, code)


def run(lab: Lab, kind: str, settings: dict, only: tuple[str, ...] | None = None) -> records.Record:
    """Measure now (one torch thread) and return it as a record (not stored)."""
    fp, code, _ = key(lab, kind, settings)
    with torch_threads(THREADS):
        return records.measure(kind, settings, fp, code, lambda: RECIPES[kind](lab, settings, only))


def recorded(lab: Lab, kind: str, settings: dict, store: records.FileStore | None = None) -> records.Record | None:
    """The current record, or None (none made by this code, these models, this torch)."""
    return (store or records.FileStore()).get(kind, key(lab, kind, settings)[2])
