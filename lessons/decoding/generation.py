"""Token-by-token generation, exactly as ``model.generate`` does it -- but with every step kept.

An autoregressive LM produces text one token at a time:

    for t in 1..max_new_tokens:
        z_t   = model(prompt + generated so far)[-1]        # (V,) logits of the next token
        z_t   = repetition_penalty(z_t)                      # tokens already seen: z/pen if z>0, z*pen if z<0
        z_t   = top_p(top_k(z_t / temperature))              # lessons.decoding.sampling.process_scores
        x_t   = argmax(z_t)                 if greedy (do_sample=False)
              ~ multinomial(softmax(z_t))   if sampling (do_sample=True)
        stop if x_t is the end-of-sequence token

We replicate transformers 5.24's ``GenerationMixin._sample``: one prefill pass over the prompt
with a KV cache, then one token per forward; the processors in ``_get_logits_processor``'s
order; ``torch.multinomial`` on the softmax of the processed scores. Seeded the same way
(``torch.manual_seed(seed)`` before ``generate``), the text is identical (a unit test checks
it). We draw with a private ``torch.Generator`` seeded with ``seed``: it produces the same
stream as the global one after ``torch.manual_seed(seed)`` but is not disturbed by other users
of the same server.

``GenSettings`` uses GenerationConfig's names so that ``code_snippet`` can print a few lines of
plain transformers code that reproduce what the page shows.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from lessons.decoding import sampling


@dataclass
class GenSettings:
    """Generation settings named as ``transformers.GenerationConfig`` names them (plus seed)."""

    do_sample: bool = True
    temperature: float = 1.0
    top_k: int = 0             # 0 = off
    top_p: float = 1.0         # 1.0 = off
    max_new_tokens: int = 20
    repetition_penalty: float = 1.0  # 1.0 = off
    seed: int = 0

    def __post_init__(self):
        if self.temperature <= 0:
            raise ValueError("temperature must be > 0; for greedy decoding set do_sample=False.")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1].")
        if self.top_k < 0 or self.max_new_tokens < 1 or self.repetition_penalty <= 0:
            raise ValueError("top_k >= 0, max_new_tokens >= 1 and repetition_penalty > 0 are required.")

    def generate_kwargs(self) -> dict:
        """Keyword arguments for model.generate / GenerationConfig. Greedy runs leave the
        sampling knobs out (generate would warn that they are ignored)."""
        kw = {"do_sample": self.do_sample, "max_new_tokens": int(self.max_new_tokens)}
        if self.do_sample:
            kw.update(temperature=float(self.temperature), top_k=int(self.top_k), top_p=float(self.top_p))
        if self.repetition_penalty != 1.0:
            kw["repetition_penalty"] = float(self.repetition_penalty)
        return kw


def apply_repetition_penalty(logits: torch.Tensor, context_ids: list[int], penalty: float) -> torch.Tensor:
    """CTRL's penalty (Keskar et al. 2019) as transformers applies it: every token already in
    the context (prompt included), counted once, gets z/penalty if z > 0 and z*penalty if
    z < 0 -- both make it less likely when penalty > 1."""
    if penalty == 1.0 or not context_ids:
        return logits
    out = logits.clone()
    seen = torch.tensor(sorted(set(int(i) for i in context_ids if 0 <= int(i) < logits.numel())),
                        dtype=torch.long, device=logits.device)
    z = out[seen]
    out[seen] = torch.where(z < 0, z * penalty, z / penalty)
    return out


def process_logits(logits: torch.Tensor, context_ids: list[int], s: GenSettings) -> torch.Tensor:
    """The scores generate() turns into the next token (1-D, removed tokens at -inf)."""
    z = apply_repetition_penalty(logits.float(), context_ids, s.repetition_penalty)
    if not s.do_sample:
        return z                      # greedy: argmax of the (penalised) logits
    return sampling.process_scores(z, s.temperature, s.top_k, s.top_p)


@dataclass
class Step:
    token_id: int
    token: str                   # readable (spaces as ␣)
    prob: float                  # probability of the chosen token under the final distribution
    raw_prob: float              # ... and under the model's raw softmax
    top: list[tuple[str, float, int]]  # runners-up: (token, final prob, id), best first
    n_kept: int                  # tokens with non-zero probability after the filters
    entropy: float               # bits, of the final distribution


@dataclass
class Trace:
    prompt_ids: list[int]
    new_ids: list[int]
    steps: list[Step] = field(default_factory=list)
    text: str = ""               # decoded new tokens (special tokens skipped), as generate's user would
    stopped_at_eos: bool = False
    settings: dict = field(default_factory=dict)
    stop_reason: str = "max_new_tokens"   # or "EOS token", or "context window" (prompt + output hit it)


def _eos_ids(model, tokenizer) -> set[int]:
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        eos = getattr(tokenizer, "eos_token_id", None)
    if eos is None:
        return set()
    return set(eos) if isinstance(eos, (list, tuple)) else {int(eos)}


@torch.no_grad()
def generate_steps(model, tokenizer, prompt: str, s: GenSettings, top_n: int = 5, progress=None) -> Trace:
    """Generate with ``s`` and keep, for every step, the distribution, the chosen token and
    its runners-up. ``progress(i, total)`` is called after each token."""
    from transformers import DynamicCache

    from lessons.core.generate import cache_kwarg

    dev = next(model.parameters()).device
    prompt_ids = tokenizer(prompt)["input_ids"]
    if not prompt_ids:
        raise ValueError("The prompt has no tokens.")
    ctx_limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
    max_new = int(s.max_new_tokens)
    cut_by_window = bool(ctx_limit and len(prompt_ids) + max_new > ctx_limit)
    if cut_by_window:
        max_new = max(ctx_limit - len(prompt_ids), 0)
    gen = torch.Generator(device=dev).manual_seed(int(s.seed))   # same stream as torch.manual_seed(seed)
    eos = _eos_ids(model, tokenizer)
    cache = DynamicCache()
    ids = list(prompt_ids)
    x = torch.tensor([prompt_ids], device=dev)                   # (1, T): prefill the whole prompt
    trace = Trace(prompt_ids=list(prompt_ids), new_ids=[], settings=asdict(s),
                  stop_reason="context window" if cut_by_window else "max_new_tokens")
    for t in range(max_new):
        out = model(x, attention_mask=torch.ones((1, len(ids)), dtype=torch.long, device=dev),
                    use_cache=True, **{cache_kwarg(model): cache})
        logits = out.logits[0, -1].to(torch.float32)             # (V,)
        scores = process_logits(logits, ids, s)                  # (V,)
        probs = torch.softmax(scores[None], dim=-1)              # (1, V) as generate() does
        if s.do_sample:
            nxt = int(torch.multinomial(probs, num_samples=1, generator=gen)[0, 0])
        else:
            nxt = int(torch.argmax(scores))
        p = probs[0]
        top = torch.topk(p, min(top_n, p.numel()))
        trace.steps.append(Step(
            token_id=nxt, token=sampling.token_label(tokenizer, nxt), prob=float(p[nxt]),
            raw_prob=float(torch.softmax(logits, -1)[nxt]),
            top=[(sampling.token_label(tokenizer, i), float(v), int(i))
                 for v, i in zip(top.values.tolist(), top.indices.tolist())],
            n_kept=int((p > 0).sum()), entropy=sampling.entropy_bits(p.cpu()),
        ))
        ids.append(nxt)
        trace.new_ids.append(nxt)
        if progress:
            progress(t + 1, max_new)
        if nxt in eos:
            trace.stopped_at_eos, trace.stop_reason = True, "EOS token"
            break
        x = torch.tensor([[nxt]], device=dev)                    # (1, 1): only the new token
    trace.text = tokenizer.decode(trace.new_ids, skip_special_tokens=True)
    return trace


def repetition_score(ids: list[int], n: int = 3) -> float:
    """Share of n-grams in ``ids`` that already appeared earlier: 0 = no loop, -> 1 = a loop."""
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    if not grams:
        return 0.0
    seen, rep = set(), 0
    for g in grams:
        rep += g in seen
        seen.add(g)
    return rep / len(grams)


def code_snippet(s: GenSettings, prompt: str, model_path: str, *, note: str = "") -> str:
    """Plain transformers code that reproduces ``generate_steps(..., s)``'s text."""
    kw = s.generate_kwargs()
    args = ",\n    ".join(f"{k}={v!r}" for k, v in kw.items())
    lines = [
        "import torch",
        "from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig",
        "",
    ]
    if note:
        lines += [f"# {line}" for line in note.splitlines()]
    lines += [
        f"model_path = {model_path!r}",
        "tokenizer = AutoTokenizer.from_pretrained(model_path)",
        "model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()",
        "",
        f"prompt = {prompt!r}",
        'inputs = tokenizer(prompt, return_tensors="pt")',
        f"config = GenerationConfig(\n    {args},\n)",
        f"torch.manual_seed({int(s.seed)})  # the seed the page shows",
        "out = model.generate(**inputs, generation_config=config,",
        "                     pad_token_id=tokenizer.eos_token_id)",
        'new_tokens = out[0, inputs["input_ids"].shape[1]:]',
        "print(tokenizer.decode(new_tokens, skip_special_tokens=True))",
    ]
    return "\n".join(lines) + "\n"
