"""Domain adaptation by continued pretraining (the course's BloombergGPT example).

A model pretrained on one kind of text is more surprised by another; continuing pretraining
on the new domain lowers that surprise (perplexity, see lessons/pretraining/surprisal.py), and may raise
it on the old domain (forgetting), which we measure too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from lessons.pretraining import tiny_gpt
from lessons.core.loop import Progress, ShouldStop
from lessons.core.perplexity import perplexity, validation_perplexity

MODERN_PATH = Path(__file__).resolve().parents[2] / "assets" / "domain" / "modern_english.txt"
LN2 = math.log(2)
# The models and the two shipped domains of the page's table, as the page labels them.
MODELS = {"tiny": "tiny GPT (Shakespeare only)", "smollm2": "SmolLM2-135M (web, code, math)"}
SHAKESPEARE, MODERN = "Shakespeare (held-out plays)", "modern English (written for the app)"
OWN = "your text"
OWN_MAX_TOKENS = 256       # a learner's paragraph: scored on its first 256 tokens (4 windows of 64)
# Section 2's default settings (the page reads them; lessons/pretraining/recorded.py records them).
TRAIN_DEFAULTS = {"steps": 60, "lr": 3e-4, "every": 10, "seed": 0, "prompt": "I checked my email and"}


def modern_text() -> str:
    return MODERN_PATH.read_text(encoding="utf-8")


def shipped_domains() -> dict[str, str]:
    """The table's two shipped texts: held-out Shakespeare (enough characters for the 1,024-token
    validation slice under either tokenizer) and the whole modern sample (part 1 trains nothing,
    so it scores all of it: more tokens, steadier figures)."""
    from lessons import corpus

    return {SHAKESPEARE: corpus.shakespeare_text("validation")[:8000], MODERN: modern_text()}


def domain_row(model_label: str, domain: str, r: dict) -> dict:
    """One row of the table from :func:`text_perplexity`'s result."""
    return {"model": model_label, "domain": domain, "perplexity": r["perplexity"],
            "bits per character": r["bits_per_char"], "tokens scored": r["tokens"]}


def split_paragraphs(text: str, eval_every: int = 4) -> tuple[str, str]:
    """Deterministic split of a text by paragraph: every `eval_every`-th paragraph is held out
    for evaluation, the rest is for training."""
    paras = [p.strip() for p in text.split("\n\n") if p.strip()]
    ev = [p for i, p in enumerate(paras) if i % eval_every == eval_every - 1]
    tr = [p for i, p in enumerate(paras) if i % eval_every != eval_every - 1]
    return "\n\n".join(tr) + "\n", "\n\n".join(ev) + "\n"


@torch.no_grad()
def text_perplexity(model, tokenizer, text: str, block: int = 64, max_tokens: int = 1024) -> dict:
    """Perplexity (lessons.core.perplexity: one definition) over the first `max_tokens`
    tokens, in non-overlapping windows of `block` (each window starts with no context: the
    same protocol for every model and text). The defaults are the validation slice's shape."""
    ids = torch.tensor(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"][:max_tokens])
    if len(ids) < 2:
        raise ValueError("The text needs at least two tokens.")
    block = min(block, len(ids))
    n_win = len(ids) // block
    ppl = perplexity(model, ids, block=block)
    # Bits per character: total surprisal / characters scored. Unlike perplexity it does not
    # depend on how big the tokens are, so models with different tokenizers can be compared.
    scored_chars = len(tokenizer.decode(ids[: n_win * block].tolist()))
    total_bits = math.log(ppl) * n_win * (block - 1) / LN2
    return {"perplexity": ppl, "tokens": n_win * block, "bits_per_char": total_bits / max(1, scored_chars)}


@dataclass
class AdaptResult:
    log: tiny_gpt.TrainLog
    before: dict               # {"new domain": ppl, "old domain": ppl}
    after: dict
    curve: list[tuple[int, float, float]]   # (step, ppl new domain, ppl old domain)


def continued_pretraining(model, tokenizer, new_train: str, new_eval: str, old_eval: str | None = None, *,
                          steps: int = 60, lr: float = 1e-3, batch_size: int = 8, block: int = 64,
                          eval_every: int = 10, max_seconds: float = 60.0, seed: int = 0,
                          progress: Progress = None, should_stop: ShouldStop = None,
                          curve: Optional[list] = None,
                          log: Optional[tiny_gpt.TrainLog] = None) -> AdaptResult:
    """Continue causal-LM pretraining of `model` (a per-session COPY: it is modified in place)
    on `new_train`; every `eval_every` steps measure perplexity on held-out new-domain text
    and on old-domain text (`old_eval`; None = the Shakespeare validation slice of
    lessons.core.perplexity, the figure every page shows). `progress(row, log)` (the shared run
    loop's convention) gets each step's row plus the latest perplexities ("ppl_new", "ppl_old");
    `should_stop()` stops before the next update. Pass your own list as `curve` to see the
    (step, ppl new, ppl old) points appear during training (and keep them if interrupted);
    likewise pass a TrainLog as `log` to keep the run's history."""
    train_ids = tiny_gpt.encode(tokenizer, new_train)
    if len(train_ids) < block + 2:
        raise ValueError(f"The new-domain text is too short ({len(train_ids)} tokens) to train on.")

    def ppls() -> tuple[float, float]:
        old = (validation_perplexity(model, tokenizer) if old_eval is None
               else text_perplexity(model, tokenizer, old_eval)["perplexity"])
        return text_perplexity(model, tokenizer, new_eval)["perplexity"], old

    b_new, b_old = ppls()
    curve = curve if curve is not None else []
    curve.append((0, b_new, b_old))

    def on_step(row: dict, log) -> None:
        if row["step"] % eval_every == 0 or row["step"] == steps:
            curve.append((row["step"], *ppls()))
        if progress is not None:
            progress({**row, "ppl_new": curve[-1][1], "ppl_old": curve[-1][2]}, log)

    log = tiny_gpt.train_causal_lm(model, train_ids, steps=steps, batch_size=batch_size, block=block,
                                      lr=lr, warmup=max(1, steps // 10), max_seconds=max_seconds, seed=seed,
                                      progress=on_step, should_stop=should_stop, log=log)
    last = log.steps[-1] if log.steps else 0
    if curve[-1][0] != last:
        n, o = ppls()
        curve.append((last, n, o))
    model.eval()
    return AdaptResult(log, {"new domain": b_new, "old domain": b_old},
                       {"new domain": curve[-1][1], "old domain": curve[-1][2]}, curve)
