"""Where a rerun's time goes: one widget move on Home, sampling, attention-maps, rouge-bleu and lora,
timed (wall and CPU) and profiled inside Streamlit's script thread, where the page runs.

    .venv/bin/python bench/rerun_profile.py [page ...] [--top N]

Each page is opened through app.py (tests/app/helpers.open_page, which shares compiled scripts as
the server does), warmed up, then ``--repeats`` widget moves are timed and as many again run under
cProfile. Prints ONE JSON object: per page the wall and CPU p50 of a rerun (ms, unprofiled), and the
top costs under the profiler as the share of the profiled script time spent in (cumulative) each
function of the app, and in each library (own time, grouped by package). A profile slows Python
code about 2x; the shares, not the milliseconds, are what it tells.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GENAI_LAB_DEVICE", "cpu")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ATTENTION_TEXT = ("Attention lets every token decide how much to borrow from every other token, and "
                  "a decoder may only look back at the tokens that came before it, never ahead. " * 3)


def _cycle(values):
    i = [0]

    def nxt():
        i[0] += 1
        return values[i[0] % len(values)]
    return nxt


def _pages() -> dict:
    """page name -> (page file, setup(at), move(at)): what one learner's widget move is."""
    temp, layer, rank, cand = (_cycle([0.7, 1.3, 0.9, 1.1]), _cycle([3, 10, 17, 24]), _cycle([4, 8, 16, 32]),
                               _cycle(["the cat sat on the mat", "a cat was sitting on the mat today"]))

    def attention_setup(at):
        at.text_area(key="attention-maps.text").input(ATTENTION_TEXT).run()

    return {
        "home": ("pages/home.py", None, lambda at: at.run()),
        "sampling": ("pages/w1_sampling.py", None,
                     lambda at: at.slider(key="sampling.temperature").set_value(temp()).run()),
        "attention-maps": ("pages/w1_attention_maps.py", attention_setup,
                           lambda at: at.slider(key="attention-maps.layer").set_value(layer()).run()),
        "rouge-bleu": ("pages/w2_rouge_bleu.py", None,
                       lambda at: at.text_area(key="rouge-bleu.candidate").input(cand()).run()),
        "lora": ("pages/w2_lora.py", None, lambda at: at.slider(key="lora.r").set_value(rank()).run()),
    }


class ScriptProfiler:
    """cProfile around Streamlit's script runs (they run in their own thread, not the caller's)."""

    def __init__(self) -> None:
        from streamlit.runtime.scriptrunner import script_runner

        self.on, self.prof = False, cProfile.Profile()
        original = script_runner.ScriptRunner._run_script
        me = self

        def run_script(runner, *args, **kwargs):
            if not me.on:
                return original(runner, *args, **kwargs)
            me.prof.enable()
            try:
                return original(runner, *args, **kwargs)
            finally:
                me.prof.disable()
        script_runner.ScriptRunner._run_script = run_script

    def fresh(self) -> None:
        self.prof = cProfile.Profile()


def _where(filename: str) -> str | None:
    """'app' for the project's own code, the package name for a library, None for the rest."""
    path = Path(filename)
    try:
        rel = path.resolve().relative_to(ROOT)
        if rel.parts[0] in ("app.py", "ui", "lessons", "pages", "study"):
            return "app"
    except (ValueError, OSError):
        pass
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    return "python" if filename.startswith(sys.base_prefix) else None


def top_costs(prof: cProfile.Profile, top: int) -> dict:
    stats = pstats.Stats(prof).stats   # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    total = sum(tt for (_, _, tt, _, _) in stats.values()) or 1e-9
    app, libs = [], {}
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in stats.items():
        where = _where(file)
        if where == "app":
            rel = Path(file).resolve().relative_to(ROOT)
            app.append((cumtime, f"{rel}:{line}({name})", ncalls))
        elif where is not None:
            libs[where] = libs.get(where, 0.0) + tottime
    app.sort(reverse=True)
    return {
        "app_cumulative_share": [{"function": f, "share": round(c / total, 3), "calls": n} for c, f, n in app[:top]],
        "own_time_share_by_package": {k: round(v / total, 3) for k, v in
                                      sorted(libs.items(), key=lambda kv: -kv[1])[:top]},
    }


def measure(names: list[str], repeats: int, top: int) -> dict:
    from tests.app.helpers import open_page

    profiler = ScriptProfiler()
    out = {}
    for name, (page, setup, move) in _pages().items():
        if names and name not in names:
            continue
        at = open_page(page, timeout=600)
        if setup:
            setup(at)
        for _ in range(3):
            move(at)
        wall, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            move(at)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        assert not at.exception, [e.value for e in at.exception]
        profiler.fresh()
        profiler.on = True
        for _ in range(repeats):
            move(at)
        profiler.on = False
        out[name] = {"rerun_ms_p50": round(statistics.median(wall), 1), "rerun_cpu_ms_p50": round(statistics.median(cpu), 1),
                     "reruns": repeats, **top_costs(profiler.prof, top)}
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="*", help="home sampling attention-maps rouge-bleu lora (default: all)")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--top", type=int, default=8)
    args = ap.parse_args()
    print(json.dumps({"machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start",
                      **measure(args.pages, args.repeats, args.top)}, indent=1))
