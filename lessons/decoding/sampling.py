"""Decoding settings as transformations of one next-token distribution.

An LM's last layer gives a vector of V logits z (one per vocabulary token; V = 49,152 for
SmolLM2). Sampling settings only reshape that vector before one token is drawn, in the
order transformers' ``generate()`` applies them (``GenerationMixin._get_logits_processor``
in transformers 5.24: ... repetition penalty ..., then Temperature, TopK, TopP):

1. temperature T:  z / T         (T < 1 sharpens, T > 1 flattens; T -> 0 is greedy)
2. top-k:          keep the k largest scores, set the rest to -inf
3. top-p (nucleus): sort what is left, keep the smallest top set whose probability reaches
                   p (computed on the distribution *after* steps 1-2), set the rest to -inf
4. softmax:        p_i = exp(z_i) / sum_j exp(z_j)    over the survivors

``filter_distribution`` returns the final 1-D probability vector; a unit test checks it
against transformers' own TemperatureLogitsWarper / TopKLogitsWarper / TopPLogitsWarper.
Settings those warpers reject raise :class:`SamplingSettingsError` (a ValueError) here too:
a negative (or NaN) temperature, a negative or fractional top_k, a top_p outside (0, 1].
T = 0 exactly is greedy decoding (``do_sample=False``): the T -> 0 limit, which puts all the
probability on the highest logit (shared equally if several tie). Any T > 0, however small,
is an ordinary division, so near-ties keep sharing probability as they do in transformers.
``explain_filtering`` returns every intermediate a page plots (kept/removed by which
step, the cumulative curve, entropies).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lessons.core.tensors import entropy_bits as _entropy_bits

GREEDY_T = 0.0  # temperature 0 means greedy (the T -> 0 limit); any T > 0 is divided by


class SamplingSettingsError(ValueError):
    """A decoding setting that transformers' warpers reject; the message is for the page."""


def check_settings(temperature: float, top_k: int = 0, top_p: float = 1.0) -> None:
    """Raise :class:`SamplingSettingsError` for settings transformers rejects."""
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise SamplingSettingsError(f"temperature must be a number (got {temperature!r}).") from None
    if math.isnan(t) or t < 0:  # +inf is allowed, as in transformers: the uniform limit
        raise SamplingSettingsError(
            f"temperature must be a number >= 0 (got {temperature!r}); 0 means greedy decoding.")
    if isinstance(top_k, bool) or not isinstance(top_k, (int, float)) or \
            (isinstance(top_k, float) and not top_k.is_integer()) or top_k < 0:
        raise SamplingSettingsError(
            f"top_k must be a whole number >= 0 (got {top_k!r}); 0 switches it off.")
    try:
        pv = float(top_p)
    except (TypeError, ValueError):
        raise SamplingSettingsError(f"top_p must be a number (got {top_p!r}).") from None
    if not 0.0 < pv <= 1.0:  # NaN fails this test too
        raise SamplingSettingsError(f"top_p must be in (0, 1] (got {top_p!r}); 1.0 switches it off.")


def _greedy_keep(scores: torch.Tensor) -> torch.Tensor:
    """The T -> 0 limit keeps every token tied for the highest score (usually just one)."""
    return scores == scores.max()


# --------------------------------------------------------------------------- the filter
def _top_k_mask(scores: torch.Tensor, top_k: int) -> torch.Tensor:
    """True where a token survives top-k. Ties with the k-th score survive too (as in
    transformers: it removes scores strictly below the k-th largest)."""
    k = min(max(int(top_k), 1), scores.numel())
    kth = torch.topk(scores, k).values[-1]
    return scores >= kth


def _top_p_mask(scores: torch.Tensor, top_p: float) -> torch.Tensor:
    """True where a token survives nucleus filtering, exactly as TopPLogitsWarper does it:
    sort ascending, drop tokens whose ascending cumulative probability is <= 1 - p, and
    always keep the single most likely token."""
    sorted_scores, order = torch.sort(scores, descending=False)        # (V,)
    cum = sorted_scores.softmax(dim=-1).cumsum(dim=-1)                 # (V,) ascending
    remove_sorted = cum <= (1 - top_p)
    remove_sorted[-1:] = False                                         # min_tokens_to_keep=1
    remove = torch.zeros_like(remove_sorted).scatter(0, order, remove_sorted)
    return ~remove


def process_scores(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                   top_p: float = 1.0) -> torch.Tensor:
    """Temperature, then top-k, then top-p on a 1-D logits vector. Removed tokens get -inf.
    Settings that are 'off' (T=1, k=0, p=1) are skipped exactly as generate() skips them.
    Raises :class:`SamplingSettingsError` for settings transformers rejects."""
    check_settings(temperature, top_k, top_p)
    scores = logits.detach().to(torch.float32).reshape(-1)
    if temperature <= GREEDY_T:  # T = 0, the limit: everything but the top score vanishes
        return scores.masked_fill(~_greedy_keep(scores), float("-inf"))
    if temperature != 1.0:
        scores = scores / float(temperature)
    if top_k and top_k > 0:
        scores = scores.masked_fill(~_top_k_mask(scores, top_k), float("-inf"))
    if top_p < 1.0:
        scores = scores.masked_fill(~_top_p_mask(scores, top_p), float("-inf"))
    return scores


def filter_distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                        top_p: float = 1.0) -> torch.Tensor:
    """The probability vector (V,) that generate(do_sample=True, ...) samples from.
    top_k=0 and top_p=1.0 mean off; temperature 0 means greedy (one-hot argmax; tied top
    logits share it). Raises :class:`SamplingSettingsError` where transformers does."""
    return torch.softmax(process_scores(logits, temperature, top_k, top_p), dim=-1)


# --------------------------------------------------------------------------- intermediates
def entropy_bits(p: torch.Tensor) -> float:
    """H(p) = -sum p log2 p, in bits: 0 for a sure thing, log2(n) for n equal choices
    (lessons.core.tensors.entropy_bits, as one number)."""
    return float(_entropy_bits(p))


@dataclass
class FilterSteps:
    """Everything the sampling lab plots for the top ``n`` tokens (ranked by raw p)."""

    ids: list[int]               # top-n token ids by raw probability
    p_raw: list[float]           # softmax(z)
    p_temp: list[float]          # softmax(z / T)
    p_final: list[float]         # after top-k and top-p, renormalised
    removed_by: list[str]        # "" (kept), "top-k" or "top-p"
    cum_before_p: list[float]    # running total of the distribution top-p sees (descending)
    n_kept: int                  # survivors in the whole vocabulary
    vocab_size: int
    entropy_raw: float           # bits
    entropy_final: float         # bits
    greedy: bool
    probs_final: torch.Tensor    # (V,) full final distribution (for sampling)


def explain_filtering(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                      top_p: float = 1.0, n: int = 20) -> FilterSteps:
    check_settings(temperature, top_k, top_p)
    z = logits.detach().to(torch.float32).reshape(-1)                  # (V,)
    V = z.numel()
    greedy = temperature <= GREEDY_T
    p_raw = torch.softmax(z, -1)
    scaled = z if (greedy or temperature == 1.0) else z / float(temperature)
    top_set = _greedy_keep(z)
    p_temp = torch.softmax(scaled, -1) if not greedy else top_set.float() / top_set.sum()
    # which step removes what (on the same scores generate() would see at each step)
    if greedy:
        after_k = top_set
        after_p = after_k.clone()
        cum_src = p_temp
    else:
        after_k = _top_k_mask(scaled, top_k) if top_k and top_k > 0 else torch.ones(V, dtype=torch.bool)
        s_k = scaled.masked_fill(~after_k, float("-inf"))
        after_p = (_top_p_mask(s_k, top_p) if top_p < 1.0 else torch.ones(V, dtype=torch.bool)) & after_k
        cum_src = torch.softmax(s_k, -1)                               # what top-p measures
    # the final distribution: the same ops as filter_distribution (a test checks equality),
    # reusing the masks computed above instead of filtering twice
    final = torch.softmax(scaled.masked_fill(~after_p, float("-inf")), -1)
    n = min(n, V)
    ids = torch.topk(p_raw, n).indices
    # running total, in descending order, of the distribution top-p sees; only the top-n
    # entries are shown, so a partial top-n of cum_src is enough (no full sort)
    vals, order = torch.topk(cum_src, min(max(n, 1) * 4, V))
    cum_sorted = vals.cumsum(0)
    pos = {int(t): k for k, t in enumerate(order.tolist())}
    # a token outside that top set has probability 0 there (it was filtered), so the
    # running total has already reached 1 when it would be counted
    cum = {i: float(cum_sorted[pos[i]]) if i in pos else 1.0 for i in ids.tolist()}
    removed_by = []
    for i in ids.tolist():
        removed_by.append("" if after_p[i] else ("top-k" if not after_k[i] else
                                                  ("greedy" if greedy else "top-p")))
    return FilterSteps(
        ids=ids.tolist(), p_raw=p_raw[ids].tolist(), p_temp=p_temp[ids].tolist(),
        p_final=final[ids].tolist(), removed_by=removed_by, cum_before_p=[cum[i] for i in ids.tolist()],
        n_kept=int((final > 0).sum()), vocab_size=V, entropy_raw=entropy_bits(p_raw),
        entropy_final=entropy_bits(final), greedy=greedy, probs_final=final,
    )


# --------------------------------------------------------------------------- sampling for real
@dataclass
class SampleResult:
    ids: list[int]               # tokens drawn, in order (first 50 kept for display)
    support: list[int]           # token ids shown (top of the theoretical distribution)
    theoretical: list[float]     # p on the support
    empirical: list[float]       # share of draws on the support
    other_theoretical: float     # mass outside the support
    other_empirical: float
    tv_distance: float           # 1/2 sum |empirical - theoretical| over the WHOLE vocabulary
    n: int


def draw_samples(probs: torch.Tensor, n: int, seed: int = 0, support_size: int = 15) -> SampleResult:
    """Draw n tokens from probs (V,) with a seeded private generator (so concurrent users do
    not disturb each other's random streams) and compare the histogram to probs."""
    p = probs.detach().to(torch.float32).reshape(-1).cpu()
    g = torch.Generator().manual_seed(int(seed))
    draws = torch.multinomial(p, int(n), replacement=True, generator=g)   # (n,)
    counts = torch.bincount(draws, minlength=p.numel()).float()
    emp = counts / counts.sum()
    support = torch.topk(p, min(support_size, int((p > 0).sum()) or 1)).indices
    tv = 0.5 * float((emp - p).abs().sum())
    return SampleResult(
        ids=draws[:50].tolist(), support=support.tolist(), theoretical=p[support].tolist(),
        empirical=emp[support].tolist(), other_theoretical=float(1 - p[support].sum()),
        other_empirical=float(1 - emp[support].sum()), tv_distance=tv, n=int(n),
    )


def expected_tv(probs: torch.Tensor, n: int) -> float:
    """The average TV distance between n draws and probs, computed exactly (no simulation).

    By linearity, E[TV] = 1/2 sum_i E|X_i/n - p_i| with X_i ~ Binomial(n, p_i), and the
    binomial's mean absolute deviation has a closed form (de Moivre):
    E|X - np| = 2 k C(n, k) p^k (1-p)^(n-k+1), k = floor(np) + 1.
    It is at most 1 like TV itself, and shrinks like 1/sqrt(n) once n is large."""
    p = probs.detach().reshape(-1).double().cpu()
    p = p[(p > 0) & (p < 1)]
    if p.numel() == 0:
        return 0.0
    n = int(n)
    k = torch.floor(n * p) + 1                                          # (S,) always <= n here
    log_c = math.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
    log_mad = math.log(2) + torch.log(k) + log_c + k * torch.log(p) + (n - k + 1) * torch.log1p(-p)
    return float(0.5 * torch.exp(log_mad).sum() / n)


# --------------------------------------------------------------------------- the model side
@torch.no_grad()
def next_token_logits(model, tokenizer, prompt: str) -> torch.Tensor:
    """Raw logits (V,) for the token after ``prompt`` (float32, on the CPU)."""
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]          # (1, T)
    if ids.shape[1] == 0:
        raise ValueError("The prompt has no tokens.")
    import inspect

    dev = next(model.parameters()).device
    # only the last position's logits are needed: skip the LM head (V x d) elsewhere
    kw = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(type(model).forward).parameters else {}
    return model(ids.to(dev), **kw).logits[0, -1].float().cpu()        # (V,)


def token_label(tokenizer, token_id: int) -> str:
    """A readable token: spaces shown as '␣', newlines as '↵', empty as its id."""
    s = tokenizer.decode([int(token_id)])
    s = s.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")
    return s if s else f"<{token_id}>"
