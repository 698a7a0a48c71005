"""Scaling laws: how loss falls with parameters N and training tokens D, and how to split a
compute budget between them.

Hoffmann et al. 2022 ("Training Compute-Optimal Large Language Models", Chinchilla) fit

    L(N, D) = E + A / N^alpha + B / D^beta

E is the irreducible loss of natural text; A/N^alpha is what a finite model cannot capture;
B/D^beta what finite data cannot teach. Training costs C ~ 6 N D FLOPs (2 for the forward
pass and 4 for the backward pass, per parameter per token). Minimising L under C = 6ND gives
N_opt ~ C^a, D_opt ~ C^b with a ~ b ~ 0.5: grow both together, about 20 tokens per parameter.
Besiroglu et al. 2024 (Epoch AI) re-extracted the paper's data and refit the same form; their
constants (below) also give ~20 tokens/parameter and match the paper's other two approaches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TOKENS_PER_PARAM = 20.0   # the Chinchilla rule of thumb
FLOPS_PER_PARAM_TOKEN = 6.0


@dataclass(frozen=True)
class LossFit:
    name: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str

    def loss(self, N, D):
        """Predicted pretraining loss (nats/token) for N parameters trained on D tokens."""
        N = np.asarray(N, dtype=float)
        D = np.asarray(D, dtype=float)
        return self.E + self.A / N ** self.alpha + self.B / D ** self.beta

    def optimal_split(self, flops: float) -> tuple[float, float]:
        """Exact minimiser of L(N, C/(6N)) for this fit (closed form, from dL/dN = 0):
        N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta))."""
        a, b = self.alpha, self.beta
        G = (a * self.A / (b * self.B)) ** (1.0 / (a + b))
        n = G * (flops / FLOPS_PER_PARAM_TOKEN) ** (b / (a + b))
        return n, flops / (FLOPS_PER_PARAM_TOKEN * n)


CHINCHILLA = LossFit("Chinchilla (Hoffmann et al. 2022)", 1.69, 406.4, 410.7, 0.34, 0.28,
                     "Hoffmann et al. 2022, approach 3")
EPOCH = LossFit("Epoch AI refit (Besiroglu et al. 2024)", 1.8172, 482.01, 2085.43, 0.3478, 0.3658,
                "Besiroglu et al. 2024, 'Chinchilla Scaling: A replication attempt'")
FITS = {"chinchilla": CHINCHILLA, "epoch": EPOCH}


@dataclass(frozen=True)
class Budget:
    flops: float
    params: float
    tokens: float
    tokens_per_param: float
    loss_chinchilla: float
    loss_epoch: float


def compute_optimal(flops: float, tokens_per_param: float = TOKENS_PER_PARAM) -> Budget:
    """Split a FLOP budget C under C = 6 N D and D = k N (k = 20 by default):
    N = sqrt(C / (6 k)), D = k N. Returns N, D and both fits' predicted loss."""
    if not (flops > 0 and math.isfinite(flops)):
        raise ValueError("the compute budget must be a positive number of FLOPs")
    if tokens_per_param <= 0:
        raise ValueError("tokens per parameter must be positive")
    n = math.sqrt(flops / (FLOPS_PER_PARAM_TOKEN * tokens_per_param))
    d = tokens_per_param * n
    return Budget(flops, n, d, tokens_per_param, float(CHINCHILLA.loss(n, d)), float(EPOCH.loss(n, d)))


def human(x: float) -> str:
    """1.5e9 -> '1.5B', 70.05e9 -> '70.1B', 1.4e12 -> '1.4T' (3 significant digits)."""
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if x >= div:
            return f"{x / div:,.3g}{unit}"
    return f"{x:,.3g}"


def training_flops(params: float, tokens: float) -> float:
    return FLOPS_PER_PARAM_TOKEN * params * tokens


def iso_flop_curve(fit: LossFit, flops: float, n_points: int = 60, span: float = 2.0):
    """Loss along one iso-FLOP line: N from 10^-span to 10^+span times the 20-tokens/param
    size, D = C / (6N). Returns (N array, D array, loss array)."""
    n0 = compute_optimal(flops).params
    N = np.logspace(math.log10(n0) - span, math.log10(n0) + span, n_points)
    D = flops / (FLOPS_PER_PARAM_TOKEN * N)
    return N, D, fit.loss(N, D)


# Published sizes (parameters) and training tokens. Sources: the models' papers / model cards.
FAMOUS_MODELS = [
    {"model": "GPT-2 (1.5B)", "params": 1.5e9, "tokens": 21e9, "note": "OpenAI 2019; ~40 GB WebText, token count approximate"},
    {"model": "GPT-3", "params": 175e9, "tokens": 300e9, "note": "Brown et al. 2020"},
    {"model": "Gopher", "params": 280e9, "tokens": 300e9, "note": "Rae et al. 2021"},
    {"model": "Chinchilla", "params": 70e9, "tokens": 1.4e12, "note": "Hoffmann et al. 2022"},
    {"model": "PaLM", "params": 540e9, "tokens": 780e9, "note": "Chowdhery et al. 2022"},
    {"model": "BloombergGPT", "params": 50.6e9, "tokens": 569e9, "note": "Wu et al. 2023 (the course's domain example)"},
    {"model": "LLaMA 65B", "params": 65.2e9, "tokens": 1.4e12, "note": "Touvron et al. 2023"},
    {"model": "LLaMA 7B", "params": 6.7e9, "tokens": 1.0e12, "note": "Touvron et al. 2023"},
    {"model": "Llama 2 70B", "params": 70e9, "tokens": 2.0e12, "note": "Touvron et al. 2023"},
    {"model": "Llama 3 8B", "params": 8e9, "tokens": 15e12, "note": "Meta 2024"},
    {"model": "SmolLM2-135M", "params": 135e6, "tokens": 2e12, "note": "Allal et al. 2025 (we use it in the app)"},
]


def famous_models_table() -> list[dict]:
    """Each famous model with its compute, tokens/param, and the Chinchilla-optimal size for
    the same compute (to see who is 'over-sized' or 'over-trained')."""
    rows = []
    for m in FAMOUS_MODELS:
        c = training_flops(m["params"], m["tokens"])
        opt = compute_optimal(c)
        rows.append({**m, "flops": c, "tokens_per_param": m["tokens"] / m["params"],
                     "optimal_params": opt.params, "optimal_tokens": opt.tokens,
                     "loss_chinchilla": float(CHINCHILLA.loss(m["params"], m["tokens"]))})
    return rows
