"""Interaction-latency benchmarks. Prints ONE JSON object merged from every
`bench/interaction_*.py` module, each exposing `measure() -> dict` of figures.

Run: `.venv/bin/python bench/interaction.py [name ...]` (names filter the modules,
e.g. `transformer`). Targets are documented next to each figure; nothing here asserts.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str]) -> dict:
    figures: dict = {}
    for path in sorted(HERE.glob("interaction_*.py")):
        name = path.stem.removeprefix("interaction_")
        if argv and name not in argv:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        t0 = time.time()
        try:
            figures.update(mod.measure())
        except Exception as exc:  # report, keep going: one broken bench must not hide the rest
            figures[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
        figures[f"{name}_bench_wall_s"] = round(time.time() - t0, 1)
    return figures


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if a != "--save"]
    figures = main(names)
    print(json.dumps(figures, indent=1))
    if "--save" in sys.argv[1:]:      # assets/measured/interaction.json: the README's benchmark table
        from bench._timing import save

        save("interaction", "+".join(names) or "all", figures, "bench/interaction.py --save")
