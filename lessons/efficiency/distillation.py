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

from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from lessons.core.loop import Progress, Run, ShouldStop, StopReason, run_loop
from lessons.core.perplexity import perplexity
from lessons.core.rng import seeded
from lessons.core.tensors import entropy_bits
from lessons.core.tensors import param_count as n_params  # noqa: F401  (the page's kd.n_params)
from lessons.core.timing import ms_per_forward  # noqa: F401  (the page shows kd.ms_per_forward)


# --------------------------------------------------------------------------- temperature
def softmax_t(logits: torch.Tensor, T: float = 1.0) -> torch.Tensor:
    """softmax(z / T) over the last dim. T -> 0: one-hot on the argmax; T -> inf: uniform."""
    if T <= 0:
        raise ValueError("temperature must be > 0")
    return torch.softmax(logits.float() / T, dim=-1)


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
def make_student(teacher_config, n_layer: int = 2, n_embd: int = 64, n_head: int = 2, seed: int = 0):
    """A fresh GPT-2 with the teacher's vocabulary and context but fewer/narrower layers."""
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=teacher_config.vocab_size, n_positions=teacher_config.n_positions,
                     n_layer=n_layer, n_embd=n_embd, n_head=n_head, resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, bos_token_id=teacher_config.bos_token_id,
                     eos_token_id=teacher_config.eos_token_id, tie_word_embeddings=True)
    with seeded(seed):          # one at a time: concurrent sessions get their seed's weights
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
    """One student's training: the curves the page plots, and the shared run loop's
    :class:`~lessons.core.loop.Run` (steps, seconds, why it ended). The two students of
    :func:`train_pair` share one Run: they train in lockstep."""

    mode: str                     # "soft" (distilled) or "hard" (plain next-token CE)
    model: torch.nn.Module
    losses: list[float] = field(default_factory=list)     # the training objective per step
    ce: list[float] = field(default_factory=list)         # hard-label CE per step (comparable)
    val_ppl: list[tuple[int, float]] = field(default_factory=list)  # (step, perplexity)
    run: Run = field(default_factory=lambda: Run(0, 0.0))
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.run.steps_done

    @property
    def seconds(self) -> float:
        return self.run.seconds

    @property
    def stopped(self) -> Optional[StopReason]:
        return self.run.stopped


def _evaluate(runs, step: int, val_ids: torch.Tensor, block: int, eval_blocks: int) -> None:
    for r in runs:
        r.val_ppl.append((step, perplexity(r.model, val_ids, block, eval_blocks)))
        r.model.train()


def _train_students(runs: list[StudentRun], teacher, train_ids, val_ids, *, T, steps, max_seconds, batch, block,
                    seed, eval_every, eval_blocks, progress, should_stop, metrics) -> None:
    """The students in ``runs`` trained in lockstep on the same batches, on ONE run of the shared
    run loop; validation perplexity every ``eval_every`` steps and after the last step."""
    dev = next(runs[0].model.parameters()).device
    data = batches(train_ids, batch, block, steps, seed)
    run = Run(steps, max_seconds)
    for r in runs:
        r.run = run
        r.model.train()

    def step(i: int) -> Optional[dict]:
        x, y = next(data)                                                    # (B, T), y = x shifted by one
        x, y = x.to(dev), y.to(dev)
        t_logits, parts = None, []
        for r in runs:
            logits = r.model(x).logits                                       # z_s: (B, T, V)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))   # CE(z_s, y)
            if r.mode == "soft":
                if t_logits is None:
                    with torch.no_grad():
                        t_logits = teacher(x).logits                         # z_t: (B, T, V), teacher frozen
                loss, _ = distillation_loss(logits, t_logits, y, T, r.extra["alpha"])  # a T^2 KL(p_T||q_T) + (1-a) CE
            else:
                loss = ce
            r.extra["opt"].zero_grad(set_to_none=True)
            loss.backward()                                                  # dL/dtheta_s
            parts.append((loss, ce))
        if should_stop is not None and should_stop():
            for r in runs:
                r.extra["opt"].zero_grad(set_to_none=True)
            return None                                                      # stopped: no student updated
        for r, (loss, ce) in zip(runs, parts):
            torch.nn.utils.clip_grad_norm_(r.model.parameters(), 1.0)
            r.extra["opt"].step()                                            # theta_s <- AdamW(theta_s, g)
            r.losses.append(loss.item())
            r.ce.append(ce.item())
        if i % eval_every == 0:
            _evaluate(runs, i, val_ids, block, eval_blocks)
        return metrics()

    run_loop(step, steps=steps, max_seconds=max_seconds, progress=progress, should_stop=should_stop, run=run)
    settle(runs, val_ids)


def settle(runs, val_ids: torch.Tensor) -> None:
    """End-of-run bookkeeping for students trained by :func:`train_pair` / :func:`train_student`:
    the step the run ended on gets its validation perplexity, the optimisers go, the students go
    to eval mode. Also finishes students whose run was cut off from outside (a page whose script
    was ended by a Stop click while the loop was inside ``progress``): their run is marked
    STOPPED. Idempotent."""
    runs = list(runs.values()) if isinstance(runs, dict) else list(runs)
    if not runs:
        return
    run = runs[0].run
    if run.stopped is None:          # never told by the loop how it ended: ended from outside
        run.stopped = StopReason.STOPPED
    if runs[0].val_ppl[-1][0] != run.steps_done:   # the step the run ended on is always evaluated
        _evaluate(runs, run.steps_done, val_ids, runs[0].extra["block"], runs[0].extra["eval_blocks"])
    for r in runs:
        r.extra.pop("opt", None)
        r.model.eval()


def _new_run(mode: str, model, alpha: float, lr: float, val_ids, block: int, eval_blocks: int) -> StudentRun:
    r = StudentRun(mode, model, extra={"alpha": alpha, "block": block, "eval_blocks": eval_blocks,
                                       "opt": torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)})
    r.val_ppl.append((0, perplexity(model, val_ids, block, eval_blocks)))
    return r


def train_student(student, teacher, train_ids: torch.Tensor, val_ids: torch.Tensor, *,
                  mode: str = "soft", T: float = 2.0, alpha: float = 1.0, steps: int = 100,
                  max_seconds: float = 25.0, batch: int = 16, block: int = 64, lr: float = 3e-3,
                  seed: int = 0, eval_every: int = 25, eval_blocks: int = 16,
                  progress: Progress = None, should_stop: ShouldStop = None) -> StudentRun:
    """Train `student` in place (give it a fresh model) for at most `steps` / `max_seconds`,
    on the shared run loop: ``progress(row, run)`` after every step (row: "loss", "ce"), stop
    only through ``should_stop()``. The teacher is only read (eval mode, no_grad): it is never
    changed. The batches come from a private generator seeded with ``seed``."""
    if mode not in ("soft", "hard"):
        raise ValueError("mode is 'soft' or 'hard'")
    r = _new_run(mode, student, alpha, lr, val_ids, block, eval_blocks)
    _train_students([r], teacher, train_ids, val_ids, T=T, steps=steps, max_seconds=max_seconds, batch=batch,
                    block=block, seed=seed, eval_every=eval_every, eval_blocks=eval_blocks, progress=progress,
                    should_stop=should_stop, metrics=lambda: {"loss": r.losses[-1], "ce": r.ce[-1]})
    return r


# The distillation page's default settings (pages/w3_distillation.py reads them; its recorded run,
# lessons/efficiency/recorded.py, is of them): temperature, alpha, steps, the student's shape, seed.
PAGE_DEFAULTS = {"T": 2.0, "alpha": 0.7, "steps": 150, "layers": 2, "width": 64, "seed": 0}
# The pages' slices of the plays: the training plays' first 200,000 characters, the held-out plays' 40,000.
TRAIN_CHARS, VAL_CHARS = 200_000, 40_000


def eval_every(steps: int) -> int:
    """How often the page measures validation perplexity: six times per run, at least every 5 steps."""
    return max(steps // 6, 5)


def page_ids(tokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    """(train ids, validation ids) as 1-D LongTensors: the distillation and pruning pages' slices of
    the training and of the held-out plays, tokenized with the tiny GPT's own BPE."""
    from lessons import corpus

    return (token_ids(tokenizer, corpus.shakespeare_text("train")[:TRAIN_CHARS]),
            token_ids(tokenizer, corpus.shakespeare_text("validation")[:VAL_CHARS]))


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
               eval_blocks: int = 16, progress: Progress = None, should_stop: ShouldStop = None,
               runs: Optional[dict] = None) -> dict[str, StudentRun]:
    """Train a hard-label student and a distilled student IN LOCKSTEP on the shared run loop:
    step i of both uses the same batch, and the time budget (or a Stop) ends both after the
    same number of steps, so the comparison stays fair even on a busy machine. `make()`
    returns a fresh student; it is called twice from the same torch seed, so both start from
    identical weights. ``progress(row, run)`` after every step (row: "ce_hard", "ce_distilled").
    ``runs``: a dict the caller owns (a page's session state), filled with the two students
    before the first step, so a caller whose run is cut off mid-way still holds them (finish
    them with :func:`settle`)."""
    runs = {} if runs is None else runs
    for name, mode, al in (("hard labels", "hard", 0.0), ("distilled", "soft", alpha)):
        with seeded(seed):      # both students from the same random weights
            m = make()
        runs[name] = _new_run(mode, m, al, lr, val_ids, block, eval_blocks)
    hard, soft = runs["hard labels"], runs["distilled"]
    _train_students([hard, soft], teacher, train_ids, val_ids, T=T, steps=steps, max_seconds=max_seconds,
                    batch=batch, block=block, seed=seed, eval_every=eval_every, eval_blocks=eval_blocks,
                    progress=progress, should_stop=should_stop,
                    metrics=lambda: {"ce_hard": hard.ce[-1], "ce_distilled": soft.ce[-1]})
    return runs
