"""Week 3 applications and optimisation: retrieval latency, RAG/pruning page reruns,
SmolLM2 tokens per second, distillation steps per second.

Targets (laptop CPU): query embedding + top-k search p50 < 50 ms; RAG page rerun after
moving k < 1 s; pruning page rerun after moving the sparsity slider < 2 s; a distillation
demo with the default settings finishes inside its 40 s budget (both students).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench._timing import p50_ms  # noqa: E402


def measure() -> dict:
    from lessons.efficiency import distillation as kd
    from lessons import models
    from lessons.retrieval import rag
    from lessons.core import generate as core_generate

    out: dict = {}
    enc = models.load_minilm("cpu")
    t = time.perf_counter()
    index = rag.build_index(enc, 40, 10)
    out["rag_index_build_ms"] = round((time.perf_counter() - t) * 1000, 1)
    out["rag_chunks"] = len(index.chunks)
    out["rag_retrieve_p50_ms"] = p50_ms(lambda: rag.retrieve(index, enc, "How long is parental leave?", 3))
    out["rag_search_only_p50_us"] = round(1000 * p50_ms(lambda: [index.store.search(index.store.vectors[0], 3)
                                                                  for _ in range(100)], repeats=7) / 100, 1)
    out["rag_hit_rate_at_3"] = rag.hit_rate(index, enc, 3).rate

    llm = models.load_smollm2("cpu")
    g = core_generate.generate(llm, rag.build_rag_prompt(llm.tokenizer, "What is the coffee machine called?",
                                                      rag.retrieve(index, enc, "What is the coffee machine called?", 3)[0]),
                            24, 120)
    out["smollm2_rag_answer_s"] = round(g.seconds, 2)
    out["smollm2_tokens_per_s"] = round(g.n_new_tokens / g.seconds, 1)

    # page reruns (AppTest, models already cached in this process)
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parent.parent / "app.py")
    at = AppTest.from_file(app, default_timeout=600)
    at.run()
    at.switch_page("pages/w3_rag.py").run()
    ks = iter([2, 3, 4, 5, 2, 3, 4, 5, 2, 3])

    def rerun_rag():
        at.slider(key="rag.k").set_value(next(ks))
        at.run()
    out["rag_page_rerun_p50_ms"] = p50_ms(rerun_rag, repeats=5)

    if models.tiny_gpt_available():
        tg = models.load_tiny_gpt("cpu")
        at2 = AppTest.from_file(app, default_timeout=600)
        at2.run()
        at2.switch_page("pages/w3_pruning.py").run()
        sp = iter([0.3, 0.6, 0.8, 0.4, 0.7, 0.2, 0.9, 0.5])

        def rerun_prune():
            at2.slider(key="pruning.sparsity").set_value(next(sp))
            at2.run()
        out["pruning_page_rerun_p50_ms"] = p50_ms(rerun_prune, repeats=5)

        from lessons import corpus
        tr = kd.token_ids(tg.tokenizer, corpus.shakespeare_text("train")[:100_000])
        va = kd.token_ids(tg.tokenizer, corpus.shakespeare_text("validation")[:20_000])
        for mode in ("hard", "soft"):
            st = kd.make_student(tg.model.config, 2, 64, 2)
            r = kd.train_student(st, tg.model, tr, va, mode=mode, steps=20, max_seconds=60, eval_every=100)
            out[f"distill_{mode}_ms_per_step"] = round(r.seconds / r.steps * 1000, 1)
        # the page trains both students in lockstep: one "pair step" = one hard + one soft step
        pair_s = (out["distill_hard_ms_per_step"] + out["distill_soft_ms_per_step"]) / 1000
        # the default demo is bounded by its 150 steps (the seconds cap is a 300 s safety net)
        out["distill_default_demo_s"] = round(150 * pair_s, 1)
    else:
        out["pruning_distill_note"] = "tiny GPT checkpoint missing: skipped"
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
