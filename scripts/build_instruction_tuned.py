"""Builds the two instruction-tuned tiny GPTs that the Week 2 demos start from
(assets/instruction_tuned/). Deterministic (fixed seeds, one thread); about 1-2 CPU-minutes.

* ``mood``      - the tiny GPT fully fine-tuned on task B ("Is this line about love or war?")
                  only: the starting model of the forgetting page, so that there is
                  something to forget (it answers task B 100 % right, task A 0 %).
* ``two_tasks`` - the tiny GPT fully fine-tuned on both tasks (archaic with half of every
                  batch from mood): the frozen model of the prompt-tuning page. It has both
                  skills, and love/war is its DEFAULT: the mood examples are shown both with
                  their instruction and with it left blank, so with a blank instruction it
                  answers love/war, also on an archaic input (the written instruction still
                  selects archaic). A trained soft prompt has to take the instruction's place
                  and select the other skill (Lester et al. 2021: prompt tuning elicits what a
                  frozen model can already do).
                  Why the default is trained in: the tiny GPT trained longer (phases 3-4 of
                  assets/tiny_gpt) tells the two tasks apart from the input alone (a modern
                  sentence asks for archaic), so without a default a blank instruction already
                  gave 75 % exact archaic answers and there was nothing for a soft prompt to do.

Weights are stored in float16 (2.7 MB each) and loaded as float32; the script re-scores the
reloaded models and writes the figures to assets/instruction_tuned/metrics.json.
Run: `python scripts/build_instruction_tuned.py` (after assets/tiny_gpt exists).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECIPES = {
    "mood": {"task": "mood", "mix_task": None, "mix": 0.0, "steps": 150, "lr": 3e-4, "seed": 0},
    "two_tasks": {"task": "archaic", "mix_task": "mood", "mix": 0.5, "mix_blank": True, "steps": 400, "lr": 1e-3,
                  "seed": 0},
}


def build(name: str, recipe: dict) -> dict:
    import torch

    from lessons import models
    from lessons.finetune import lora_training, forgetting, instructions, prompt_tuning

    torch.set_num_threads(1)
    lm = models.load_tiny_gpt("cpu")
    model = models.session_copy(lm.model)
    for p in model.parameters():
        p.requires_grad_(True)
    t0, c0 = time.perf_counter(), time.process_time()
    mix_ex = instructions.split(recipe["mix_task"], "train") if recipe["mix_task"] else None
    if mix_ex and recipe.get("mix_blank"):   # the mixed task also without its instruction: the default skill
        mix_ex = mix_ex + prompt_tuning.examples(recipe["mix_task"], "train", blank=True)
    res = lora_training.train(model, lm.tokenizer, instructions.split(recipe["task"], "train"), steps=recipe["steps"],
                         lr=recipe["lr"], seed=recipe["seed"], max_seconds=10 ** 6, mix_examples=mix_ex,
                         mix=recipe["mix"])
    out = models.INSTRUCTION_TUNED_DIR / name
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(out)   # the tokenizer is the tiny GPT's own (assets/tiny_gpt), not copied
    back = models.load_instruction_tuned(name, "cpu")
    ev = forgetting.evaluate(back.model, back.tokenizer, "archaic", "mood")
    return {"recipe": recipe, "steps_done": res.steps_done, "train_wall_s": round(time.perf_counter() - t0, 1),
            "train_cpu_s": round(time.process_time() - c0, 1),
            **{k: round(v, 4) for k, v in ev.items() if not k.endswith("rows")}}


def main() -> None:
    from lessons import models

    figures = {name: build(name, r) for name, r in RECIPES.items()}
    (models.INSTRUCTION_TUNED_DIR / "metrics.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
