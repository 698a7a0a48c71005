"""Instruction fine-tuning on a small causal LM: data, template, training loop, evaluation,
full fine-tuning versus LoRA, and catastrophic forgetting.

Instruction tuning (FLAN, Wei et al. 2021; InstructGPT, Ouyang et al. 2022) is ordinary
next-token training on prompt-completion pairs written in a fixed template::

    Instruction: Say it as Shakespeare would.
    Input: your horse is false
    Response: thy horse is false

The loss is taken on the completion tokens only (the prompt's labels are -100): the model
learns to *answer*, not to write instructions.

Catastrophic forgetting: full fine-tuning on task A moves every weight, so what the model
could do before (task B, plain Shakespeare) can get worse. LoRA freezes the base weights, so
switching the adapter off gives the old model back exactly; mixing some task-B examples
into task-A training (multi-task tuning, as FLAN does) keeps task B alive.

Everything here takes a model the caller owns (a per-session copy) and never touches a
shared one. Training loops are bounded by steps *and* seconds and report through a
``progress(step, total, metrics) -> bool`` callback (return True to stop early).
Pure Python + torch + peft: no streamlit.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

import torch

from lessons import lora as lora_lib

DATA_DIR = Path(__file__).resolve().parent.parent / "assets" / "instructions"
TEMPLATE = "Instruction: {instruction}\nInput: {input}\nResponse:"
STOP = "\n"  # every answer is one line: generation stops at the first newline
TASK_TITLES = {"archaic": "Modern -> Shakespearean (generation)", "mood": "Love or war? (classification)"}
Progress = Optional[Callable[[int, int, dict], Optional[bool]]]


# =========================================================================== data
@dataclass(frozen=True)
class Example:
    task: str
    instruction: str
    input: str
    output: str
    split: str

    @property
    def prompt(self) -> str:
        return TEMPLATE.format(instruction=self.instruction, input=self.input)

    @property
    def completion(self) -> str:
        return " " + self.output + STOP


def task_names() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("*.jsonl"))


@lru_cache(maxsize=None)
def load_task(task: str) -> tuple[Example, ...]:
    path = DATA_DIR / f"{task}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"No instruction dataset named {task!r} in {DATA_DIR}")
    with open(path, encoding="utf-8") as fh:
        return tuple(Example(**json.loads(line)) for line in fh if line.strip())


def split(task: str, name: str) -> list[Example]:
    return [e for e in load_task(task) if e.split == name]


def split_table(tasks: list[str] | None = None) -> list[dict]:
    """Rows {task, train, validation, test} for the page."""
    rows = []
    for t in tasks or task_names():
        ex = load_task(t)
        rows.append({"task": t, "instruction": ex[0].instruction,
                     **{s: sum(e.split == s for e in ex) for s in ("train", "validation", "test")}})
    return rows


def custom_example(task: str, text: str) -> Example:
    """A learner's own input wrapped in a task's instruction (no known answer)."""
    ex = load_task(task)[0]
    return Example(task, ex.instruction, " ".join(text.split()), "", "custom")


# =========================================================================== tensors
def encode_pair(tokenizer, ex: Example) -> tuple[list[int], list[int]]:
    p = tokenizer(ex.prompt, add_special_tokens=False)["input_ids"]
    c = tokenizer(ex.completion, add_special_tokens=False)["input_ids"]
    return p, c


def make_batch(tokenizer, examples: list[Example]) -> dict:
    """Right-padded training batch. Shapes: input_ids/attention_mask/labels (B, T).
    labels = -100 on the prompt and on padding: only the completion is learned."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    pairs = [encode_pair(tokenizer, e) for e in examples]
    T = max(len(p) + len(c) for p, c in pairs)
    ids = torch.full((len(pairs), T), pad, dtype=torch.long)
    mask = torch.zeros((len(pairs), T), dtype=torch.long)
    labels = torch.full((len(pairs), T), -100, dtype=torch.long)
    for i, (p, c) in enumerate(pairs):
        n = len(p) + len(c)
        ids[i, :n] = torch.tensor(p + c)
        mask[i, :n] = 1
        labels[i, len(p):n] = torch.tensor(c)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def completion_loss(model, tokenizer, examples: list[Example], batch_size: int = 32) -> float:
    """Mean cross-entropy per completion token (lower = the answers are more likely)."""
    was = model.training
    model.eval()
    dev = _device_of(model)
    tot, n = 0.0, 0
    for i in range(0, len(examples), batch_size):
        b = {k: v.to(dev) for k, v in make_batch(tokenizer, examples[i:i + batch_size]).items()}
        out = model(**b)
        k = int((b["labels"][:, 1:] != -100).sum())
        tot += out.loss.item() * k
        n += k
    model.train(was)
    return tot / max(n, 1)


@torch.no_grad()
def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 12) -> list[str]:
    """Batched greedy decoding until a newline. Left padding + explicit position ids, so a
    short prompt in a batch gets the same answer as alone. Recomputes the (short) sequence
    each step: simpler than a KV cache and fast for ~40-token prompts on a 4-layer model."""
    was = model.training
    model.eval()
    dev = _device_of(model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    enc = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    L = max(len(e) for e in enc)
    ids = torch.full((len(enc), L), pad, dtype=torch.long)
    mask = torch.zeros((len(enc), L), dtype=torch.long)
    for i, e in enumerate(enc):
        ids[i, L - len(e):] = torch.tensor(e)
        mask[i, L - len(e):] = 1
    ids, mask = ids.to(dev), mask.to(dev)
    new = [[] for _ in enc]
    done = [False] * len(enc)
    n_pos = getattr(getattr(model, "config", None), "n_positions", None) or 10 ** 9
    for _ in range(max_new_tokens):
        if ids.shape[1] >= n_pos:
            break
        pos = (mask.cumsum(-1) - 1).clamp(min=0)  # (B, T)
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits[:, -1, :]
        nxt = logits.argmax(-1)  # (B,)
        for i, t in enumerate(nxt.tolist()):
            if not done[i]:
                new[i].append(t)
                if STOP in tokenizer.decode(new[i]) or t == tokenizer.eos_token_id:
                    done[i] = True
        if all(done):
            break
        ids = torch.cat([ids, nxt[:, None]], 1)
        mask = torch.cat([mask, torch.ones_like(nxt)[:, None]], 1)
    model.train(was)
    outs = []
    for toks in new:
        text = tokenizer.decode(toks, skip_special_tokens=True)
        outs.append(text.split(STOP)[0].strip())
    return outs


def score(model, tokenizer, examples: list[Example]) -> dict:
    """Exact-match accuracy of greedy answers, the completion loss, and the rows."""
    got = generate(model, tokenizer, [e.prompt for e in examples])
    rows = [{"input": e.input, "expected": e.output, "model": g, "correct": g == e.output,
             "words": word_accuracy(e.output, g)} for e, g in zip(examples, got)]
    n = max(len(rows), 1)
    return {"accuracy": sum(r["correct"] for r in rows) / n, "word_accuracy": sum(r["words"] for r in rows) / n,
            "loss": completion_loss(model, tokenizer, examples), "rows": rows}


def word_accuracy(expected: str, got: str) -> float:
    """Partial credit: the share of expected words found at the same position in the answer
    (exact match gives 1.0; 'thy horse is gentle' for 'thy king is gentle' gives 0.75)."""
    e, g = expected.split(), got.split()
    if not e:
        return float(not g)
    return sum(a == b for a, b in zip(e, g)) / max(len(e), len(g))


@lru_cache(maxsize=4)
def _validation_ids(tokenizer_key: str, tokenizer, n_tokens: int) -> torch.Tensor:
    from lessons import corpus

    text = corpus.shakespeare_text("validation")[: n_tokens * 8]
    return torch.tensor(tokenizer(text, add_special_tokens=False)["input_ids"][:n_tokens])


@torch.no_grad()
def shakespeare_perplexity(model, tokenizer, blocks: int = 16, block: int = 128) -> float:
    """Perplexity on a fixed slice of held-out Shakespeare (plays never seen in
    pretraining): exp(mean next-token loss). It measures the *pretraining* skill."""
    ids = _validation_ids(str(id(tokenizer)), tokenizer, blocks * block)
    n = ids.numel() // block
    x = ids[: n * block].view(n, block).to(_device_of(model))  # (blocks, block)
    was = model.training
    model.eval()
    loss = model(input_ids=x, labels=x).loss.item()
    model.train(was)
    return math.exp(loss)


# =========================================================================== PEFT wrapping
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
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": total, "trainable": trainable}


def training_memory_mb(total: int, trainable: int) -> dict:
    """fp32 bytes while training with Adam: weights 4/param, gradients 4/trainable param,
    Adam's two moments 8/trainable param (activations not counted)."""
    return {"weights": total * 4 / 1e6, "gradients": trainable * 4 / 1e6,
            "adam_states": trainable * 8 / 1e6, "total": (total * 4 + trainable * 12) / 1e6}


# =========================================================================== training loop
@dataclass
class TrainResult:
    history: list          # [{"step", "loss", "seconds"}]
    steps_done: int
    steps_planned: int
    seconds: float
    stopped: str           # "finished", "time limit", "stopped"

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps_done, 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "seconds_per_step": self.seconds_per_step}


def train(model, tokenizer, examples: list[Example], *, steps: int = 60, lr: float = 3e-3,
          batch_size: int = 16, seed: int = 0, max_seconds: float = 60.0,
          mix_examples: list[Example] | None = None, mix: float = 0.0,
          progress: Progress = None, params=None) -> TrainResult:
    """AdamW on whatever in ``model`` has requires_grad (or ``params``), on random batches
    of ``examples``; a fraction ``mix`` of each batch comes from ``mix_examples``
    (multi-task mixing). Bounded by ``steps`` and ``max_seconds``."""
    if not examples:
        raise ValueError("no training examples")
    params = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
    if not params:
        raise ValueError("nothing to train: every parameter is frozen")
    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    dev = _device_of(model)
    model.train()
    n_mix = int(round(batch_size * mix)) if mix_examples else 0
    history, t0, stopped = [], time.perf_counter(), "finished"
    step = 0
    for step in range(1, steps + 1):
        batch = rng.sample(examples, min(batch_size - n_mix, len(examples)))
        if n_mix:
            batch += rng.sample(mix_examples, min(n_mix, len(mix_examples)))
        b = {k: v.to(dev) for k, v in make_batch(tokenizer, batch).items()}
        loss = model(**b).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        el = time.perf_counter() - t0
        history.append({"step": step, "loss": loss.item(), "seconds": el})
        if progress is not None and progress(step, steps, history[-1]):
            stopped = "stopped"
            break
        if el > max_seconds and step < steps:
            stopped = "time limit"
            break
    model.eval()
    return TrainResult(history, len(history), steps, time.perf_counter() - t0, stopped)


# =========================================================================== forgetting
def evaluate(model, tokenizer, task_a: str, task_b: str, n_test: int = 36) -> dict:
    a = score(model, tokenizer, split(task_a, "test")[:n_test])
    b = score(model, tokenizer, split(task_b, "test")[:n_test])
    return {"task_a_accuracy": a["accuracy"], "task_b_accuracy": b["accuracy"],
            "task_a_word_accuracy": a["word_accuracy"], "task_b_word_accuracy": b["word_accuracy"],
            "task_a_loss": a["loss"], "task_b_loss": b["loss"],
            "shakespeare_ppl": shakespeare_perplexity(model, tokenizer),
            "task_a_rows": a["rows"], "task_b_rows": b["rows"]}


def prepare_start(base, tokenizer, task_b: str = "mood", steps: int = 50, lr: float = 1e-3,
                  seed: int = 0, max_seconds: float = 30.0, progress: Progress = None):
    """The starting point of the forgetting experiment: a COPY of the pretrained model that
    has been fully instruction-tuned on task B (so there is something to forget)."""
    start = copy.deepcopy(base)
    for p in start.parameters():
        p.requires_grad_(True)
    res = train(start, tokenizer, split(task_b, "train"), steps=steps, lr=lr, seed=seed,
                max_seconds=max_seconds, progress=progress)
    for p in start.parameters():
        p.requires_grad_(False)
    start.eval()
    return start, res


def finetune_on_task(start, tokenizer, method: str, task_a: str = "archaic", task_b: str = "mood", *,
                     steps: int = 60, lr: float | None = None, mix: float = 0.0, r: int = 8,
                     alpha: float = 16, targets=("c_attn",), seed: int = 0, max_seconds: float = 30.0,
                     n_test: int = 36, progress: Progress = None) -> dict:
    """Fine-tune a COPY of ``start`` on task A (plus a fraction ``mix`` of task-B examples)
    either fully (every weight trains) or with LoRA (base frozen), then evaluate."""
    if method not in ("full", "lora"):
        raise ValueError("method is 'full' or 'lora'")
    model = copy.deepcopy(start)
    if method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        lr = lr or 1e-3
    else:
        for p in model.parameters():
            p.requires_grad_(False)
        model = add_lora(model, r, alpha, targets, adapter=task_a)
        lr = lr or 1e-2
    counts = count_params(model)
    base_before = base_fingerprint(model)
    res = train(model, tokenizer, split(task_a, "train"), steps=steps, lr=lr, seed=seed,
                max_seconds=max_seconds, mix_examples=split(task_b, "train"), mix=mix, progress=progress)
    after = evaluate(model, tokenizer, task_a, task_b, n_test=n_test)
    return {"method": method, "mix": mix, "lr": lr, "train": res.to_dict(), "after": after,
            **counts, "memory_mb": training_memory_mb(counts["total"], counts["trainable"]),
            "base_changed": base_fingerprint(model) != base_before, "model": model}


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


def train_adapter(bank: AdapterBank, tokenizer, task: str, *, r: int = 8, alpha: float = 16,
                  targets=("c_attn", "lm_head"), steps: int = 150, lr: float = 1e-2, batch_size: int = 16,
                  seed: int = 0, max_seconds: float = 50.0, n_test: int = 36, progress: Progress = None) -> dict:
    """Train a fresh LoRA adapter named after ``task`` on its train split; return the loss
    history, test scores with the adapter off (before) and on (after), timing and the
    base-weight hashes before/after."""
    start = start_adapter(bank, tokenizer, task, r=r, alpha=alpha, targets=targets, n_test=n_test)
    torch.manual_seed(seed)
    res = train(bank.model, tokenizer, split(task, "train"), steps=steps, lr=lr, batch_size=batch_size,
                seed=seed, max_seconds=max_seconds, progress=progress)
    return finish_adapter(bank, tokenizer, task, res, start["before"], start["fingerprint_before"], n_test)


def start_adapter(bank: AdapterBank, tokenizer, task: str, *, r: int = 8, alpha: float = 16,
                  targets=("c_attn",), n_test: int = 36) -> dict:
    """Score the base on the task's test split (adapter off), hash the base, and create a
    fresh adapter for ``task``. The page keeps this dict so a Stop can still finish."""
    fp_before = bank.base_fingerprint()
    before = bank.score(None, tokenizer, split(task, "test")[:n_test])
    bank.fresh_adapter(task, r, alpha, targets)
    return {"before": before, "fingerprint_before": fp_before}


def finish_adapter(bank: AdapterBank, tokenizer, task: str, res: TrainResult | None, before: dict,
                   fp_before: str, n_test: int = 36) -> dict:
    """Score the (possibly partly) trained adapter; also used after a learner's Stop."""
    after = bank.score(task, tokenizer, split(task, "test")[:n_test])
    return {"task": task, "train": res.to_dict() if res else None, "before": before, "after": after,
            "trainable": bank.trainable(task), "total": sum(p.numel() for p in bank.model.parameters()),
            "fingerprint_before": fp_before, "fingerprint_after": bank.base_fingerprint(),
            "config": dict(bank.configs.get(task, {}))}


def compare_full_and_lora(start, tokenizer, *, task_a: str = "archaic", task_b: str = "mood",
                          steps: int = 80, mix: float = 0.0, r: int = 8, alpha: float = 16,
                          targets=("c_attn",), seed: int = 0, max_seconds: float = 20.0,
                          n_test: int = 36, progress: Optional[Callable[[str, int, int, dict], Optional[bool]]] = None) -> dict:
    """The forgetting experiment: the same start model fine-tuned on task A (with a fraction
    ``mix`` of task-B examples) fully and with LoRA; ``progress(method, step, total, m)``."""
    out = {}
    for method in ("full", "lora"):
        cb = (lambda s, t, m, _meth=method: progress(_meth, s, t, m)) if progress else None
        res = finetune_on_task(start, tokenizer, method, task_a, task_b, steps=steps, mix=mix, r=r,
                               alpha=alpha, targets=targets, seed=seed, max_seconds=max_seconds,
                               n_test=n_test, progress=cb)
        res.pop("model")  # the page keeps numbers, not models
        out[method] = res
    return out
