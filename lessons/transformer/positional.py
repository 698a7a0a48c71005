"""Positional information: attention by itself ignores order (permute the tokens and every
token gets the same weights, permuted), so models must be told where each token is.

Three ways, all shown on the page:

* **Sinusoidal** (Vaswani et al., 2017), added to the embeddings:
      PE[pos, 2i] = sin(pos / 10000^(2i/d)),   PE[pos, 2i+1] = cos(pos / 10000^(2i/d))
  Each pair of dimensions is a clock turning at its own speed, fast for small i, slow for
  large i, so every position gets a unique pattern and nearby positions look alike.
* **Learned absolute** (BERT, MiniLM): a trained table of 512 position vectors, also added to
  the token embeddings.
* **Rotary, RoPE** (Su et al., 2021; Llama, SmolLM2): nothing is added. Inside every attention
  layer, each 2-D pair of query and key dimensions is rotated by the angle m * theta_i where m
  is the position and theta_i = base^(-2i/d). Because rotations compose, the score
  q_m . k_n depends only on the offset m - n: relative position for free.
  We use the Hugging Face "rotate_half" layout: dimension i pairs with i + d/2.

Pure Python, no streamlit.
"""
from __future__ import annotations

import torch


def sinusoidal(length: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """(length, d_model) sinusoidal encodings, sin on even and cos on odd dimensions."""
    if length < 1 or d_model < 2 or d_model % 2:
        raise ValueError("length >= 1 and an even d_model >= 2 are required")
    pos = torch.arange(length, dtype=torch.float64)[:, None]                 # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)                 # (d/2,)
    angle = pos / base ** (two_i / d_model)                                  # (L, d/2)
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.float()


def cosine_between_positions(pe: torch.Tensor) -> torch.Tensor:
    """(L, L) cosine similarity of every position's vector with every other's."""
    x = pe / pe.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return x @ x.T


def learned_positions(lm, n: int) -> torch.Tensor:
    """(n, D) the first n rows of a BERT-style model's learned position table (MiniLM: 512 x 384)."""
    table = lm.model.embeddings.position_embeddings.weight
    return table[: min(n, table.shape[0])].detach().float().cpu()


# --------------------------------------------------------------------------- RoPE
def rope_frequencies(head_dim: int, base: float) -> torch.Tensor:
    """(head_dim/2,) theta_i = base^(-2i/d): the turning speed of each pair of dimensions."""
    return 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)


def rope_cos_sin(positions: torch.Tensor, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of m * theta_i laid out like Hugging Face: (P, head_dim), halves repeated."""
    ang = positions.double()[:, None] * rope_frequencies(head_dim, base)[None]   # (P, d/2)
    ang = torch.cat([ang, ang], dim=-1)                                          # (P, d)
    return ang.cos(), ang.sin()


def rope_rotate(x: torch.Tensor, positions: torch.Tensor, base: float) -> torch.Tensor:
    """Rotate vectors x (P, d) -- one per position -- by their position's angles.

    For the pair (x_i, x_{i+d/2}) this is the 2-D rotation
        [x_i', x_{i+d/2}'] = [x_i cos a - x_{i+d/2} sin a,  x_{i+d/2} cos a + x_i sin a],  a = m theta_i
    """
    d = x.shape[-1]
    cos, sin = rope_cos_sin(positions, d, base)
    x = x.double()
    rotated_half = torch.cat([-x[..., d // 2:], x[..., : d // 2]], dim=-1)
    return (x * cos + rotated_half * sin).float()


def rope_scores(q: torch.Tensor, k: torch.Tensor, n_positions: int, base: float) -> torch.Tensor:
    """(P, P) the score between the SAME query vector q placed at position m and the same key
    vector k at position n, after rotation. It depends only on m - n (constant diagonals)."""
    pos = torch.arange(n_positions)
    qm = rope_rotate(q.expand(n_positions, -1), pos, base)       # (P, d)
    kn = rope_rotate(k.expand(n_positions, -1), pos, base)       # (P, d)
    return qm @ kn.T


def rope_pair_track(pair: int, head_dim: int, base: float, n_positions: int) -> torch.Tensor:
    """(P, 2) where the unit vector (1, 0) in dimension pair ``pair`` lands at positions 0..P-1."""
    x = torch.zeros(n_positions, head_dim)
    x[:, pair] = 1.0
    r = rope_rotate(x, torch.arange(n_positions), base)
    return torch.stack([r[:, pair], r[:, pair + head_dim // 2]], dim=-1)


def random_qk(head_dim: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random query and key vector, (head_dim,) each: the page's q and k."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn(head_dim, generator=g), torch.randn(head_dim, generator=g)
