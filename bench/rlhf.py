"""RLHF benchmark: does the default PPO run really train, and how fast?

    .venv/bin/python bench/rlhf.py              # 2 torch threads (the 2-core laptop target)
    .venv/bin/python bench/rlhf.py --threads 0  # torch's default thread count

Prints ONE JSON object. The app's defaults are used throughout: the reader labeler (positive
lines of language, lessons/rlhf/preferences.py) labels 300 pairs of tiny-GPT completions, the
reward model trains on them, then PPO runs with the PPO page's default settings
(lessons.rlhf.ppo.PPOConfig, whose defaults are the page's POLICY_DEFAULTS["tiny"]) and again with beta = 0
(the reward-hacking page's 60 steps).

* start_score / end_score: the labeler's win-rate of pi_theta's completions against pi_ref's
  completions of the same prompts (ties count 1/2), on fresh samples before and after
  training (lessons.rlhf.ppo.evaluate_policy).
* steps_to_target / seconds_to_target: first PPO step where the running mean (3 steps) of
  the training batches' win-rate reaches 0.8, and the training time until then.
* final_kl: KL(pi_theta || pi_ref) per completion (nats) on the final evaluation samples.
  Target: end_score >= 0.8 within 60 s with final_kl <= KL_BOUND.
* beta0_*: the same figures for beta = 0, plus diversity and perplexity under pi_ref.
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

KL_BOUND = 20.0  # nats per completion: the bound we state for the default (beta > 0) run


def run_ppo(base, rm, labeler, seed: int, **overrides) -> dict:
    from lessons.rlhf import policy, ppo

    cfg = ppo.PPOConfig(seed=seed, **overrides)   # the PPO page's defaults unless overridden
    tr = ppo.PPOTrainer(policy.from_shared(base.model, base.tokenizer, seed=seed), rm, labeler, policy.PROMPTS, cfg)
    start = ppo.evaluate_policy(tr.policy, rm, labeler, tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    cpu0 = time.process_time()
    res = ppo.train(tr)
    cpu = time.process_time() - cpu0
    end = ppo.evaluate_policy(tr.policy, rm, labeler, tr.ref_completions, max_new_tokens=cfg.max_new_tokens)
    return {
        "start_score": round(start["win_rate"], 3), "end_score": round(end["win_rate"], 3),
        "steps_to_target": res.steps_to_target,
        "seconds_to_target": None if res.seconds_to_target is None else round(res.seconds_to_target, 1),
        "final_kl": round(end["kl"], 2), "steps": len(res.history), "seconds": round(res.seconds, 1),
        "stopped": res.stopped.value, "cpu_seconds": round(cpu, 1),
        "seconds_per_step": round(res.seconds / max(len(res.history), 1), 2), "start_reward": round(start["reward"], 2), "end_reward": round(end["reward"], 2),
        "start_distinct_2": round(start["distinct_2"], 3), "end_distinct_2": round(end["distinct_2"], 3),
        "start_ppl_ref": round(start["ppl_ref"], 1), "end_ppl_ref": round(end["ppl_ref"], 1),
        "end_samples": [p + c for p, c in end["samples"][:3]],
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model-dir", default="", help="another tiny-GPT folder (default: assets/tiny_gpt)")
    ap.add_argument("--beta0-steps", type=int, default=60, help="steps for the beta = 0 run (the hacking page's default)")
    ap.add_argument("--skip-beta0", action="store_true")
    ap.add_argument("--save", action="store_true", help="also merge the figures into assets/measured/rlhf.json")
    ap.add_argument("--max-seconds", type=float, default=0.0,
                    help="override the 60 s limit (on a loaded machine, to see how many steps the target needs)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from lessons import models
    from lessons.rlhf import ppo, preferences, reward_model

    if args.model_dir:
        from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

        tok = PreTrainedTokenizerFast.from_pretrained(args.model_dir)
        base = models.LoadedModel("tiny", AutoModelForCausalLM.from_pretrained(args.model_dir).eval(), tok)
    else:
        base = models.load_tiny_gpt("cpu")
    out: dict = {"threads": torch.get_num_threads(), "kl_bound": KL_BOUND, "target_score": 0.8,
                 "target_seconds": 60, **{f"default_{k}": getattr(ppo.PPOConfig(), k) for k in ("beta", "lr", "steps", "max_seconds", "batch_size", "max_new_tokens", "ppo_epochs")}}
    t = time.time()
    labeler = preferences.Labeler("reader")   # the app default (the pages' one click: lessons/rlhf/preferences_reward_job.py)
    lab = preferences.simulate_with_model(base.model, base.tokenizer, labeler, n_pairs=300, seed=args.seed)
    out["labeling_seconds"] = round(time.time() - t, 1)
    out["pairs"] = len(lab.pairs)
    t = time.time()
    train, test = preferences.split_pairs(lab.pairs, 0.2, args.seed)
    enc = models.load_minilm("cpu")
    rm = reward_model.RewardModel(enc.model, enc.tokenizer, seed=args.seed)
    r = reward_model.train_reward_model(rm, train, test)
    out["reward_model_seconds"] = round(time.time() - t, 1)
    out["reward_model_heldout_accuracy"] = round(r.test_acc, 3)

    main_run = run_ppo(base, rm, labeler, args.seed, **({"max_seconds": args.max_seconds} if args.max_seconds else {}))
    out.update(main_run)
    out["meets_target"] = bool(main_run["end_score"] >= 0.8 and main_run["seconds_to_target"] is not None
                               and main_run["seconds_to_target"] <= 60 and main_run["final_kl"] <= KL_BOUND)
    if not args.skip_beta0:
        b0 = run_ppo(base, rm, labeler, args.seed, beta=0.0, steps=args.beta0_steps, max_seconds=180.0)
        out.update({f"beta0_{k}": v for k, v in b0.items()})
    return out


if __name__ == "__main__":
    figures = main()
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    if "--save" in sys.argv[1:]:      # assets/measured/rlhf.json: the README's benchmark table
        from bench._timing import save

        save("rlhf", f"{figures['threads']} threads", figures, "bench/rlhf.py --save")
