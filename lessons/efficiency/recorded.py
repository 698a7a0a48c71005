"""The distillation page's default run as a recorded run (lessons.core.records).

Two students trained in lockstep at the page's defaults (``distillation.PAGE_DEFAULTS``: 150 steps,
alpha = 0.7, T = 2, 2 layers x 64, seed 0) take the same path every time for the same settings,
seed, teacher weights, code and thread count. So the page opens with that run drawn (labelled as
recorded, Train one click away), its "what to expect" caption quotes the record's figures, and the
outcome test checks the claim on the record, with a short live replay proving that the record is
what the current code does.

A run trains on ONE torch thread, as the pages' jobs do (ui/jobs.py).

Kind ``distillation``: settings = PAGE_DEFAULTS plus the batch, block and learning rate of
``distillation.train_pair``. The JSON result:

    {"students": {"hard labels" | "distilled": {"ce": [per step], "losses": [per step],
                                                "val_ppl": [[step, perplexity], ...], "steps": n}},
     "n_params_student": int, "n_params_teacher": int, "seconds": float, "stopped": StopReason value}

The class run of the page's Train (lessons/efficiency/distillation_job.py) trains any settings
through :func:`train_students` too, so a recorded run and a live one take one path.
"""
from __future__ import annotations

from lessons.core import records
from lessons.efficiency import distillation as kd

KIND = "distillation"
CODE = ("lessons/efficiency/recorded.py", "lessons/efficiency/distillation.py", "lessons/core/loop.py",
        "lessons/core/perplexity.py", "lessons/core/rng.py", "lessons/core/tensors.py")
FAR = 3600.0          # the seconds cap of a recorded run: far away, the steps decide
THREADS = 1
TRAIN = {"batch": 16, "block": 64, "lr": 3e-3}     # train_pair's defaults, as the page calls it


def settings(**over) -> dict:
    return {**kd.PAGE_DEFAULTS, **TRAIN, **over}


RUNS: list[tuple[str, dict]] = [(KIND, settings())]


class Lab:
    """The shared tiny GPT (the teacher, read-only) and the pages' token ids."""

    def __init__(self, teacher):
        self.teacher = teacher
        self._fp: str | None = None
        self._ids = None

    def ids(self):
        if self._ids is None:
            self._ids = kd.page_ids(self.teacher.tokenizer)
        return self._ids

    def fingerprints(self, settings: dict) -> dict:
        import torch

        from lessons.models import state_fingerprint

        if self._fp is None:
            self._fp = state_fingerprint(self.teacher.model)
        return {"tiny_gpt": self._fp, "torch": torch.__version__, "threads": THREADS}


def train_students(lab: Lab, s: dict, steps: int | None = None, *, max_seconds: float = FAR, progress=None,
                   should_stop=None, runs: dict | None = None) -> dict:
    """Both students at the settings ``s``, as the page trains them (on the teacher's device).
    ``steps`` overrides the settings' steps (a short replay of the same run: same batches, same
    evaluation steps). ``progress``/``should_stop``: the run loop's (a class run's row per step,
    its Stop); ``runs``: a dict that holds the students (distillation.train_pair)."""
    cfg, dev = lab.teacher.model.config, next(lab.teacher.model.parameters()).device
    runs = kd.train_pair(lab.teacher.model, *lab.ids(),
                         lambda: kd.make_student(cfg, s["layers"], s["width"], 2, seed=int(s["seed"])).to(dev),
                         T=s["T"], alpha=s["alpha"], steps=steps or s["steps"], max_seconds=max_seconds,
                         batch=s["batch"], block=s["block"], lr=s["lr"], seed=int(s["seed"]),
                         eval_every=kd.eval_every(s["steps"]), progress=progress, should_stop=should_stop, runs=runs)
    run = runs["distilled"].run
    return {"students": {name: {"ce": r.ce, "losses": r.losses, "val_ppl": [list(v) for v in r.val_ppl],
                                "steps": r.steps}
                         for name, r in runs.items()},
            "n_params_student": kd.n_params(runs["distilled"].model),
            "n_params_teacher": kd.n_params(lab.teacher.model),
            "seconds": run.seconds, "stopped": run.stopped.value if run.stopped is not None else "steps"}


RECIPES = {KIND: train_students}


RECORDER = records.Recorder(CODE, RECIPES, THREADS)
key, run, recorded = RECORDER.key, RECORDER.run, RECORDER.recorded    # what the page, tests and scripts call


def val_at(rec: records.Record, step: int) -> dict[str, float]:
    """{student: validation perplexity at ``step``} of a record (the step must be one it measured)."""
    return {name: dict((int(s), p) for s, p in student["val_ppl"])[step]
            for name, student in rec.result["students"].items()}
