"""Speed of the live pretraining widgets (Week 1, pretraining pages). Figures only, no asserts.

Targets on a laptop CPU: a live pretraining step (2 layers x 64, batch 8 x 64) well under
100 ms so 300 steps fit in the page's 60 s bound; a 40-token sample under 300 ms; a
continued-pretraining step of the tiny GPT under 150 ms; a scaling-page rerun under 300 ms.
"""
from __future__ import annotations

import time

import torch


def measure() -> dict:
    from bench._timing import p50_ms
    from lessons import corpus, models
    from lessons.pretraining import domain_adaptation, tiny_gpt

    out: dict = {}
    tiny = models.load_tiny_gpt("cpu")
    tok = tiny.tokenizer
    ids = tiny_gpt.encode(tok, corpus.shakespeare_text("train")[:100_000])
    fresh = tiny_gpt.fresh_model(tiny_gpt.live_config(len(tok), tok.eos_token_id, 2, 64), seed=0)
    t = time.perf_counter()
    log = tiny_gpt.train_causal_lm(fresh, ids, steps=30, batch_size=tiny_gpt.LIVE_BATCH, block=tiny_gpt.LIVE_BLOCK, max_seconds=60)
    out["pretraining_live_step_ms_2x64"] = round(1000 * (time.perf_counter() - t) / len(log.steps), 1)
    out["pretraining_sample_40tok_ms"] = p50_ms(lambda: tiny_gpt.sample(fresh, tok, "\n", 40), repeats=3)
    copy = models.session_copy(tiny.model)
    t = time.perf_counter()
    log = tiny_gpt.train_causal_lm(copy, ids, steps=10, batch_size=8, block=64, max_seconds=60)
    out["continued_pretraining_step_ms_tiny_gpt"] = round(1000 * (time.perf_counter() - t) / len(log.steps), 1)
    text = corpus.shakespeare_text("validation")[:3000]
    out["tiny_gpt_perplexity_1024tok_ms"] = p50_ms(
        lambda: domain_adaptation.text_perplexity(tiny.model, tok, text, block=128, max_tokens=1024), repeats=3)

    from streamlit.testing.v1 import AppTest
    from tests.app.helpers import APP
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/w1_scaling_laws.py").run()
    vals = iter([20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 19.0, 18.0])

    def rerun():
        at.slider(key="scaling-laws.logc").set_value(next(vals)).run()
    out["scaling_page_rerun_ms"] = p50_ms(rerun, repeats=5, warmup=1)
    out["pretraining_bench_threads"] = torch.get_num_threads()
    return out
