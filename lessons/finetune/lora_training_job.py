"""The live LoRA page's Train as a class-run job (ui/class_runs.py runs it in a worker process, out
of the web server's): one adapter for one task trained on a private copy of the tiny GPT and
scored before (adapter off) and after, exactly as ``lora_training.train_adapter`` does in the
recorded run (lessons/finetune/recorded.py) for the same settings. So a class that presses Train on
the same task and settings shares one run, and a run that finished all its steps is shown again at
once. The trained adapter's weights are saved for the learner's page, which loads them into its
own bank of adapters (section 3 swaps them on one frozen base).

spec (JSON, built by :func:`spec`): {"settings": {"task", "r", "alpha", "targets", "steps", "lr",
"seed", "batch_size", "n_test"} (recorded.settings keys, one task), "max_seconds", "fingerprints":
recorded.Lab.fingerprints, "code", "threads", "device", "cpu"} (lessons/core/records.job_spec).
The task files are in the code version.

Row (one per step): the training loop's row {"step", "seconds", "loss", ...}.

Result: ``lora_training.train_adapter``'s dict (task, train: history, steps and why it ended,
before / after scores with their rows, trainable and total counts, the base hashes, config) with
"weights": the saved adapter tensors' path (lessons/core/records.save_weights; None when no step
was taken) and "stopped" (the StopReason value).
"""
from __future__ import annotations

from typing import Callable

from lessons.core import records
from lessons.finetune import lora_training, recorded

KIND = "lora-training"
CODE = recorded.CODE + ("lessons/finetune/lora_training_job.py",)


def _lab(device: str) -> recorded.Lab:
    """The worker's shared tiny GPT (read-only: every run trains on its own copy)."""
    from lessons import models

    return recorded.Lab(models.load_tiny_gpt(device))


JOB = records.JobCode(CODE, _lab)
code_version, spec, lab = JOB.version, JOB.spec, JOB.lab   # the files' sha256 (once per process); the spec; the lab


def settings(task: str, **over) -> dict:
    """One task's settings: the recorded run's (the page's defaults) but for one task."""
    s = recorded.settings(**over)
    del s["tasks"]
    return {"task": task, **s}


def adapter_state(bank: lora_training.AdapterBank, name: str) -> dict:
    """The adapter's own tensors (its lora_A / lora_B matrices), by parameter name."""
    return {n: p.detach().cpu().clone() for n, p in bank.model.named_parameters() if f".{name}." in n and "lora_" in n}


def run(spec: dict, progress: Callable[[dict], None], should_stop: Callable[[], bool]) -> dict:
    """Train ``spec["settings"]["task"]``'s adapter on a private copy; a row per step; scored as it
    ended (also after a stop)."""
    from lessons.models import session_copy

    s, lb = spec["settings"], lab(spec.get("device", "cpu"))
    bank = lora_training.AdapterBank(session_copy(lb.base.model))
    res = lora_training.train_adapter(bank, lb.base.tokenizer, s["task"], r=s["r"], alpha=s["alpha"],
                                      targets=tuple(s["targets"]), steps=s["steps"], lr=s["lr"],
                                      batch_size=s["batch_size"], seed=s["seed"], max_seconds=spec["max_seconds"],
                                      n_test=s["n_test"], progress=lambda row, run: progress(row),
                                      should_stop=should_stop)
    done = res["train"]["steps_done"]
    return {**res, "weights": records.save_weights(spec, done, adapter_state(bank, s["task"])) if done else None,
            "stopped": res["train"]["stopped"] or "steps"}


def load_adapter(bank: lora_training.AdapterBank, result: dict) -> bool:
    """Put a finished job's adapter into a session's bank under its task's name (a fresh adapter
    of the run's config, then its trained tensors); False when the weights are gone."""
    state = records.load_weights(result.get("weights"))
    if state is None:
        return False
    cfg = result["config"]
    bank.fresh_adapter(result["task"], cfg["r"], cfg["alpha"], cfg["targets"])
    _, unexpected = bank.model.load_state_dict(state, strict=False)
    if unexpected or set(adapter_state(bank, result["task"])) != set(state):
        raise ValueError(f"the saved adapter does not fit this model ({len(unexpected)} unexpected tensors)")
    return True
