"""Week 2 evaluation latencies (printed by bench/interaction.py; nothing asserts).

* rouge_bleu_300_words_ms  -- target <= 100 ms: one widget change on the ROUGE/BLEU page
  recomputes rouge_breakdown (ROUGE-1/2/L/Lsum with the LCS table) + bleu_breakdown + chrF
  for a 300-word candidate against a 300-word reference (10 lines, so rougeLsum has work).
* corpus_1000_rows_s       -- target <= 10 s: score_corpus on 1,000 dialogue-summary rows
  (per-row ROUGE/BLEU/chrF plus corpus BLEU/chrF), as the corpus page does after an upload.
* rouge_bleu_300_words_cpu_ms -- the same, in process CPU time: on a shared, overloaded machine
  wall time mostly measures waiting for a core; CPU time is close to what an idle laptop sees.
* rouge_bleu_page_rerun_ms -- informational: AppTest rerun of the whole page after editing the
  candidate (includes the library cross-checks the page shows and Streamlit overhead).
"""
from __future__ import annotations

import random
import time

from bench._timing import p50_ms
from lessons.evaluation import bleu, corpus_scoring, rouge


def _text(rng: random.Random, words: list[str], n: int, lines: int = 10) -> str:
    toks = [rng.choice(words) for _ in range(n)]
    step = n // lines
    return "\n".join(" ".join(toks[i:i + step]) + "." for i in range(0, n, step))


def measure() -> dict:
    rng = random.Random(0)
    sample = corpus_scoring.load_sample()
    vocab = sorted({w for d in sample for w in (d["summary"] + " " + d["dialogue"]).split()})
    cand, ref = _text(rng, vocab, 300), _text(rng, vocab, 300)

    def one():
        rouge.rouge_breakdown(cand, ref)
        bleu.bleu_breakdown(cand, [ref])
        bleu.chrf(cand, [ref])

    out = {"rouge_bleu_300_words_ms": p50_ms(one, repeats=7)}
    cpu = []
    for _ in range(7):
        t = time.process_time()
        one()
        cpu.append((time.process_time() - t) * 1000)
    out["rouge_bleu_300_words_cpu_ms"] = round(sorted(cpu)[3], 1)

    cands = [sample[i % len(sample)]["candidate"] + f" {i}" for i in range(1000)]
    refs = [sample[i % len(sample)]["summary"] for i in range(1000)]
    bleu.tokenize_13a.cache_clear()
    t, c = time.perf_counter(), time.process_time()
    corpus_scoring.score_corpus(cands, refs)
    out["corpus_1000_rows_s"] = round(time.perf_counter() - t, 2)
    out["corpus_1000_rows_cpu_s"] = round(time.process_time() - c, 2)

    try:
        from tests.app.helpers import open_page

        at = open_page("pages/w2_rouge_bleu.py", timeout=120)
        box = at.text_area(key="rouge-bleu.candidate")
        texts = [cand.replace("\n", " "), ref.replace("\n", " ")[:1990]]
        k = [0]

        def rerun():
            k[0] += 1
            at.text_area(key="rouge-bleu.candidate").input(texts[k[0] % 2][:1990]).run()

        out["rouge_bleu_page_rerun_ms"] = p50_ms(rerun, repeats=5)
        del box
    except Exception as exc:  # the page bench is informational
        out["rouge_bleu_page_rerun_error"] = f"{type(exc).__name__}: {exc}"
    return out
