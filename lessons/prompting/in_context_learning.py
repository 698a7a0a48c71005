"""Prompt engineering and in-context learning (zero-, one- and few-shot), measured.

Brown et al. 2020 ("Language Models are Few-Shot Learners") showed that a large LM can
pick up a task from a handful of solved examples written into the prompt -- no weights
change. Here we *measure* what that buys on a 135M-parameter model: the same labelled test
set is classified with 0, 1 and k examples in the prompt, and the accuracies are compared.

Scoring without free generation: after the prompt ends with ``Sentiment:`` (or the chat
template's assistant header), we read the model's next-token distribution and compare the
probability mass on each label word (" positive", "Positive", ... -- every spelling's first
token). The predicted label is the one with the largest mass. That is one forward pass per
test item (no sampling, deterministic) and it also tells how much of the distribution the
model puts on *valid* answers at all -- a number that grows with few-shot examples.

Speed: all prompts of one condition share the same prefix (instruction + examples), so the
prefix is run once, its key/value cache is repeated across a batch, and only each item's
short suffix is run (left-padded, batched, LM head on the last position only). A unit test checks this equals scoring each
full prompt on its own.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lessons.core.generate import cache_kwarg, pad_id

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "prompting"
TASK_FILES = {"sentiment": "sentiment.json", "topics": "topics.json"}


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True)
class Task:
    key: str
    name: str
    instruction: str
    input_name: str
    output_name: str
    labels: tuple[str, ...]
    examples: tuple[Example, ...]   # offered as prompt examples
    test: tuple[Example, ...]       # never used as examples: the held-out evaluation set
    note: str = ""


def load_task(key: str) -> Task:
    """A labelled task written for the app (assets/prompting/<key>.json)."""
    if key not in TASK_FILES:
        raise KeyError(f"unknown task {key!r}; have {sorted(TASK_FILES)}")
    raw = json.loads((ASSETS / TASK_FILES[key]).read_text(encoding="utf-8"))
    ex = lambda rows: tuple(Example(r["text"], r["label"]) for r in rows)  # noqa: E731
    return Task(key, raw["name"], raw["instruction"], raw["input_name"], raw["output_name"],
                tuple(raw["labels"]), ex(raw["examples"]), ex(raw["test"]), raw.get("note", ""))


def task_names() -> dict[str, str]:
    return {k: load_task(k).name for k in TASK_FILES}


# --------------------------------------------------------------------------- prompt building
def format_item(task: Task, text: str, label: str | None = None) -> str:
    """'Review: <text>\\nSentiment: positive' (label omitted for the query)."""
    out = f"{task.input_name}: {text}\n{task.output_name}:"
    return out + (f" {label}" if label is not None else "")


def build_plain(task: Task, examples: list[Example], query: str, instruction: str | None = None) -> str:
    """A completion-style prompt: instruction, solved examples, then the unsolved query."""
    instruction = task.instruction if instruction is None else instruction
    blocks = [instruction] if instruction.strip() else []
    blocks += [format_item(task, e.text, e.label) for e in examples]
    blocks.append(format_item(task, query))
    return "\n\n".join(blocks)


def chat_messages(task: Task, examples: list[Example], query: str, instruction: str | None = None) -> list[dict]:
    """The same prompt for a chat model: the instruction as the system message, each example
    as a user turn answered by an assistant turn, then the query as the last user turn."""
    instruction = task.instruction if instruction is None else instruction
    msgs = []
    if instruction.strip():
        msgs.append({"role": "system", "content": instruction})
    for e in examples:
        msgs.append({"role": "user", "content": f"{task.input_name}: {e.text}"})
        msgs.append({"role": "assistant", "content": e.label})
    msgs.append({"role": "user", "content": f"{task.input_name}: {query}"})
    return msgs


def build_prompt(task: Task, examples: list[Example], query: str, tokenizer=None, *,
                 use_chat: bool = False, instruction: str | None = None) -> str:
    """The exact text the model reads. With ``use_chat`` the tokenizer's chat template is
    applied (raw special tokens included) and the assistant header is appended."""
    if not use_chat:
        return build_plain(task, examples, query, instruction)
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise ValueError("This tokenizer has no chat template; use the plain prompt format.")
    return tokenizer.apply_chat_template(chat_messages(task, examples, query, instruction),
                                         tokenize=False, add_generation_prompt=True)


@dataclass
class TokenBudget:
    prompt_tokens: int
    max_new_tokens: int
    context_window: int

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.max_new_tokens

    @property
    def fits(self) -> bool:
        return self.total <= self.context_window

    @property
    def fraction(self) -> float:
        return self.total / self.context_window


def context_window(model, tokenizer=None) -> int:
    """Positions the model was trained for (max_position_embeddings / n_positions)."""
    cfg = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "n_ctx"):
        v = getattr(cfg, name, None)
        if isinstance(v, int) and v > 0:
            return v
    return int(getattr(tokenizer, "model_max_length", 1024))


def token_budget(tokenizer, model, prompt: str, max_new_tokens: int) -> TokenBudget:
    n = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    return TokenBudget(n, int(max_new_tokens), context_window(model, tokenizer))


# --------------------------------------------------------------------------- scoring
def label_token_ids(tokenizer, labels) -> dict[str, list[int]]:
    """First token of each spelling of each label (' positive', 'positive', 'Positive', ...).
    A token shared by two labels would make the score ambiguous, so it is dropped."""
    cands: dict[str, set[int]] = {}
    for lab in labels:
        ids = set()
        for form in {lab, " " + lab, lab.capitalize(), " " + lab.capitalize()}:
            toks = tokenizer(form, add_special_tokens=False)["input_ids"]
            if not toks:
                continue
            # the first token must carry the word's start ("Sports" -> "S"+"ports" would
            # make a bare "S" count as a vote for sports): require >= 3 letters of it
            head = tokenizer.decode([toks[0]]).strip().lower()
            if len(head) >= min(3, len(lab)) and lab.lower().startswith(head):
                ids.add(toks[0])
        cands[lab] = ids
    out = {}
    for lab, ids in cands.items():
        others = set().union(*(v for k, v in cands.items() if k != lab))
        out[lab] = sorted(ids - others)
    return out


@dataclass
class Condition:
    name: str                 # "zero-shot", "one-shot", "3-shot"
    n_shots: int
    accuracy: float
    label_mass: float         # mean probability put on any valid label word
    predictions: list[str]
    probs: list[dict]         # per item: {label: share of the label mass}
    prompt_example: str = ""  # the prompt of the first test item, to show


def _common_prefix_len(seqs: list[list[int]]) -> int:
    n = min(len(s) for s in seqs)
    for i in range(n):
        t = seqs[0][i]
        if any(s[i] != t for s in seqs):
            return i
    return n


@torch.no_grad()
def next_token_logprobs_batch(model, tokenizer, prompts: list[str], batch_size: int = 16) -> torch.Tensor:
    """log p(next token | prompt) for many prompts that share a prefix: (N, V).

    The shared prefix (token ids) is run once; its KV cache is repeated for each batch and
    only the suffixes are run, left-padded and masked, with position ids that continue
    the prefix; the logits are read at the last position only."""
    from transformers import DynamicCache

    dev = next(model.parameters()).device
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    # keep at least one suffix token per prompt (we need its logits)
    P = min(_common_prefix_len(ids), min(len(s) for s in ids) - 1)
    out = []
    prefix_cache = None
    if P > 0:
        prefix_cache = DynamicCache()
        model(torch.tensor([ids[0][:P]], device=dev), **{cache_kwarg(model): prefix_cache}, use_cache=True)
    pad = pad_id(tokenizer)
    import inspect

    keep_last = "logits_to_keep" in inspect.signature(type(model).forward).parameters
    for b0 in range(0, len(ids), batch_size):
        chunk = [s[P:] for s in ids[b0:b0 + batch_size]]
        B, L = len(chunk), max(len(s) for s in chunk)
        # Suffixes are LEFT-padded (the pads sit between the shared prefix and the suffix,
        # masked out), so every row's last real token is at position L-1 and the LM head
        # only has to run there (logits_to_keep=1): the head (V x d = 49,152 x 576 for
        # SmolLM2) is a fifth of the model's work per token.
        x = torch.full((B, L), pad, dtype=torch.long)
        mask = torch.zeros((B, P + L), dtype=torch.long)
        mask[:, :P] = 1
        pos = torch.full((B, L), P, dtype=torch.long)
        for r, s in enumerate(chunk):
            q = L - len(s)                                              # pads in front of row r
            x[r, q:] = torch.tensor(s)
            mask[r, P + q:] = 1
            pos[r, q:] = torch.arange(P, P + len(s))                    # real positions continue the prefix
        kw = {"logits_to_keep": 1} if keep_last else {}
        if prefix_cache is not None:
            cache = DynamicCache()
            for layer, (k, v) in enumerate(_cache_kv(prefix_cache)):
                cache.update(k.expand(B, -1, -1, -1).contiguous(), v.expand(B, -1, -1, -1).contiguous(), layer)
            kw[cache_kwarg(model)] = cache
        logits = model(x.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                       use_cache=prefix_cache is not None, **kw).logits  # (B, 1 or L, V)
        out.append(torch.log_softmax(logits[:, -1].float(), dim=-1).cpu())
    return torch.cat(out)


def _cache_kv(cache):
    """(key, value) per layer of a DynamicCache, across transformers versions."""
    if hasattr(cache, "layers"):
        return [(l.keys, l.values) for l in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))


def score_condition(model, tokenizer, task: Task, examples: list[Example], *, use_chat: bool = False,
                    instruction: str | None = None, name: str | None = None,
                    items: list[Example] | None = None) -> Condition:
    """Accuracy of the model on the task's test set with ``examples`` in the prompt."""
    items = list(task.test if items is None else items)
    prompts = [build_prompt(task, examples, it.text, tokenizer, use_chat=use_chat, instruction=instruction)
               for it in items]
    logp = next_token_logprobs_batch(model, tokenizer, prompts)          # (N, V)
    lab_ids = label_token_ids(tokenizer, task.labels)
    # mass of each label = sum of p over its spellings' first tokens  -> (N, n_labels)
    mass = torch.stack([logp[:, ids].exp().sum(-1) for ids in lab_ids.values()], dim=-1)
    labels = list(lab_ids)
    pred = [labels[i] for i in mass.argmax(-1).tolist()]
    acc = sum(p == it.label for p, it in zip(pred, items)) / len(items)
    share = mass / mass.sum(-1, keepdim=True).clamp_min(1e-30)
    k = len(examples)
    return Condition(
        name=name or ("zero-shot" if k == 0 else "one-shot" if k == 1 else f"{k}-shot"),
        n_shots=k, accuracy=acc, label_mass=float(mass.sum(-1).mean()), predictions=pred,
        probs=[{lab: float(share[i, j]) for j, lab in enumerate(labels)} for i in range(len(items))],
        prompt_example=prompts[0],
    )


def compare_shots(model, tokenizer, task: Task, examples: list[Example], *, use_chat: bool = False,
                  instruction: str | None = None, shots: tuple[int, ...] | None = None,
                  items: list[Example] | None = None) -> list[Condition]:
    """Zero-, one- and few-shot (all given examples) side by side on the same test set
    (``items``: another list of test items, e.g. the first few of it)."""
    shots = shots or tuple(sorted({0, min(1, len(examples)), len(examples)}))
    return [score_condition(model, tokenizer, task, list(examples[:k]), use_chat=use_chat,
                            instruction=instruction, items=items) for k in shots]


def mean_entropy_bits(probs: list[dict]) -> float:
    """Average uncertainty of the label choice (0 = sure, log2(n_labels) = coin flip)."""
    tot = 0.0
    for row in probs:
        tot -= sum(p * math.log2(p) for p in row.values() if p > 0)
    return tot / max(len(probs), 1)


def label_probs(logits, tokenizer, labels) -> tuple[dict[str, float], float]:
    """From raw next-token logits (V,): each label's probability mass (summed over its
    spellings' first tokens) and the total mass on any label word."""
    p = torch.softmax(torch.as_tensor(logits, dtype=torch.float32).reshape(-1), dim=-1)
    mass = {lab: float(p[ids].sum()) for lab, ids in label_token_ids(tokenizer, labels).items()}
    return mass, sum(mass.values())


def tokens_per_example(tokenizer, task: Task, examples: list[Example]) -> float:
    """Average token cost of one solved example in the plain format (with its separator)."""
    if not examples:
        return 0.0
    n = [len(tokenizer("\n\n" + format_item(task, e.text, e.label), add_special_tokens=False)["input_ids"])
         for e in examples]
    return sum(n) / len(n)
