"""The shared core under every lesson. It imports no concept module; every concept module
may import it.

loop.py        run_loop(step, ...) -> Run: THE bounded training loop (steps, seconds, stop, history)
generate.py    THE generation helpers: generate/generate_with (transformers), greedy_batch,
               sample_tokens (KV-cache sampling of a left-padded batch: RLHF rollouts), pad_id
perplexity.py  THE perplexity and one validation slice per corpus
tensors.py     evaluating(), causal_mask, entropy_bits, left_pad, param_count
timing.py      ms_per_forward: median ms per forward pass (interleaved for comparisons)
pieces.py      readable token labels
safe_eval.py   a safe evaluator for untrusted arithmetic (PAL programs, the ReAct calculator)
rng.py         seeded(seed): global-RNG blocks (model init, HF generate) reproducible under concurrency
"""
