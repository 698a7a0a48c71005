"""Pretraining objectives: how raw text becomes its own labels.

* **Masked LM** (BERT, RoBERTa; encoders): hide ~15% of the tokens, predict them from both
  sides. Of the chosen positions BERT replaces 80% with [MASK], 10% with a random token and
  keeps 10% unchanged, so the model cannot rely on seeing [MASK] at fine-tuning time.
* **Causal LM** (GPT, Llama, SmolLM2; decoders): predict every next token from the left
  context only. The targets are the inputs shifted left by one.
* **Span corruption** (T5; encoder-decoders): replace random contiguous spans (mean length
  3, ~15% of tokens) with sentinels <extra_id_0>, <extra_id_1>, ...; the target is the
  sentinels followed by the tokens they hid.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

# Which model families use which objective (for the page's table).
FAMILIES = [
    {"objective": "Masked LM (autoencoding)", "architecture": "encoder-only",
     "models": "BERT, RoBERTa, all-MiniLM-L6-v2", "good at": "classification, embeddings, NER"},
    {"objective": "Causal LM (autoregressive)", "architecture": "decoder-only",
     "models": "GPT-2/3/4, Llama, SmolLM2, our tiny GPT", "good at": "text generation, chat, in-context learning"},
    {"objective": "Span corruption (seq2seq)", "architecture": "encoder-decoder",
     "models": "T5, FLAN-T5, BART (denoising)", "good at": "translation, summarisation, QA"},
]



@dataclass
class Objective:
    """What the model sees and what it must predict, token by token (strings for display)."""

    name: str
    inputs: list[str]
    targets: list[str]            # aligned with inputs for MLM/CLM; the decoder target for T5
    loss_positions: list[int]     # indices into `inputs` (MLM/CLM) that carry a loss
    note: str = ""


def masked_lm(tokens: list[str], seed: int = 0, mask_prob: float = 0.15,
              mask_token: str = "[MASK]", vocab: Optional[list[str]] = None) -> Objective:
    """BERT's recipe. Each token is picked with probability `mask_prob` (at least one); a
    picked token becomes [MASK] (80%), a random vocabulary token (10%) or stays (10%).
    Loss only on picked positions; the target there is the original token."""
    rng = random.Random(seed)
    vocab = vocab or tokens
    picked = [i for i in range(len(tokens)) if rng.random() < mask_prob]
    if not picked and tokens:
        picked = [rng.randrange(len(tokens))]
    inputs, targets = list(tokens), ["" for _ in tokens]
    for i in picked:
        targets[i] = tokens[i]
        r = rng.random()
        if r < 0.8:
            inputs[i] = mask_token
        elif r < 0.9:
            inputs[i] = rng.choice(vocab)
        # else: unchanged, but still predicted
    return Objective("Masked LM", inputs, targets, picked,
                     f"{len(picked)} of {len(tokens)} tokens picked ({mask_prob:.0%} rate); "
                     "80% -> [MASK], 10% -> random token, 10% unchanged.")


def causal_lm(tokens: list[str]) -> Objective:
    """Inputs t_0..t_{n-2}, targets t_1..t_{n-1}: every position predicts the next token.
    (In code: logits[:, :-1] are compared to input_ids[:, 1:].)"""
    inputs, targets = tokens[:-1], tokens[1:]
    return Objective("Causal LM", inputs, targets, list(range(len(inputs))),
                     f"{len(inputs)} predictions from one sequence: every token is a target.")


def span_corruption(tokens: list[str], seed: int = 0, noise_density: float = 0.15,
                    mean_span: float = 3.0) -> Objective:
    """T5's objective: choose spans covering ~`noise_density` of the tokens (mean length
    `mean_span`), replace each span by one sentinel in the input; the target lists each
    sentinel followed by the tokens it replaced, and ends with a final sentinel."""
    n = len(tokens)
    rng = random.Random(seed)
    n_noise = max(1, round(n * noise_density)) if n else 0
    n_spans = max(1, round(n_noise / mean_span)) if n else 0
    noise = [False] * n
    # Place spans at random, non-overlapping starts; span lengths split n_noise.
    lengths = [n_noise // n_spans + (1 if i < n_noise % n_spans else 0) for i in range(n_spans)]
    for L in lengths:
        for _ in range(100):
            s = rng.randrange(0, max(1, n - L + 1))
            window = range(max(0, s - 1), min(n, s + L + 1))  # keep a gap between spans
            if not any(noise[j] for j in window):
                for j in range(s, min(n, s + L)):
                    noise[j] = True
                break
    inputs, targets, k, i = [], [], 0, 0
    while i < n:
        if noise[i]:
            sentinel = f"<extra_id_{k}>"
            inputs.append(sentinel)
            targets.append(sentinel)
            while i < n and noise[i]:
                targets.append(tokens[i])
                i += 1
            k += 1
        else:
            inputs.append(tokens[i])
            i += 1
    targets.append(f"<extra_id_{k}>")
    return Objective("Span corruption", inputs, targets, list(range(len(targets))),
                     f"{sum(noise)} of {n} tokens hidden in {k} span(s); the encoder reads the "
                     "corrupted text, the decoder writes only the missing pieces.")


MAX_OBJECTIVE_TOKENS = 64


def display_tokens(text: str, tokenizer=None, limit: int = MAX_OBJECTIVE_TOKENS) -> tuple[list[str], bool]:
    """The learner's sentence as a list of tokens to build the objectives from: whitespace
    words, or the pieces of a real subword tokenizer (each piece decoded on its own, so a
    leading space stays visible). Returns (tokens, truncated)."""
    if tokenizer is None:
        toks = text.split()
    else:
        ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        toks = [tokenizer.decode([i], clean_up_tokenization_spaces=False) for i in ids]
    return toks[:limit], len(toks) > limit
