"""A language model seen as an RL policy: pi_theta(y | x), its frozen reference pi_ref, and
the value head V(s_t) that PPO needs.

In RLHF the "environment" is a prompt x; the "actions" are the tokens y_1..y_T the model
samples; the "state" s_t is the prompt plus the tokens so far. So:

* pi_theta(a_t | s_t) = softmax(LM logits at the position before token t)   -- trainable copy
* pi_ref(a_t | s_t)    = the same for the frozen starting model             -- never trained
* V(s_t)               = a linear value head on the policy's last hidden state (as in TRL's
                         ``AutoModelForCausalLMWithValueHead``)

Two ways to hold pi_ref, both used by the app:

* tiny GPT: pi_theta is a per-session deep copy; pi_ref is the *shared, read-only* model
  (forward passes only, never a gradient), so no extra memory per learner.
* SmolLM2 + LoRA: pi_theta is base + adapter; pi_ref is the very same module with the
  adapter switched off (``with model.disable_adapter():``), so no second copy at all.

This module is pure PyTorch/transformers (no streamlit). Shapes: B = batch of prompts,
P = padded prompt length, T = max new tokens, V = vocabulary, H = hidden width.
"""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from lessons.core.generate import pad_id as _pad_id   # the one pad rule
from lessons.core.generate import sample_tokens     # the KV-cache sampler of a left-padded batch
from lessons.core.rng import seeded
from lessons.core.tensors import left_pad, param_count

# Openings of a line of verse. The policy completes the line (it stops at a newline), which
# keeps rollouts short (fast on a CPU) and easy to read.
PROMPTS = [
    "My lord,", "The king", "O gentle", "I pray you,", "What news", "Good morrow,",
    "Thou art", "My heart", "Come, sir,", "Alas, poor", "Now, by my", "This night",
    "Hark, the", "Sweet lady,", "Why, then", "I have seen", "Go, bid", "Upon my",
    "The world", "Nay, but", "Farewell,", "Speak, man,", "How now,", "Our queen",
]


@dataclass
class Rollout:
    """A batch of prompts with the completions pi_theta sampled for them."""
    prompts: list[str]
    completions: list[str]            # decoded y, cut at the stop token
    input_ids: torch.Tensor           # (B, P+T) left-padded prompt, then the sampled tokens
    attention_mask: torch.Tensor      # (B, P+T) 1 for real prompt tokens and real actions
    action_mask: torch.Tensor         # (B, T)   1 for the actions a_t that count (up to stop)
    prompt_len: int                   # P


@dataclass
class TokenStats:
    """Per-token quantities of a rollout under one model."""
    logp: torch.Tensor                # (B, T) log pi(a_t | s_t)
    entropy: torch.Tensor             # (B, T) H(pi(. | s_t))
    hidden: Optional[torch.Tensor] = None  # (B, T, H) last hidden state at s_t


class Policy(nn.Module):
    """pi_theta with a value head, plus a handle on pi_ref.

    ``lm``  : a causal LM (GPT2LMHeadModel, LlamaForCausalLM, or a peft LoRA model of one).
    ``ref`` : the frozen reference model, or None when ``lm`` is a peft model whose adapter,
              disabled, gives the reference.
    """

    def __init__(self, lm: nn.Module, tokenizer, ref: Optional[nn.Module] = None, seed: int = 0):
        super().__init__()
        self.lm = lm
        self.tokenizer = tokenizer
        self._ref = [ref]  # a list, so nn.Module does not register (and train) the reference
        hidden = lm.config.hidden_size if hasattr(lm.config, "hidden_size") else lm.config.n_embd
        g = torch.Generator().manual_seed(seed)
        self.v_head = nn.Linear(hidden, 1)  # V(s_t) = w . h_t + b
        with torch.no_grad():
            self.v_head.weight.copy_(torch.randn(self.v_head.weight.shape, generator=g) * 0.01)
            self.v_head.bias.zero_()
        # Dropout off: PPO's ratio pi_theta/pi_old must be exactly 1 before the first update.
        self.lm.eval()
        self.pad_id = _pad_id(tokenizer)
        self.stop_ids = stop_token_ids(tokenizer)

    # ------------------------------------------------------------------ reference
    @property
    def ref(self) -> Optional[nn.Module]:
        return self._ref[0]

    @property
    def uses_adapter_as_reference(self) -> bool:
        return self.ref is None

    @contextlib.contextmanager
    def reference(self):
        """Yields the module that computes pi_ref, with gradients off."""
        if self.ref is not None:
            with torch.no_grad():
                yield self.ref
        else:
            with torch.no_grad(), self.lm.disable_adapter():
                yield self.lm

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    # ------------------------------------------------------------------ sampling
    def sample(self, prompts: list[str], max_new_tokens: int = 16, temperature: float = 1.0,
               generator: Optional[torch.Generator] = None, use_reference: bool = False) -> Rollout:
        """y ~ pi_theta(. | x), or ~ pi_ref with ``use_reference``."""
        ctx = self.reference() if use_reference else contextlib.nullcontext(self.lm)
        with ctx as model:
            return sample(model, self.tokenizer, prompts, max_new_tokens, temperature, generator)

    # ------------------------------------------------------------------ scoring
    def token_stats(self, model: nn.Module, ro: Rollout, with_hidden: bool = False) -> TokenStats:
        return token_stats(model, ro.input_ids, ro.attention_mask, ro.prompt_len, with_hidden)

    def value(self, hidden: torch.Tensor) -> torch.Tensor:
        """V(s_t): (B, T, H) -> (B, T)."""
        return self.v_head(hidden.float()).squeeze(-1)


@torch.no_grad()
def sample_seeded(model: nn.Module, tokenizer, prompt: str, n: int, seed: int,
                  max_new_tokens: int = 14) -> list[str]:
    """``n`` completions of ``prompt`` sampled from ``model`` with a seeded generator: the same
    seed gives the same completions (repeatable demos). Read-only on ``model``."""
    g = torch.Generator().manual_seed(int(seed))
    return sample(model, tokenizer, [prompt] * n, max_new_tokens, generator=g).completions


def sample(model: nn.Module, tokenizer, prompts: list[str], max_new_tokens: int = 16, temperature: float = 1.0,
           generator: Optional[torch.Generator] = None) -> Rollout:
    """Sample y ~ pi(. | x) token by token with a KV cache (lessons.core.generate.sample_tokens),
    stopping a row at a newline/EOS. Pure sampling (no top-k/top-p): PPO's maths assumes the
    actions come from pi itself. Read-only on ``model`` (no gradient, no state change), so it
    is safe on a shared model."""
    pad_id = _pad_id(tokenizer)
    ids, mask = encode_prompts(tokenizer, prompts, pad_id)                  # (B, P)
    actions, action_mask = sample_tokens(model, ids, mask, max_new_tokens, temperature=temperature,
                                         generator=generator, stop_ids=stop_token_ids(tokenizer),
                                         pad=pad_id)                         # (B, T) each
    ids, mask = ids.to(actions.device), mask.to(actions.device)
    input_ids = torch.cat([ids, actions], 1)                                # (B, P+T)
    attention_mask = torch.cat([mask, action_mask], 1)                      # (B, P+T)
    completions = [decode_completion(tokenizer, actions[i][action_mask[i].bool()].tolist())
                   for i in range(len(prompts))]
    return Rollout(list(prompts), completions, input_ids, attention_mask, action_mask, ids.shape[1])


def token_stats(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                prompt_len: int, with_hidden: bool = False) -> TokenStats:
    """log pi(a_t | s_t), entropy and (optionally) hidden states for the actions after
    ``prompt_len``. The logits at position j predict token j+1, hence the shift by one."""
    pos = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=pos,
                output_hidden_states=with_hidden)
    logits = out.logits[:, prompt_len - 1:-1, :].float()           # (B, T, V)
    logp_all = F.log_softmax(logits, dim=-1)
    actions = input_ids[:, prompt_len:]                              # (B, T)
    logp = logp_all.gather(-1, actions[..., None]).squeeze(-1)      # (B, T)
    entropy = -(logp_all.exp() * logp_all).sum(-1)                   # (B, T)
    hidden = out.hidden_states[-1][:, prompt_len - 1:-1, :] if with_hidden else None
    return TokenStats(logp, entropy, hidden)


# --------------------------------------------------------------------------- tokenizer helpers
_STOP_CACHE: dict = {}


def stop_token_ids(tokenizer) -> torch.Tensor:
    """Tokens that end a completion: EOS and every token whose text contains a newline
    (byte-level BPE merges newlines into several tokens)."""
    key = (type(tokenizer).__name__, getattr(tokenizer, "name_or_path", ""), len(tokenizer))
    if key in _STOP_CACHE:
        return _STOP_CACHE[key]
    ids = {int(tokenizer.eos_token_id)} if tokenizer.eos_token_id is not None else set()
    vocab = tokenizer.get_vocab()
    for tok, i in vocab.items():
        try:
            text = tokenizer.convert_tokens_to_string([tok])
        except Exception:
            continue
        if "\n" in text:
            ids.add(int(i))
    _STOP_CACHE[key] = torch.tensor(sorted(ids), dtype=torch.long)
    return _STOP_CACHE[key]


def encode_prompts(tokenizer, prompts: list[str], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-pad the prompts so every row's last prompt token sits at column P-1 (generation
    then appends in lock-step). Returns ids (B, P) and mask (B, P)."""
    return left_pad([tokenizer.encode(p, add_special_tokens=False) or [pad_id] for p in prompts], pad_id)


def decode_completion(tokenizer, ids: list[int]) -> str:
    text = tokenizer.decode(ids, skip_special_tokens=True)
    return text.split("\n", 1)[0]


def encode_pairs(tokenizer, prompts: list[str], completions: list[str], pad_id: int,
                 stop_text: str = "\n") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """(prompt, completion) texts -> a batch laid out like a Rollout: left-padded prompts of
    width P, then the completion tokens (plus the stop token) right-padded to width T.
    Returns input_ids (B, P+T), attention_mask (B, P+T), action_mask (B, T), P."""
    p_ids, p_mask = encode_prompts(tokenizer, prompts, pad_id)
    rows = [tokenizer.encode(c + stop_text, add_special_tokens=False) or [pad_id] for c in completions]
    T = max(len(r) for r in rows)
    a_ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    a_mask = torch.zeros((len(rows), T), dtype=torch.long)
    for i, r in enumerate(rows):
        a_ids[i, :len(r)] = torch.tensor(r)
        a_mask[i, :len(r)] = 1
    return torch.cat([p_ids, a_ids], 1), torch.cat([p_mask, a_mask], 1), a_mask, p_ids.shape[1]


# --------------------------------------------------------------------------- building policies
def from_shared(shared_lm: nn.Module, tokenizer, seed: int = 0) -> Policy:
    """tiny GPT: pi_theta = a private deep copy (per session); pi_ref = the shared model,
    used for forward passes only (read-only)."""
    lm = copy.deepcopy(shared_lm)
    for p in lm.parameters():
        p.requires_grad_(True)
    return Policy(lm, tokenizer, ref=shared_lm, seed=seed)


def with_lora(shared_lm: nn.Module, tokenizer, r: int = 8, alpha: int = 16, seed: int = 0,
              target_modules: Optional[list[str]] = None) -> Policy:
    """SmolLM2 (or any causal LM) + a LoRA adapter on a private copy. pi_ref is the same
    module with the adapter disabled, so there is no second full copy of the model."""
    from peft import LoraConfig, get_peft_model

    base = copy.deepcopy(shared_lm)
    if target_modules is None:
        names = {n.rsplit(".", 1)[-1] for n, _ in base.named_modules()}
        target_modules = [t for t in ("q_proj", "v_proj", "c_attn") if t in names]
    fan_in_fan_out = "c_attn" in target_modules  # GPT-2's Conv1D stores W transposed
    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=target_modules,
                     fan_in_fan_out=fan_in_fan_out, bias="none")
    with seeded(seed):                  # LoRA's A matrices are drawn from torch's generator
        lm = get_peft_model(base, cfg)
    return Policy(lm, tokenizer, ref=None, seed=seed)


@dataclass
class MemoryReport:
    """What pi_ref and the optimizer cost, in MB (float32), versus the naive recipe (a second
    full copy of the model for pi_ref, Adam on every weight)."""
    total_params: int             # parameters of pi_theta (base + adapter if any) and its value head
    trainable_params: int         # what the optimizer updates (incl. the value head)
    model_mb: float               # one full copy of the base model
    naive_reference_mb: float     # a second full copy, held only to compute pi_ref
    reference_mb: float           # what pi_ref costs here
    naive_adam_mb: float          # Adam's two moments for every weight
    adam_mb: float                # Adam's two moments for the trainable weights only
    how: str = ""

    @property
    def saved_mb(self) -> float:
        return (self.naive_reference_mb - self.reference_mb) + (self.naive_adam_mb - self.adam_mb)


def memory_report(policy: Policy) -> MemoryReport:
    elt = next(policy.lm.parameters()).element_size()
    n_all = param_count(policy.lm)
    n_train = param_count(policy, trainable_only=True)      # LM (or adapter) + value head
    n_adapter = sum(p.numel() for n, p in policy.lm.named_parameters() if "lora_" in n)
    n_base = n_all - n_adapter
    mb = lambda n: n * elt / 2**20  # noqa: E731
    if policy.uses_adapter_as_reference:
        how = "LoRA: pi_ref is the same weights with the adapter disabled (no second copy)"
    else:
        how = "pi_ref is the shared read-only model every learner already uses (no second copy)"
    # the whole policy (LM, adapter, value head), like n_train: full fine-tuning trains 100 % (not 100.01 %)
    return MemoryReport(param_count(policy), n_train, mb(n_base), mb(n_base), 0.0, 2 * mb(n_base), 2 * mb(n_train), how)
