"""Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a
Neural Network"): a small *student* learns from the full output distribution of a big
*teacher*, not only from the one right next token.

Soft labels with temperature T:

    p_T = softmax(z_teacher / T),   q_T = softmax(z_student / T)
    L_KD = T^2 * KL(p_T || q_T)                      # T^2 keeps gradient sizes comparable
    L    = alpha * L_KD + (1 - alpha) * CE(z_student, next token)

A higher T flattens p_T so the student also sees *which wrong tokens the teacher finds
plausible* ("dark knowledge"). Here the teacher is our tiny Shakespeare GPT (4 layers x
128 wide) and the student a fresh GPT-2 half as deep and half as wide; the page trains a
soft-label student and a hard-label student on the same batches, for the same number of
steps, and compares them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from lessons.core.perplexity import perplexity


# --------------------------------------------------------------------------- temperature
def softmax_t(logits: torch.Tensor, T: float = 1.0) -> torch.Tensor:
    """softmax(z / T) over the last dim. T -> 0: one-hot on the argmax; T -> inf: uniform."""
    if T <= 0:
        raise ValueError("temperature must be > 0")
    return torch.softmax(logits.float() / T, dim=-1)


def entropy_bits(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log2(p.clamp_min(1e-30))).sum(-1)


# --------------------------------------------------------------------------- the loss
def kd_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, T: float) -> torch.Tensor:
    """T^2 * KL(p_T || q_T), averaged over positions. Inputs (..., V).

    A token the teacher rules out (logit -inf, so p = 0) adds nothing: 0 log 0 = 0 by
    convention, as in torch's ``kl_div`` with probability targets (xlogy), rather than the
    NaN of a literal 0 * -inf. T must be > 0 (T = 0 has no softmax): it raises ValueError."""
    if not T > 0:  # also catches NaN
        raise ValueError(f"The distillation temperature T must be > 0 (got {T}).")
    V = student_logits.shape[-1]
    s = F.log_softmax(student_logits.reshape(-1, V).float() / T, dim=-1)   # log q_T  (N, V)
    t = F.log_softmax(teacher_logits.reshape(-1, V).float() / T, dim=-1)   # log p_T  (N, V)
    p = t.exp()
    terms = torch.where(p > 0, p * (t - s), torch.zeros_like(p))          # p (log p - log q), 0 where p = 0
    return (T * T) * terms.sum(-1).mean()


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      targets: torch.Tensor | None, T: float = 2.0, alpha: float = 1.0
                      ) -> tuple[torch.Tensor, dict]:
    """alpha * T^2 KL(p_T||q_T) + (1 - alpha) * CE. Returns (loss, parts as floats)."""
    kd = kd_kl(student_logits, teacher_logits, T)
    if alpha < 1.0:
        if targets is None:
            raise ValueError("alpha < 1 needs hard targets")
        ce = F.cross_entropy(student_logits.reshape(-1, student_logits.shape[-1]).float(), targets.reshape(-1))
    else:
        ce = torch.zeros((), device=student_logits.device)
    loss = alpha * kd + (1 - alpha) * ce
    return loss, {"kd": kd.item(), "ce": ce.item(), "loss": loss.item()}


# --------------------------------------------------------------------------- models
def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def make_student(teacher_config, n_layer: int = 2, n_embd: int = 64, n_head: int = 2, seed: int = 0):
    """A fresh GPT-2 with the teacher's vocabulary and context but fewer/narrower layers."""
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=teacher_config.vocab_size, n_positions=teacher_config.n_positions,
                     n_layer=n_layer, n_embd=n_embd, n_head=n_head, resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, bos_token_id=teacher_config.bos_token_id,
                     eos_token_id=teacher_config.eos_token_id, tie_word_embeddings=True)
    torch.manual_seed(seed)
    return GPT2LMHeadModel(cfg)


# --------------------------------------------------------------------------- data
def token_ids(tokenizer, text: str) -> torch.Tensor:
    # verbose=False: a long text is cut into blocks later, so the "longer than the maximum
    # sequence length" warning does not apply here.
    return torch.tensor(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"], dtype=torch.long)


def batches(ids: torch.Tensor, batch: int, block: int, steps: int, seed: int):
    """`steps` random (x, y) batches of shape (batch, block); same seed -> same batches,
    so the two students see exactly the same text."""
    g = torch.Generator().manual_seed(seed)
    hi = len(ids) - block - 1
    if hi <= 0:
        raise ValueError("not enough tokens for one block")
    for _ in range(steps):
        ix = torch.randint(0, hi, (batch,), generator=g)
        x = torch.stack([ids[i:i + block] for i in ix.tolist()])           # (B, T)
        y = torch.stack([ids[i + 1:i + 1 + block] for i in ix.tolist()])   # (B, T) shifted by one
        yield x, y


# --------------------------------------------------------------------------- training
@dataclass
class StudentRun:
    mode: str                     # "soft" (distilled) or "hard" (plain next-token CE)
    model: torch.nn.Module
    losses: list[float] = field(default_factory=list)     # the training objective per step
    ce: list[float] = field(default_factory=list)         # hard-label CE per step (comparable)
    val_ppl: list[tuple[int, float]] = field(default_factory=list)  # (step, perplexity)
    steps: int = 0
    seconds: float = 0.0
    stopped_by: str = "steps"
    extra: dict = field(default_factory=dict)


def train_student(student, teacher, train_ids: torch.Tensor, val_ids: torch.Tensor, *,
                  mode: str = "soft", T: float = 2.0, alpha: float = 1.0, steps: int = 100,
                  max_seconds: float = 25.0, batch: int = 16, block: int = 64, lr: float = 3e-3,
                  seed: int = 0, eval_every: int = 25, eval_blocks: int = 16,
                  progress: Optional[Callable[[int, int, dict], None]] = None) -> StudentRun:
    """Train `student` in place (give it a fresh model) for at most `steps` / `max_seconds`.
    The teacher is only read (eval mode, no_grad): it is never changed."""
    if mode not in ("soft", "hard"):
        raise ValueError("mode is 'soft' or 'hard'")
    torch.manual_seed(seed)
    dev = next(student.parameters()).device
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.0)
    run = StudentRun(mode, student)
    run.val_ppl.append((0, perplexity(student, val_ids, block, eval_blocks)))
    student.train()
    t0 = time.perf_counter()
    for step, (x, y) in enumerate(batches(train_ids, batch, block, steps, seed), start=1):
        x, y = x.to(dev), y.to(dev)
        logits = student(x).logits                                           # (B, T, V)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        if mode == "soft":
            with torch.no_grad():
                t_logits = teacher(x).logits                                 # (B, T, V), teacher frozen
            loss, _ = distillation_loss(logits, t_logits, y, T, alpha)
        else:
            loss = ce
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        run.losses.append(loss.item())
        run.ce.append(ce.item())
        run.steps = step
        elapsed = time.perf_counter() - t0
        last = step == steps or elapsed >= max_seconds
        if step % eval_every == 0 or last:
            run.val_ppl.append((step, perplexity(student, val_ids, block, eval_blocks)))
            student.train()
        if progress:
            progress(step, steps, {"loss": run.losses[-1], "ce": run.ce[-1], "seconds": elapsed})
        if elapsed >= max_seconds and step < steps:
            run.stopped_by = "time"
            break
    run.seconds = time.perf_counter() - t0
    student.eval()
    return run


@torch.no_grad()
def ms_per_forward(model, block: int = 64, repeats: int = 5) -> float:
    """Median milliseconds for one (1, block) forward pass: a rough inference-speed figure."""
    model.eval()
    dev = next(model.parameters()).device
    x = torch.zeros((1, block), dtype=torch.long, device=dev)
    model(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model(x)
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]


# A context where the tiny GPT is fairly sure of the next token (' lord', about a third at
# T = 1), so raising T visibly moves probability to the runners-up (father, heart, good, lady).
DEFAULT_CONTEXT = "What, ho! my"


@dataclass
class SoftLabels:
    tokens: list[str]        # the teacher's top-k next tokens (at T = 1)
    p1: list[float]          # their probabilities at T = 1
    pT: list[float]          # their probabilities at temperature T
    entropy1: float          # bits, whole vocabulary
    entropyT: float
    top1: float              # max probability at T = 1 and at T
    topT: float


@torch.no_grad()
def soft_labels(model, tokenizer, text: str, T: float, top_k: int = 15) -> SoftLabels:
    """The teacher's next-token distribution after `text`, at T = 1 and at T."""
    ids = token_ids(tokenizer, text)[-200:]
    if len(ids) == 0:
        raise ValueError("the text has no tokens")
    dev = next(model.parameters()).device
    logits = model(ids[None].to(dev)).logits[0, -1].float().cpu()          # (V,)
    p1, pT = softmax_t(logits, 1.0), softmax_t(logits, T)
    top = torch.topk(p1, top_k).indices
    return SoftLabels([tokenizer.decode([int(i)]) for i in top], p1[top].tolist(), pT[top].tolist(),
                      float(entropy_bits(p1)), float(entropy_bits(pT)), float(p1.max()), float(pT.max()))


def train_pair(teacher, train_ids: torch.Tensor, val_ids: torch.Tensor, make: Callable[[], torch.nn.Module], *,
               T: float = 2.0, alpha: float = 0.7, steps: int = 100, max_seconds: float = 40.0,
               batch: int = 16, block: int = 64, lr: float = 3e-3, seed: int = 0, eval_every: int = 25,
               eval_blocks: int = 16, progress: Optional[Callable[[int, int, dict], None]] = None
               ) -> dict[str, StudentRun]:
    """Train a hard-label student and a distilled student IN LOCKSTEP: step i of both uses
    the same batch, and the time budget stops both after the same number of steps, so the
    comparison stays fair even on a busy machine. `make()` returns a fresh student; it is
    called twice after the same torch seed, so both start from identical weights."""
    torch.manual_seed(seed)
    runs = {}
    for name, mode, al in (("hard labels", "hard", 0.0), ("distilled", "soft", alpha)):
        torch.manual_seed(seed)
        m = make()
        runs[name] = StudentRun(mode, m)
        runs[name].extra = {"alpha": al, "opt": torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.0)}
        runs[name].val_ppl.append((0, perplexity(m, val_ids, block, eval_blocks)))
        m.train()
    dev = next(teacher.parameters()).device
    t0 = time.perf_counter()
    for step, (x, y) in enumerate(batches(train_ids, batch, block, steps, seed), start=1):
        x, y = x.to(dev), y.to(dev)
        t_logits = None
        for r in runs.values():
            logits = r.model(x).logits                                        # (B, T, V)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            if r.mode == "soft":
                if t_logits is None:
                    with torch.no_grad():
                        t_logits = teacher(x).logits                          # teacher frozen
                loss, _ = distillation_loss(logits, t_logits, y, T, r.extra["alpha"])
            else:
                loss = ce
            opt = r.extra["opt"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(r.model.parameters(), 1.0)
            opt.step()
            r.losses.append(loss.item())
            r.ce.append(ce.item())
            r.steps = step
        elapsed = time.perf_counter() - t0
        last = step == steps or elapsed >= max_seconds
        if step % eval_every == 0 or last:
            for r in runs.values():
                r.val_ppl.append((step, perplexity(r.model, val_ids, block, eval_blocks)))
                r.model.train()
        if progress:
            progress(step, steps, {"ce_hard": runs["hard labels"].ce[-1], "ce_distilled": runs["distilled"].ce[-1],
                                   "seconds": elapsed})
        if elapsed >= max_seconds and step < steps:
            for r in runs.values():
                r.stopped_by = "time"
            break
    for r in runs.values():
        r.seconds = time.perf_counter() - t0
        r.extra.pop("opt")
        r.model.eval()
    return runs
