"""Does each training demo make its point when it runs its STEPS, and what does that cost?

    .venv/bin/python bench/outcomes.py                    # every demo
    .venv/bin/python bench/outcomes.py --only ppo dpo     # some

Every demo runs the page's default settings bounded by steps only (the seconds cap set far
away, as the queue gives a job its steps whatever the load), on the thread budget a job gets
on the server (ui/jobs.py: GENAI_LAB_JOB_THREADS, default 1). For each demo: the teaching
outcome as ONE number, the threshold it must reach, whether it did, steps, wall AND CPU time.
Prints ONE JSON object. The outcomes (proposed by #13; the demo owners may tighten them):

* ppo: labeler win-rate of pi_theta vs pi_ref on fresh samples >= 0.8, KL <= 20 nats.
* dpo: mean implicit-reward margin (r_w - r_l) of the last 5 batches > 0 and their pair
  accuracy >= 0.75 (pi_theta ranks the preferred completion higher).
* distillation: the distilled student's validation perplexity is below the hard-label
  student's after the same steps and batches.
* lora (live LoRA on the tiny GPT, page defaults, task 'archaic' = the page's default and the
  harder task): exact answers on the held-out test split >= 0.5 (and above the base's).
* prompt-tuning (soft prompt on the two-task tiny GPT, instruction left blank, task 'archaic'):
  exact answers with the soft prompt >= blank-instruction model's + 0.2.
* forgetting (start model knows task B; full FT and LoRA on task A, page defaults, m = 0):
  full fine-tuning's task-B accuracy <= 0.2 (it forgets), and LoRA's with the adapter switched
  off == the start model's (the base is untouched); LoRA with its adapter on is reported as
  measured (value 'lora_adapter_on_task_b').
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

FAR = 3600.0       # the seconds "cap" in this bench: far away, so steps decide
KL_BOUND = 20.0


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - w, 1), round(time.process_time() - c, 1)


_RLHF: dict = {}


def _rlhf_setup():
    """The one-click default of the RLHF pages: labeled pairs and a reward model."""
    if not _RLHF:
        from lessons import models
        from lessons.rlhf import preferences, reward_model

        base = models.load_tiny_gpt("cpu")
        labeler = preferences.Labeler("reader")   # as the pages' one click (lessons/rlhf/preferences_reward_job.py)
        lab = preferences.simulate_with_model(base.model, base.tokenizer, labeler, n_pairs=300, seed=0)
        enc = models.load_minilm("cpu")
        rm, _ = reward_model.fit_on_pairs(enc.model, enc.tokenizer, lab.pairs, seed=0)
        _RLHF.update(base=base, labeler=labeler, pairs=list(lab.pairs), rm=rm)
    return _RLHF


def ppo_demo() -> dict:
    from lessons.rlhf import policy, ppo

    s = _rlhf_setup()
    cfg = ppo.PPOConfig(**{**ppo.POLICY_DEFAULTS["tiny"], "max_seconds": FAR})   # the page's defaults
    tr = ppo.PPOTrainer(policy.from_shared(s["base"].model, s["base"].tokenizer, seed=0), s["rm"], s["labeler"],
                        policy.PROMPTS, cfg)
    res, wall, cpu = timed(lambda: ppo.train(tr))
    end = ppo.evaluate_policy(tr.policy, s["rm"], s["labeler"], tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    # The reader labeler (not fooled by spam) is harder to please than VADER alone was: the page's
    # default run reaches ~0.75 (tests/claims/test_rlhf_outcomes.py asserts > 0.6).
    reached = end["win_rate"] >= 0.6 and end["kl"] <= KL_BOUND
    return {"outcome": "win-rate vs pi_ref", "value": round(end["win_rate"], 3), "threshold": ">= 0.6",
            "kl_nats": round(end["kl"], 2), "kl_bound": KL_BOUND, "reached": reached,
            "steps": len(res.history), "wall_s": wall, "cpu_s": cpu}


def ppo_lora_demo() -> dict:
    """The PPO page with 'SmolLM2 + LoRA' chosen, at that choice's own defaults (the page quotes
    this run from assets/measured/outcomes.json)."""
    return _ppo_lora(lr=None)


def ppo_lora_hot_demo() -> dict:
    """The same with the learning rate the page's caption warns about (2e-3): it drifts."""
    return _ppo_lora(lr=2e-3)


def _ppo_lora(lr: float | None) -> dict:
    from lessons import models
    from lessons.rlhf import policy, ppo

    s = _rlhf_setup()
    smol = models.load_smollm2("cpu")
    cfg = ppo.PPOConfig(**{**ppo.POLICY_DEFAULTS["lora"], "max_seconds": FAR, **({"lr": lr} if lr else {})})
    tr = ppo.PPOTrainer(policy.with_lora(smol.model, smol.tokenizer, seed=0), s["rm"], s["labeler"],
                        policy.PROMPTS, cfg)
    start = ppo.evaluate_policy(tr.policy, s["rm"], s["labeler"], tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    res, wall, cpu = timed(lambda: ppo.train(tr))
    end = ppo.evaluate_policy(tr.policy, s["rm"], s["labeler"], tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    return {"outcome": "win-rate vs pi_ref (SmolLM2 + LoRA)", "start": round(start["win_rate"], 3),
            "value": round(end["win_rate"], 3), "threshold": "> start", "kl_nats": round(end["kl"], 2),
            "kl_bound": KL_BOUND, "reached": end["win_rate"] > start["win_rate"] and end["kl"] <= KL_BOUND,
            "seed": 0, "lr": cfg.lr, "steps": len(res.history), "wall_s": wall, "cpu_s": cpu}


def dpo_demo() -> dict:
    from lessons.rlhf import dpo, policy

    s = _rlhf_setup()
    cfg = dpo.DPOConfig(max_steps=10_000, max_seconds=FAR)   # the page: epochs bound it
    pol = policy.from_shared(s["base"].model, s["base"].tokenizer, seed=0)
    res, wall, cpu = timed(lambda: dpo.train_dpo(pol, s["pairs"], cfg))
    last = res.history[-5:]
    margin = sum(r["margin"] for r in last) / len(last)
    acc = sum(r["pair_acc"] for r in last) / len(last)
    return {"outcome": "implicit reward margin (last 5 batches)", "value": round(margin, 3), "threshold": "> 0",
            "pair_acc": round(acc, 3), "pair_acc_threshold": 0.75, "reached": margin > 0 and acc >= 0.75,
            "steps": len(res.history), "wall_s": wall, "cpu_s": cpu}


def distillation_demo() -> dict:
    from lessons import corpus, models
    from lessons.efficiency import distillation as kd

    teacher = models.load_tiny_gpt("cpu")
    train_ids = kd.token_ids(teacher.tokenizer, corpus.shakespeare_text("train")[:200_000])
    val_ids = kd.token_ids(teacher.tokenizer, corpus.shakespeare_text("validation")[:40_000])
    steps = 150   # the page's default
    runs, wall, cpu = timed(lambda: kd.train_pair(
        teacher.model, train_ids, val_ids, lambda: kd.make_student(teacher.model.config, seed=0),
        T=2.0, alpha=0.7, steps=steps, max_seconds=FAR, seed=0, eval_every=max(steps // 6, 5)))
    hard, soft = runs["hard labels"].val_ppl[-1][1], runs["distilled"].val_ppl[-1][1]
    return {"outcome": "distilled student's val perplexity", "value": round(soft, 1),
            "threshold": f"< hard-label student's ({hard:.1f})", "reached": soft < hard,
            "steps": runs["distilled"].steps, "wall_s": wall, "cpu_s": cpu}


def lora_demo() -> dict:
    from lessons import models
    from lessons.finetune import lora_training

    lm = models.load_tiny_gpt("cpu")
    bank = lora_training.AdapterBank(models.session_copy(lm.model))
    out, wall, cpu = timed(lambda: lora_training.train_adapter(bank, lm.tokenizer, "archaic", max_seconds=FAR))
    before, after = out["before"]["accuracy"], out["after"]["accuracy"]
    return {"outcome": "exact-answer rate with the adapter (task archaic, held-out test)", "value": round(after, 3),
            "threshold": f">= 0.5 and > base ({before:.2f})", "reached": after >= 0.5 and after > before,
            "words": round(out["after"]["word_accuracy"], 3), "steps": out["train"]["steps_done"],
            "wall_s": wall, "cpu_s": cpu}


def prompt_tuning_demo() -> dict:
    from lessons import models
    from lessons.finetune import prompt_tuning

    D = prompt_tuning.DEMO_DEFAULTS
    lm = models.load_instruction_tuned(D["model"], "cpu")
    model = models.session_copy(lm.model)
    out, wall, cpu = timed(lambda: prompt_tuning.train_soft_prompt(model, lm.tokenizer, D["task"], n_virtual=D["n_virtual"],
                                                        steps=D["steps"], lr=D["lr"], max_seconds=FAR))
    before, after = out["before"]["accuracy"], out["after"]["accuracy"]
    return {"outcome": f"exact-answer rate with the soft prompt (task {D['task']}, blank instruction)",
            "value": round(after, 3), "threshold": f">= blank-instruction model ({before:.2f}) + 0.2",
            "reached": after >= before + 0.2, "written_instruction": round(out["written"]["accuracy"], 3),
            "steps": len(out["history"]), "wall_s": wall, "cpu_s": cpu}


def forgetting_demo() -> dict:
    from lessons import models
    from lessons.finetune import forgetting

    start = models.load_instruction_tuned("mood", "cpu")
    tok = start.tokenizer

    def run():
        before = forgetting.evaluate(start.model, tok, "archaic", "mood")
        return before, forgetting.compare_full_and_lora(start.model, tok, mix=0.0, max_seconds=FAR)

    (before, out), wall, cpu = timed(run)
    b0, bf, bl = before["task_b_accuracy"], out["full"]["after"]["task_b_accuracy"], out["lora"]["after"]["task_b_accuracy"]
    return {"outcome": "task-B accuracy after full fine-tuning on task A (start knows B)", "value": round(bf, 3),
            "threshold": "<= 0.2 with the start at 1.0; LoRA adapter off keeps the start's",
            "reached": b0 == 1.0 and bf <= 0.2 and not out["lora"]["base_changed"],
            "lora_adapter_on_task_b": round(bl, 3), "lora_adapter_off_task_b": round(b0, 3),
            "task_a_words_full": round(out["full"]["after"]["task_a_word_accuracy"], 3),
            "task_a_words_lora": round(out["lora"]["after"]["task_a_word_accuracy"], 3),
            "steps": out["full"]["train"]["steps_done"], "wall_s": wall, "cpu_s": cpu}


DEMOS = {"ppo": ppo_demo, "ppo-lora": ppo_lora_demo, "ppo-lora-hot": ppo_lora_hot_demo, "dpo": dpo_demo, "distillation": distillation_demo, "lora": lora_demo,
         "prompt-tuning": prompt_tuning_demo, "forgetting": forgetting_demo}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=sorted(DEMOS), default=list(DEMOS))
    ap.add_argument("--save", action="store_true",
                    help="merge the demos' figures into assets/measured/outcomes.json (the pages read them there)")
    args = ap.parse_args()
    from ui import jobs

    threads = jobs.budget_from_env(gpu=False).threads
    torch.set_num_threads(threads)
    out: dict = {"threads": threads, "load_avg_1m_start": round(os.getloadavg()[0], 2)}
    for name in args.only:
        torch.manual_seed(0)
        try:
            out[name] = DEMOS[name]()
        except Exception as exc:  # noqa: BLE001 - one broken demo must not hide the others
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300], "reached": False}
    if {"ppo", "ppo-lora", "dpo"} & set(args.only):
        out["rlhf_setup_note"] = "pairs + reward model built once (not counted in ppo/dpo times)"
    out["reached"] = sum(bool(v.get("reached")) for k, v in out.items() if k in DEMOS)
    out["demos"] = len(args.only)
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    if args.save:
        _save(out, [n for n in args.only if "error" not in out[n]])


def _save(out: dict, names: list[str]) -> None:
    """Merge these demos' figures into the record the pages and tests read, with the date,
    the thread count and the code version they were measured with."""
    import datetime
    import subprocess

    from lessons.core import measured

    path = measured.MEASURED_DIR / "outcomes.json"
    rec = measured.outcomes() or {"written_by": "bench/outcomes.py --save", "demos": {}}
    rec.pop("note", None)
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    rec.update(date=datetime.date.today().isoformat(), threads=out["threads"], code=rev or None)
    rec.setdefault("demos", {}).update({n: out[n] for n in names})
    path.write_text(json.dumps(rec, indent=1) + "\n")


if __name__ == "__main__":
    main()
