"""Records the pages' default runs into assets/recorded/: the RLHF pages' runs
(lessons/rlhf/recorded.RUNS and lessons/rlhf/recorded_pages.RUNS), the live LoRA page's
(lessons/finetune/recorded.RUNS), the forgetting page's (lessons/finetune/recorded_forgetting.RUNS), the
prompt-tuning page's (lessons/finetune/recorded_prompt_tuning.RUNS),
the distillation page's
(lessons/efficiency/recorded.RUNS), the domain-adaptation page's (its table of the shipped domains
and its training runs: lessons/pretraining/recorded.RUNS), the live pretraining page's
(lessons/pretraining/recorded_live.RUNS), the prompting pages' SmolLM2 runs
(the ReAct traces, the in-context-learning measurements and the reasoning page's scores:
lessons/prompting/recorded.RUNS), the model-summaries page's summaries (lessons/evaluation/recorded.RUNS)
and the constitutional-AI page's critiques (lessons/rlhf/recorded_cai.RUNS).

    .venv/bin/python scripts/record_runs.py            # record what is missing or stale
    .venv/bin/python scripts/record_runs.py --check    # list what is missing or stale; exit 1 if any
    .venv/bin/python scripts/record_runs.py --force    # record everything again

A record is keyed by the run's settings, the models' fingerprints, torch's version and the sha256
of the code the run executes, so after an edit of the code a record names (its module's CODE) its records
are stale: run this again (the runs train one at a time, each on one torch thread, as the pages'
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
    from lessons.efficiency import recorded as kd_recorded
    from lessons.evaluation import recorded as summaries_recorded
    from lessons.finetune import recorded as lora_recorded
    from lessons.finetune import recorded_forgetting as forget_recorded
    from lessons.finetune import recorded_prompt_tuning as pt_recorded
    from lessons.pretraining import recorded as domain_recorded
    from lessons.pretraining import recorded_live as pretrain_recorded
    from lessons.prompting import react
    from lessons.prompting import recorded as react_recorded
    from lessons.retrieval import rag
    from lessons.rlhf import recorded as rlhf_recorded
    from lessons.rlhf import recorded_cai
    from lessons.rlhf import recorded_pages as rlhf_pages

    store = records.FileStore()
    base = models.load_tiny_gpt("cpu")
    tiny = rlhf_recorded.Lab(base, models.load_minilm("cpu"))
    rlhf_labs = {"tiny": tiny}
    if any(s.get("policy") == "lora" for _, s in rlhf_recorded.RUNS):
        rlhf_labs["lora"] = rlhf_recorded.Lab(tiny.base, tiny.encoder, models.load_smollm2("cpu"))
    lora_lab = lora_recorded.Lab(base)
    kd_lab = kd_recorded.Lab(base)
    smol = rlhf_labs["lora"].smol if "lora" in rlhf_labs else models.load_smollm2("cpu")
    domain_lab = domain_recorded.Lab(base, smol)
    pretrain_lab = pretrain_recorded.Lab(base)
    forget_lab = forget_recorded.Lab(base, models.load_instruction_tuned("mood", "cpu"))
    pt_lab = pt_recorded.Lab(models.load_instruction_tuned(pt_recorded.prompt_tuning.DEMO_DEFAULTS["model"], "cpu"))
    idx = react_recorded.INDEX
    react_tools = react.make_tools(rag.search_tool(rag.build_index(tiny.encoder, idx["size"], idx["overlap"]),
                                                   tiny.encoder, k=idx["k"]))
    react_lab = react_recorded.Lab(smol, tiny.encoder, react_tools)
    summaries_lab, cai_lab = summaries_recorded.Lab(smol), recorded_cai.Lab(smol)
    # (module, the lab a run's settings need) for every module that records runs
    sources = [(rlhf_recorded, lambda s: rlhf_labs[s.get("policy", "tiny")]), (rlhf_pages, lambda s: tiny),
               (lora_recorded, lambda s: lora_lab), (forget_recorded, lambda s: forget_lab), (pt_recorded, lambda s: pt_lab),
               (domain_recorded, lambda s: domain_lab), (pretrain_recorded, lambda s: pretrain_lab),
               (kd_recorded, lambda s: kd_lab),
               (react_recorded, lambda s: react_lab), (summaries_recorded, lambda s: summaries_lab),
               (recorded_cai, lambda s: cai_lab)]
    wanted, todo, n_runs = {}, [], 0
    for mod, lab_for in sources:
        for kind, settings in mod.RUNS:
            n_runs += 1
            lab = lab_for(settings)
            key = mod.key(lab, kind, settings)[2]
            wanted.setdefault(kind, set()).add(key)
            if args.force or store.get(kind, key) is None:
                todo.append((mod, lab, kind, settings))
    stale = [store.path(k, key) for mod, _ in sources for k in mod.RECIPES for key in store.keys(k)
             if key not in wanted.get(k, set())]
    if args.check:
        for _, _, kind, settings in todo:
            print(json.dumps({"missing": kind, "settings": settings}))
        for p in stale:
            print(json.dumps({"stale": str(p.relative_to(ROOT))}))
        return 1 if todo or stale else 0
    total_w = total_c = 0.0
    for mod, lab, kind, settings in todo:
        rec = mod.run(lab, kind, settings)
        path = store.put(rec)
        total_w, total_c = total_w + rec.wall_s, total_c + rec.cpu_s
        print(json.dumps({"recorded": str(path.relative_to(ROOT)), "kind": kind, "wall_s": rec.wall_s,
                          "cpu_s": rec.cpu_s}), flush=True)
    for p in stale:
        p.unlink()
    print(json.dumps({"runs": n_runs, "recorded": len(todo), "deleted_stale": len(stale),
                      "wall_s": round(total_w, 1), "cpu_s": round(total_c, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
