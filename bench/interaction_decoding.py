"""Interaction latency of the Week 1 sampling and prompting pages.

sampling_rerun_ms_p50: median wall time of one AppTest rerun of pages/w1_sampling.py after a
temperature / top-k / top-p change, with SmolLM2 loaded and the prompt's logits cached
(ui.decoding.next_logits is cached per (model, prompt), so only the filtering, sampling and
figures rerun). Target: <= 150 ms on a laptop CPU.

next_token_new_prompt_ms_p50: median wall time of one rerun after typing a NEW prompt (never
seen before: the model runs a forward pass on it). Target: <= 1000 ms on a laptop CPU.

icl_measure_s: wall time of the zero/one/4-shot accuracy measurement (3 x 30 items, SmolLM2),
for the "it must run in a few seconds" goal. page_baseline_ms_p50: a Home rerun, for scale.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GENAI_LAB_DEVICE", "cpu")

from bench._timing import p50_ms  # noqa: E402


def measure() -> dict:
    from lessons import models
    from lessons.prompting import in_context_learning
    from tests.app.helpers import open_page

    home = open_page("pages/home.py", timeout=600)
    baseline = p50_ms(lambda: home.run(), repeats=25, warmup=3)   # a rerun is short: 5 reruns gave an unstable median

    at = open_page("pages/w1_sampling.py", timeout=600)
    settings = [("sampling.temperature", "slider", 0.7), ("sampling.top_k", "number_input", 40), ("sampling.top_p", "slider", 0.9),
                ("sampling.temperature", "slider", 1.3), ("sampling.top_k", "number_input", 0), ("sampling.top_p", "slider", 1.0)]
    state = {"i": 0}

    def change_setting():
        key, kind, value = settings[state["i"] % len(settings)]
        state["i"] += 1
        getattr(at, kind)(key=key).set_value(value).run()

    rerun = p50_ms(change_setting, repeats=9, warmup=2)

    words = ["river", "castle", "robot", "garden", "violin", "planet", "bakery", "harbour", "dragon", "teacher"]
    state["j"] = 0

    def new_prompt():
        w = words[state["j"] % len(words)]
        state["j"] += 1
        at.text_input(key="sampling.prompt_0").set_value(f"The {w} number {state['j']} was").run()

    new = p50_ms(new_prompt, repeats=7, warmup=1)

    lm = models.load_smollm2("cpu")
    task = in_context_learning.load_task("sentiment")
    in_context_learning.compare_shots(lm.model, lm.tokenizer, task, list(task.examples[:1]), shots=(1,))  # warm-up
    t0 = time.perf_counter()
    in_context_learning.compare_shots(lm.model, lm.tokenizer, task, list(task.examples))
    icl = time.perf_counter() - t0
    return {
        "sampling_rerun_ms_p50": rerun,                  # target <= 150 ms (CPU)
        "next_token_new_prompt_ms_p50": new,             # target <= 1000 ms (CPU)
        "icl_measure_s": round(icl, 2),                  # zero/one/4-shot on 30 items
        "sampling_page_baseline_ms_p50": baseline,       # Home rerun, for scale
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
