"""Rerun latency of the real attention-maps page (pages/w1_attention_maps.py).

attention_rerun_ms_p50: median wall time of one AppTest rerun after moving the layer slider,
for a 64-token input, with the models and the forward pass already cached (the page does not
run the model again when only the layer/head changes). Target: <= 300 ms on a laptop CPU.
Measured for SmolLM2 (30 layers x 9 heads) and MiniLM (6 x 12).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GENAI_LAB_DEVICE", "cpu")

from bench._timing import p50_ms  # noqa: E402

TEXT = ("Attention lets every token decide how much to borrow from every other token, and "
        "a decoder may only look back at the tokens that came before it, never ahead. " * 3)


def _page(model: str):
    from tests.app.helpers import open_page
    from lessons.transformer import attention

    at = open_page("pages/w1_attention_maps.py", timeout=300)
    at.radio(key="attention-maps.model").set_value(model).run()
    at.text_area(key="attention-maps.text").input(TEXT).run()
    n = next(m.value for m in at.metric if m.label == "tokens")
    assert int(n) == attention.MAX_TOKENS, n
    return at


def _timed_layer_changes(at, n_layers: int) -> tuple[float, float]:
    """(wall p50, process-CPU p50) in ms. The CPU figure counts only the work this process
    did (all its threads), not time spent waiting for a core: on a shared, overloaded
    machine it is the better estimate of the wall time on an idle laptop."""
    import statistics
    import time

    state = {"layer": 0}
    cpu = []

    def step():
        state["layer"] = (state["layer"] + 7) % n_layers
        c = time.process_time()
        at.slider(key="attention-maps.layer").set_value(state["layer"]).run()
        cpu.append((time.process_time() - c) * 1000)

    wall = p50_ms(step, repeats=7, warmup=2)
    return wall, round(statistics.median(cpu[2:]), 1)


def measure() -> dict:
    from ui import transformer

    from tests.app.helpers import open_page

    home = open_page("pages/home.py", timeout=300)
    baseline = p50_ms(lambda: home.run(), repeats=5, warmup=1)
    at = _page(transformer.SMOLLM2)
    smol, smol_cpu = _timed_layer_changes(at, 30)
    at = _page(transformer.MINILM)
    mini, mini_cpu = _timed_layer_changes(at, 6)
    return {
        "attention_rerun_ms_p50": smol,              # SmolLM2, 64 tokens, layer change (wall)
        "attention_rerun_cpu_ms_p50": smol_cpu,      # same, CPU time of this process
        "attention_rerun_ms_p50_minilm": mini,       # MiniLM, 64 tokens, layer change (wall)
        "attention_rerun_cpu_ms_p50_minilm": mini_cpu,
        "attention_rerun_tokens": 64,
        "attention_rerun_baseline_home_ms_p50": baseline,  # same AppTest rerun of Home, for scale
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
