"""Records the RLHF pages' runs (lessons/rlhf/recorded.RUNS) into assets/recorded/.

    .venv/bin/python scripts/record_runs.py            # record what is missing or stale
    .venv/bin/python scripts/record_runs.py --check    # list what is missing or stale; exit 1 if any
    .venv/bin/python scripts/record_runs.py --force    # record everything again

A record is keyed by the run's settings, the models' fingerprints, torch's version and the sha256
of the code the run executes, so after an edit of lessons/rlhf/ (or the core it uses) every record
is stale: run this again (the runs train one at a time, each on one torch thread, as the pages'
jobs do; each record keeps its own wall and CPU seconds, and the summary line prints the total). Records of runs no longer in RUNS are deleted, so the
folder holds exactly the current runs. Prints one JSON line per run and a summary.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only list the missing or stale runs")
    ap.add_argument("--force", action="store_true", help="record every run again")
    args = ap.parse_args(argv)

    from lessons import models
    from lessons.core import records
    from lessons.rlhf import recorded

    store = records.FileStore()
    tiny = recorded.Lab(models.load_tiny_gpt("cpu"), models.load_minilm("cpu"))
    labs = {"tiny": tiny}
    if any(s.get("policy") == "lora" for _, s in recorded.RUNS):
        labs["lora"] = recorded.Lab(tiny.base, tiny.encoder, models.load_smollm2("cpu"))
    wanted, todo = {}, []
    for kind, settings in recorded.RUNS:
        lab = labs[settings.get("policy", "tiny")]
        key = recorded.key(lab, kind, settings)[2]
        wanted.setdefault(kind, set()).add(key)
        if args.force or store.get(kind, key) is None:
            todo.append((lab, kind, settings))
    stale = [store.path(k, key) for k in recorded.RECIPES for key in store.keys(k) if key not in wanted.get(k, set())]
    if args.check:
        for _, kind, settings in todo:
            print(json.dumps({"missing": kind, "settings": settings}))
        for p in stale:
            print(json.dumps({"stale": str(p.relative_to(ROOT))}))
        return 1 if todo or stale else 0
    total_w = total_c = 0.0
    for lab, kind, settings in todo:
        rec = recorded.run(lab, kind, settings)
        path = store.put(rec)
        total_w, total_c = total_w + rec.wall_s, total_c + rec.cpu_s
        print(json.dumps({"recorded": str(path.relative_to(ROOT)), "kind": kind, "wall_s": rec.wall_s,
                          "cpu_s": rec.cpu_s}), flush=True)
    for p in stale:
        p.unlink()
    print(json.dumps({"runs": len(recorded.RUNS), "recorded": len(todo), "deleted_stale": len(stale),
                      "wall_s": round(total_w, 1), "cpu_s": round(total_c, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
