"""The live pretraining page's run as a class-run job (ui/class_runs.py runs it in a worker
process, out of the web server's): a fresh tiny GPT trained from its seed's random weights, with
its samples, exactly as ``recorded_live.pretrain`` trains the same settings. So a class that
presses Start on the same settings shares one run, and a run that finished all its steps is
shown again at once (its key: the settings, the shipped tokenizer and training text, this code,
the torch threads, the device and the processor; see lessons/core/records.job_spec).

spec (JSON, built by :func:`spec`): {"settings": pretraining_live.DEFAULTS keys, "max_seconds",
"fingerprints": recorded_live.Lab.fingerprints, "code", "threads", "device", "cpu"}.

Row (one per step): the training loop's row {"step", "seconds", "loss", "lr", "tokens"} and
"samples": the [step, text] samples taken since the last row (the step-0 sample comes with
step 1's row), so a follower's page shows each sample as it appears.

Its learning-rate schedule follows the larger of the step and the time fractions
(tiny_gpt.train_causal_lm), so only a run slower than ``max_seconds / steps`` a step would take
another path: at the page's cap (600 s) and default 300 steps, 2 s a step (bench/interaction_pretraining.py
measures a step).

Result: {"history": [rows without samples], "samples": [[step, text], ...], "val_ppl": float |
None, "steps_done", "tokens_seen", "seconds", "stopped": StopReason value} (the page draws a
finished run from it, and the recorded run's fields have the same names).
"""
from __future__ import annotations

from typing import Callable

from lessons.core import records
from lessons.pretraining import pretraining_live, recorded_live

KIND = "pretraining-live"
CODE = recorded_live.CODE + ("lessons/pretraining/pretraining_live_job.py",)


def _lab(device: str) -> recorded_live.Lab:
    """The worker's shared tiny GPT (only its tokenizer is used) and training ids."""
    from lessons import models

    return recorded_live.Lab(models.load_tiny_gpt(device))


JOB = records.JobCode(CODE, _lab)
code_version, spec, lab = JOB.version, JOB.spec, JOB.lab   # the files' sha256 (once per process); the spec; the lab


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Pretrain a fresh model at ``spec["settings"]``; a row per step; the validation perplexity of
    what it learned at the end (also after a stop)."""
    s, dev = spec["settings"], spec.get("device", "cpu")
    lb = lab(dev)
    tok = lb.tiny.tokenizer
    res = pretraining_live.new_run(len(tok), tok.eos_token_id, s, spec["max_seconds"])
    res.model.to(dev)
    sent = [0]                       # samples already sent with a row

    def tick(row: dict, log) -> None:
        new, sent[0] = res.samples[sent[0]:], len(res.samples)
        progress({**row, "samples": [list(x) for x in new]})

    pretraining_live.pretrain(res, tok, lb.ids(), s["lr"], spec["max_seconds"], progress=tick,
                              should_stop=should_stop)
    pretraining_live.finish(res, tok)
    return {"history": res.log.history, "samples": [list(x) for x in res.samples], "val_ppl": res.val_ppl,
            "steps_done": res.log.steps_done, "tokens_seen": res.log.tokens_seen, "seconds": res.log.seconds,
            "stopped": res.log.stopped.value if res.log.stopped is not None else "steps"}
