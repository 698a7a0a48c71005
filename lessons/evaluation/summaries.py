"""Scoring a real model: zero-/few-shot summarization prompts for SmolLM2, each summary
scored against the reference with ROUGE and BLEU."""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Optional, Sequence

from lessons.core import budget
from lessons.core.generate import Generation, generate
from lessons.evaluation.bleu import bleu_breakdown
from lessons.evaluation.rouge import rouge_breakdown

SUMMARY_INSTRUCTION = "Summarize the dialogue in one short sentence."
# The page's defaults (pages/w2_model_summaries.py and its recorded run read them): the dialogues
# summarized, the few-shot examples and the new-token cap of each summary.
PAGE_DEFAULTS = {"ids": (1, 2, 3), "shots": 2, "max_new_tokens": 40}


def few_shot_examples(sample: Sequence[dict], ids: Sequence[int], k: int) -> list[dict]:
    """The first ``k`` dialogues of the sample that are NOT summarized (so no answer leaks)."""
    return [d for d in sample if d["id"] not in ids][:k]


def summary_messages(dialogue: str, examples: Sequence[dict] = ()) -> list[dict]:
    """Chat messages for zero-shot (no examples) or few-shot summarization. Few-shot puts
    each example in as a previous user/assistant turn -- in-context learning (Week 1)."""
    msgs = [{"role": "system", "content": "You are a helpful assistant that writes short, factual summaries."}]
    for ex in examples:
        msgs.append({"role": "user", "content": f"{SUMMARY_INSTRUCTION}\n\n{ex['dialogue']}"})
        msgs.append({"role": "assistant", "content": ex["summary"]})
    msgs.append({"role": "user", "content": f"{SUMMARY_INSTRUCTION}\n\n{dialogue}"})
    return msgs


def generate_summary(lm, dialogue: str, examples: Sequence[dict] = (), max_new_tokens: int = 48) -> Generation:
    """Greedy decoding (deterministic) with the model's chat template, through the one
    generation helper (core.generate); the shared model is only read. Whitespace runs
    (newlines included) become single spaces: a summary is one line in the table. The
    Generation's ``stopped_by`` says whether the summary ended or was cut off by its budget."""
    prompt = lm.tokenizer.apply_chat_template(summary_messages(dialogue, examples), tokenize=False,
                                              add_generation_prompt=True)
    # no wall-clock cap here: summarize_and_score bounds the whole run between summaries
    g = generate(lm, prompt, int(max_new_tokens), None)
    return dataclasses.replace(g, completion=" ".join(g.completion.split()))


def summarize_and_score(lm, items: Sequence[dict], shots: Sequence[dict], max_new_tokens: int = 48,
                        progress: Optional[Callable[[int, int, str], None]] = None,
                        max_seconds: float = 240.0, should_stop: Optional[Callable[[], bool]] = None) -> list[dict]:
    """For each dialogue: zero-shot and few-shot summaries, each scored against the
    reference with ROUGE-1/2/L and BLEU, and ``"<mode> cut off"``: whether the summary hit its
    max_new_tokens before it ended. Bounded by max_new_tokens and max_seconds; a dialogue
    not started in time (or once ``should_stop()`` says so: nobody waits for it any more) is
    returned as ``{"id", "dialogue", "reference", "skipped": True}``."""
    out = []
    total = 2 * len(items)
    done = 0
    t0 = time.time()
    for it in items:
        row = {"id": it["id"], "dialogue": it["dialogue"], "reference": it["summary"]}
        if time.time() - t0 > max_seconds or (should_stop is not None and should_stop()):
            # Out of time: skip the WHOLE dialogue (both prompts), so that a missing summary
            # is never scored 0 and never counted against one of the two prompts.
            out.append({**row, "skipped": True})
            done += 2
            if progress:
                progress(done, total, f"dialogue {it['id']} skipped")
            continue
        for mode, ex in (("zero-shot", ()), ("few-shot", shots)):
            g = generate_summary(lm, it["dialogue"], ex, max_new_tokens)
            row[mode], row[f"{mode} cut off"] = g.completion, budget.was_cut_off(g.stopped_by)
            rb = rouge_breakdown(row[mode], it["summary"])
            row[f"{mode} rouge1"] = rb["rouge1"].fmeasure
            row[f"{mode} rouge2"] = rb["rouge2"].fmeasure
            row[f"{mode} rougeL"] = rb["rougeL"].fmeasure
            row[f"{mode} bleu"] = bleu_breakdown(row[mode], [it["summary"]]).score
            done += 1
            if progress:
                progress(done, total, f"{mode}: dialogue {it['id']}")
        out.append(row)
    return out


MODES = ("zero-shot", "few-shot")
METRICS = ("rouge1", "rouge2", "rougeL", "bleu")     # ROUGE F1 in 0..1, BLEU in 0..100


def compare_modes(rows: Sequence[dict]) -> dict:
    """Zero-shot vs few-shot over the dialogues summarize_and_score returned, what the page's
    bar chart and verdict show. Skipped dialogues are left out (never scored 0).
    Returns {"n": dialogues compared, "mean": {mode: {metric: mean over dialogues}},
    "few_shot_better": how many dialogues have a strictly higher few-shot ROUGE-L,
    "budget": {mode: lessons.core.budget.summary of its summaries' cut-offs}}."""
    rows = [r for r in rows if not r.get("skipped")]
    n = len(rows)
    mean = {mode: {m: (sum(r[f"{mode} {m}"] for r in rows) / n if n else 0.0) for m in METRICS}
            for mode in MODES}
    better = sum(r["few-shot rougeL"] > r["zero-shot rougeL"] for r in rows)
    cut = {mode: budget.summary(r.get(f"{mode} cut off", False) for r in rows) for mode in MODES}
    return {"n": n, "mean": mean, "few_shot_better": int(better), "budget": cut}
