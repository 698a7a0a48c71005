"""Fine-tuning a model the caller owns: full or LoRA (peft), the bounded training loop, and
an adapter bank (one frozen base, several named LoRA adapters switched per task).

Training runs on the shared run loop (:mod:`lessons.core.loop`): bounded by steps *and*
seconds, ``progress(row, run)`` after every step, stop only through ``should_stop()``.
"""
from __future__ import annotations

import hashlib
import random
from typing import Optional

import torch

from lessons.core.loop import Progress, Run, ShouldStop, run_loop
from lessons.core.rng import seeded
from lessons.core.tensors import device_of, param_count
from lessons.finetune import lora as lora_lib
from lessons.finetune.instructions import Example, generate, make_batch, score, split


def has_conv1d(model) -> bool:
    conv = lora_lib._conv1d_type()
    return conv is not None and any(isinstance(m, conv) for m in model.modules())


def lora_config(r: int, alpha: float, targets, model) -> "object":
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.0,
                      fan_in_fan_out=has_conv1d(model), task_type="CAUSAL_LM")


def add_lora(model, r: int, alpha: float, targets, adapter: str = "default"):
    """Wrap a model the caller OWNS (a session copy) with a named LoRA adapter, or add one
    more adapter to an existing PeftModel. Only that adapter's A, B matrices train."""
    from peft import PeftModel, get_peft_model

    if isinstance(model, PeftModel):
        if adapter not in model.peft_config:
            model.add_adapter(adapter, lora_config(r, alpha, targets, model.get_base_model()))
        model.set_adapter(adapter)
    else:
        model = get_peft_model(model, lora_config(r, alpha, targets, model), adapter_name=adapter)
    only_train_adapter(model, adapter)
    return model


def only_train_adapter(model, adapter: str) -> None:
    for n, p in model.named_parameters():
        p.requires_grad_(f".{adapter}." in n and "lora_" in n)


def _base_name(name: str) -> str:
    name = name.removeprefix("base_model.model.")
    return name.replace(".base_layer.", ".")


def base_fingerprint(model) -> str:
    """models.state_fingerprint of the *base* weights inside a (possibly peft-wrapped)
    model: LoRA tensors are skipped and peft's renamed keys are mapped back, so the hash
    equals the original model's fingerprint while the base is untouched."""
    h = hashlib.sha256()
    items = [(_base_name(n), t) for n, t in model.state_dict().items() if "lora_" not in n]
    for name, t in sorted(items, key=lambda x: x[0]):
        h.update(name.encode())
        h.update(t.detach().to("cpu").float().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def count_params(model) -> dict:
    return {"total": param_count(model), "trainable": param_count(model, trainable_only=True)}


def training_memory_mb(total: int, trainable: int) -> dict:
    """fp32 bytes while training with Adam: weights 4/param, gradients 4/trainable param,
    Adam's two moments 8/trainable param (activations not counted)."""
    return {"weights": total * 4 / 1e6, "gradients": trainable * 4 / 1e6,
            "adam_states": trainable * 8 / 1e6, "total": (total * 4 + trainable * 12) / 1e6}


# =========================================================================== training loop
class TrainResult(Run):
    """A fine-tuning run (lessons.core.loop.Run): every history row is {"step", "seconds",
    "loss"}. Kept by the caller (a page's session state), so a Stop keeps the history."""

    def __init__(self, steps_planned: int = 0, max_seconds: float = 0.0):
        super().__init__(steps_planned, max_seconds)

    def to_dict(self) -> dict:
        """Plain numbers for a page or a JSON bench (``stopped`` is the StopReason's value)."""
        return {"history": list(self.history), "steps_done": self.steps_done, "steps_planned": self.steps_planned,
                "seconds": self.seconds, "stopped": self.stopped.value if self.stopped else None,
                "seconds_per_step": self.seconds_per_step}


def train(model, tokenizer, examples: list[Example], *, steps: int = 60, lr: float = 3e-3,
          batch_size: int = 16, seed: int = 0, max_seconds: float = 60.0,
          mix_examples: list[Example] | None = None, mix: float = 0.0,
          progress: Progress = None, should_stop: ShouldStop = None, params=None,
          run: Optional[TrainResult] = None) -> TrainResult:
    """AdamW on whatever in ``model`` has requires_grad (or ``params``), on random batches
    of ``examples``; a fraction ``mix`` of each batch comes from ``mix_examples``
    (multi-task mixing). Runs on the shared run loop: bounded by ``steps`` and
    ``max_seconds``; ``progress(row, run)`` after every step; ``should_stop()`` is also asked
    just before each update, and a step stopped there is not applied (StopReason.STOPPED).
    Pass ``run`` (kept in a page's session state) so that a Stop keeps the history.

    The batches come from a private ``random.Random(seed)``; nothing here draws from torch's
    global generator (the app's models have no dropout)."""
    if not examples:
        raise ValueError("no training examples")
    params = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
    if not params:
        raise ValueError("nothing to train: every parameter is frozen")
    rng = random.Random(seed)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    dev = device_of(model)
    n_mix = int(round(batch_size * mix)) if mix_examples else 0

    def step(i: int) -> Optional[dict]:
        batch = rng.sample(examples, min(batch_size - n_mix, len(examples)))    # B - m task examples
        if n_mix:
            batch += rng.sample(mix_examples, min(n_mix, len(mix_examples)))    # + m mixed-in examples
        b = {k: v.to(dev) for k, v in make_batch(tokenizer, batch).items()}     # input_ids, labels (B, T)
        # L(theta) = mean over completion tokens of -log p_theta(y_t | prompt, y_<t)  (labels -100 elsewhere)
        loss = model(**b).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()                                                        # dL/dtheta, trainable theta only
        if should_stop is not None and should_stop():
            opt.zero_grad(set_to_none=True)
            return None                                                        # stopped: nothing applied
        torch.nn.utils.clip_grad_norm_(params, 1.0)                            # ||g|| <= 1
        opt.step()                                                             # theta <- AdamW(theta, g)
        return {"loss": loss.item()}

    model.train()
    run = run_loop(step, steps=steps, max_seconds=max_seconds, progress=progress, should_stop=should_stop,
                   run=run if run is not None else TrainResult(steps, max_seconds))
    model.eval()
    return run


# =========================================================================== adapters on one base
class AdapterBank:
    """One frozen base model (a per-session copy the caller owns) and several named LoRA
    adapters on it, one per task. Swapping tasks = switching adapters; the base weights
    are shared by all of them and never change (see :func:`base_fingerprint`)."""

    def __init__(self, base):
        for p in base.parameters():
            p.requires_grad_(False)
        self.model = base  # becomes a peft.PeftModel with the first adapter
        self.configs: dict[str, dict] = {}

    @property
    def names(self) -> list[str]:
        return list(self.configs)

    def fresh_adapter(self, name: str, r: int, alpha: float, targets) -> None:
        """(Re)create adapter ``name`` with B = 0: it starts as a no-op."""
        from peft import PeftModel

        if isinstance(self.model, PeftModel) and name in self.model.peft_config:
            if len(self.model.peft_config) == 1:
                self.model = self.model.unload()  # drop the LoRA layers, keep the same base tensors
            else:
                other = next(n for n in self.model.peft_config if n != name)
                self.model.set_adapter(other)
                self.model.delete_adapter(name)
            self.configs.pop(name, None)
        self.model = add_lora(self.model, r, alpha, list(targets), adapter=name)
        self.configs[name] = {"r": r, "alpha": alpha, "targets": list(targets)}

    def use(self, name: str | None):
        """Context manager: run with adapter ``name`` active, or with none (the base)."""
        from contextlib import nullcontext

        from peft import PeftModel

        if not isinstance(self.model, PeftModel):
            return nullcontext()
        if name is None:
            return self.model.disable_adapter()
        if name not in self.model.peft_config:
            raise KeyError(f"no adapter named {name!r}")
        self.model.set_adapter(name)
        return nullcontext()

    def generate(self, name: str | None, tokenizer, prompts: list[str]) -> list[str]:
        with self.use(name):
            return generate(self.model, tokenizer, prompts)

    def score(self, name: str | None, tokenizer, examples: list[Example]) -> dict:
        with self.use(name):
            return score(self.model, tokenizer, examples)

    def trainable(self, name: str) -> int:
        return sum(p.numel() for n, p in self.model.named_parameters() if f".{name}." in n and "lora_" in n)

    def base_fingerprint(self) -> str:
        return base_fingerprint(self.model)


# The live LoRA demo's defaults (pages/w2_lora_training.py): an adapter on all four layer types,
# big enough to reach >= 50 % exact answers on the held-out test split of both tasks within its
# steps (bench/interaction_finetune.py measures it; tests/claims/ checks it). The STEPS bound the
# demo; the seconds are only a safety net for a busy server.
LIVE_DEFAULTS = {"r": 16, "alpha": 16, "targets": ("c_attn", "c_fc", "c_proj", "lm_head"), "steps": 250,
                 "lr": 5e-3, "max_seconds": 240.0}


def train_adapter(bank: AdapterBank, tokenizer, task: str, *, r: int = LIVE_DEFAULTS["r"],
                  alpha: float = LIVE_DEFAULTS["alpha"], targets=LIVE_DEFAULTS["targets"],
                  steps: int = LIVE_DEFAULTS["steps"], lr: float = LIVE_DEFAULTS["lr"], batch_size: int = 16,
                  seed: int = 0, max_seconds: float = LIVE_DEFAULTS["max_seconds"], n_test: int = 36,
                  progress: Progress = None, should_stop: ShouldStop = None) -> dict:
    """Train a fresh LoRA adapter named after ``task`` on its train split; return the loss
    history, test scores with the adapter off (before) and on (after), timing and the
    base-weight hashes before/after."""
    start = start_adapter(bank, tokenizer, task, r=r, alpha=alpha, targets=targets, n_test=n_test, seed=seed)
    res = train(bank.model, tokenizer, split(task, "train"), steps=steps, lr=lr, batch_size=batch_size,
                seed=seed, max_seconds=max_seconds, progress=progress, should_stop=should_stop)
    return finish_adapter(bank, tokenizer, task, res, start["before"], start["fingerprint_before"], n_test)


def start_adapter(bank: AdapterBank, tokenizer, task: str, *, r: int = 8, alpha: float = 16,
                  targets=("c_attn",), n_test: int = 36, seed: int = 0) -> dict:
    """Score the base on the task's test split (adapter off), hash the base, and create a
    fresh adapter for ``task`` (A drawn from ``seed``: the same seed gives the same run). The
    page keeps this dict so a Stop can still finish."""
    fp_before = bank.base_fingerprint()
    before = bank.score(None, tokenizer, split(task, "test")[:n_test])
    with seeded(seed):   # peft draws A (Kaiming) from torch's global generator
        bank.fresh_adapter(task, r, alpha, targets)
    return {"before": before, "fingerprint_before": fp_before}


def finish_adapter(bank: AdapterBank, tokenizer, task: str, res: TrainResult | None, before: dict,
                   fp_before: str, n_test: int = 36) -> dict:
    """Score the (possibly partly) trained adapter; also used after a learner's Stop."""
    after = bank.score(task, tokenizer, split(task, "test")[:n_test])
    return {"task": task, "train": res.to_dict() if res else None, "before": before, "after": after,
            "trainable": bank.trainable(task), "total": param_count(bank.model),
            "fingerprint_before": fp_before, "fingerprint_after": bank.base_fingerprint(),
            "config": dict(bank.configs.get(task, {}))}
