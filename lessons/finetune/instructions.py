"""Instruction data for fine-tuning a small causal LM: tasks, template, batches, evaluation.

Instruction tuning (FLAN, Wei et al. 2021; InstructGPT, Ouyang et al. 2022) is ordinary
next-token training on prompt-completion pairs written in a fixed template::

    Instruction: Say it as Shakespeare would.
    Input: your horse is false
    Response: thy horse is false

The loss is taken on the completion tokens only (the prompt's labels are -100): the model
learns to *answer*, not to write instructions. Everything here takes a model the caller owns
(a per-session copy) and never touches a shared one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from lessons.core.generate import greedy_batch, pad_id
from lessons.core.tensors import device_of

DATA_DIR = Path(__file__).resolve().parents[2] / "assets" / "instructions"
TEMPLATE = "Instruction: {instruction}\nInput: {input}\nResponse:"
STOP = "\n"  # every answer is one line: generation stops at the first newline
TASK_TITLES = {"archaic": "Modern -> Shakespearean (generation)", "mood": "Love or war? (classification)"}
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


def majority_baseline(task: str) -> dict:
    """The score of a 'model' that always gives the most common TRAINING answer: the floor any
    real learning must beat (for love/war it is about half the test split, not 0 %)."""
    from collections import Counter

    answer, _ = Counter(e.output for e in split(task, "train")).most_common(1)[0]
    test = split(task, "test")
    return {"answer": answer, "accuracy": sum(e.output == answer for e in test) / max(len(test), 1)}


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
    pad = pad_id(tokenizer)
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


@torch.no_grad()
def completion_loss(model, tokenizer, examples: list[Example], batch_size: int = 32) -> float:
    """Mean cross-entropy per completion token (lower = the answers are more likely)."""
    was = model.training
    model.eval()
    dev = device_of(model)
    tot, n = 0.0, 0
    for i in range(0, len(examples), batch_size):
        b = {k: v.to(dev) for k, v in make_batch(tokenizer, examples[i:i + batch_size]).items()}
        out = model(**b)
        k = int((b["labels"][:, 1:] != -100).sum())
        tot += out.loss.item() * k
        n += k
    model.train(was)
    return tot / max(n, 1)


def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 12) -> list[str]:
    """Batched greedy decoding until a newline (core.generate.greedy_batch: left padding +
    explicit position ids, so a short prompt in a batch gets the same answer as alone)."""
    return greedy_batch(model, tokenizer, prompts, max_new_tokens, STOP)


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
