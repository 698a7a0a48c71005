"""The shared core under every lesson. It imports no concept module; every concept module
may import it.

safe_eval.py   a safe evaluator for untrusted arithmetic (PAL programs, the ReAct calculator)
rng.py         seeded(seed): global-RNG blocks (model init, HF generate) reproducible under concurrency
"""
