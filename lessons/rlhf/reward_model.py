"""The reward model r_phi(x, y): a scalar score learned from pairwise preferences.

Bradley-Terry model of a labeler: the probability that y_w is preferred to y_l is

    P(y_w > y_l | x) = sigmoid(r_phi(x, y_w) - r_phi(x, y_l))
                     = softmax([r_phi(x, y_w), r_phi(x, y_l)])[0]

so the two rewards are the *logits* of a 2-way choice, and training maximises the likelihood
of the labeler's choices:

    loss(phi) = -E_(x, y_w, y_l) [ log sigmoid(r_phi(x, y_w) - r_phi(x, y_l)) ]

Only differences of rewards matter (adding a constant changes nothing), so after training we
standardise the scores (mean 0, std 1 on the training texts) before PPO uses them.

Architecture -- small, fast, and able to generalise from a few hundred pairs: a *frozen*
encoder (all-MiniLM-L6-v2 in the app) turns every word of the completion into a meaning
vector (cached per word); the completion's feature is the **sum of its word vectors** (a
"bag of word meanings", 384 numbers), and a linear head on it gives r_phi. A linear probe
on word meanings picks up directions such as sentiment from few examples, and a sum lets
the score grow with the number of (positive, short, ...) words, like the labelers' rules.
The prompt x is the same for both sides of a pair, so this reward model reads only y.
We tried pooled hidden states of the tiny GPT and pooled MiniLM sentence embeddings first:
both overfit a few hundred pairs (held-out accuracy near 0.6) and PPO gamed them at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from lessons.core.generate import pad_id
from lessons.core.loop import Progress, Run, ShouldStop, StopReason, run_loop
from lessons.core.rng import seeded
from lessons.rlhf.preferences import PreferencePair, split_pairs


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(r_w - r_l), averaged over pairs. (N,), (N,) -> scalar."""
    return -F.logsigmoid(r_chosen - r_rejected).mean()


WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)   # words, and each other symbol (emoji, punctuation)
MAX_WORDS = 64


def words_of(text: str) -> list[str]:
    return WORD_RE.findall((text or "").lower())[:MAX_WORDS]


class RewardModel(nn.Module):
    """r_phi(x, y) = w . sum_{word in y} e(word) + b, with e() a frozen encoder's word vector."""

    def __init__(self, encoder: nn.Module, tokenizer, seed: int = 0):
        super().__init__()
        self._encoder = [encoder]  # not registered: frozen, shared, never trained here
        self.tokenizer = tokenizer
        cfg = encoder.config
        self.n_features = cfg.hidden_size if hasattr(cfg, "hidden_size") else cfg.n_embd
        with seeded(seed):                          # nn.Linear's init draws from torch's generator
            self.head = nn.Linear(self.n_features, 1)   # phi: H + 1 parameters
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("feat_mu", torch.zeros(self.n_features))
        self.register_buffer("feat_sd", torch.ones(self.n_features))
        self.register_buffer("r_mean", torch.zeros(()))
        self.register_buffer("r_std", torch.ones(()))
        self._word_vec: dict[str, torch.Tensor] = {}
        self._pad = pad_id(tokenizer)

    @property
    def encoder(self) -> nn.Module:
        return self._encoder[0]

    @torch.no_grad()
    def _encode_words(self, words: list[str], batch_size: int = 256) -> None:
        """e(word): the encoder's last hidden states averaged over the word's own tokens."""
        m = self.encoder
        dev = next(m.parameters()).device
        base = getattr(m, "base_model", m)          # skip an LM head: we only need hidden states
        for s in range(0, len(words), batch_size):
            chunk = words[s:s + batch_size]
            enc = self.tokenizer(chunk, padding=len(chunk) > 1, return_tensors="pt", add_special_tokens=True)
            ids, att = enc["input_ids"].to(dev), enc["attention_mask"].to(dev)
            h = base(input_ids=ids, attention_mask=att).last_hidden_state          # (b, L, H)
            w = att[..., None].float()
            vecs = ((h * w).sum(1) / w.sum(1).clamp(min=1)).float().cpu()          # (b, H)
            self._word_vec.update(zip(chunk, vecs))

    @torch.no_grad()
    def features(self, prompts: list[str], completions: list[str]) -> torch.Tensor:
        """(N,) completions -> (N, H): the sum of their word vectors (zeros for no words)."""
        bags = [words_of(c) for c in completions]
        new = sorted({w for b in bags for w in b} - self._word_vec.keys())
        if new:
            # a tokenizer without a pad token (never mutate a shared one): one word at a time
            self._encode_words(new, 256 if self.tokenizer.pad_token_id is not None else 1)
        out = torch.zeros(len(completions), self.n_features)
        for i, b in enumerate(bags):
            for w in b:
                out[i] += self._word_vec[w]
        return out

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, H) features (summed word vectors) -> (N,) raw rewards r_phi."""
        return self.head((feats - self.feat_mu) / self.feat_sd).squeeze(-1)

    @torch.no_grad()
    def score(self, prompts: list[str], completions: list[str], normalized: bool = True) -> torch.Tensor:
        r = self(self.features(prompts, completions))
        return (r - self.r_mean) / self.r_std if normalized else r

    @torch.no_grad()
    def pair_view(self, pair: PreferencePair) -> dict:
        """The pair as a 2-way classification: logits [r_w, r_l] and their softmax."""
        r = self.score([pair.prompt, pair.prompt], [pair.chosen, pair.rejected], normalized=False)
        probs = torch.softmax(r, dim=0)
        return {"logits": r.tolist(), "probs": probs.tolist(),
                "p_chosen_sigmoid": float(torch.sigmoid(r[0] - r[1])),
                "loss": float(bradley_terry_loss(r[:1], r[1:]))}


@dataclass
class RMTrainResult(Run):
    """A reward-model training run (lessons.core.loop.Run): one history row per epoch,
    {"step" (= the epoch), "seconds", "loss"}, plus "train_acc" and "test_acc" on the epochs
    where they are measured (the first, every 10th and the last)."""

    train_acc: float = 0.0
    test_acc: float = 0.0
    n_train: int = 0
    n_test: int = 0
    feats: tuple = field(default=(), repr=False)   # (fw, fl, tw, tl) once computed: what finish() needs

    @property
    def curve(self) -> list[dict]:
        """The measured epochs: {"step", "seconds", "loss", "train_acc", "test_acc"} each."""
        return [row for row in self.history if "train_acc" in row]


def _pair_feats(rm: RewardModel, pairs: list[PreferencePair]) -> tuple[torch.Tensor, torch.Tensor]:
    prompts = [p.prompt for p in pairs]
    fw = rm.features(prompts, [p.chosen for p in pairs])
    fl = rm.features(prompts, [p.rejected for p in pairs])
    return fw, fl


def accuracy(rm: RewardModel, fw: torch.Tensor, fl: torch.Tensor) -> float:
    """Share of pairs where r_phi(y_w) > r_phi(y_l)."""
    if len(fw) == 0:
        return float("nan")
    with torch.no_grad():
        return float((rm(fw) > rm(fl)).float().mean())


def train_reward_model(rm: RewardModel, train: list[PreferencePair], test: list[PreferencePair],
                       epochs: int = 300, lr: float = 0.05, weight_decay: float = 1e-3,
                       max_seconds: float = 30.0, progress: Progress = None,
                       should_stop: ShouldStop = None, run: RMTrainResult | None = None) -> RMTrainResult:
    """Full-batch Adam on the Bradley-Terry loss on the shared run loop (lessons.core.loop),
    bounded by epochs and seconds; ``progress(row, result)`` after every epoch. The scores are
    standardised on the training texts at the end, also after a Stop (:func:`finish_training`).
    ``run``: a result the caller owns (a page's session state), so that a caller whose run is
    cut off mid-way still holds it and can finish it with :func:`finish_training`."""
    if not train:
        raise ValueError("The reward model needs at least one training pair.")
    res = run if run is not None else RMTrainResult(epochs, max_seconds)
    res.n_train, res.n_test = len(train), len(test)
    fw, fl = _pair_feats(rm, train)              # (N, H) each: chosen, rejected
    tw, tl = _pair_feats(rm, test) if test else (torch.zeros(0, rm.n_features),) * 2
    allf = torch.cat([fw, fl])                   # (2N, H)
    rm.feat_mu.copy_(allf.mean(0))
    rm.feat_sd.copy_(allf.std(0).clamp(min=1e-4) if len(allf) > 1 else torch.ones(rm.n_features))
    res.feats = (fw, fl, tw, tl)
    opt = torch.optim.Adam(rm.head.parameters(), lr=lr, weight_decay=weight_decay)

    def step(epoch: int) -> dict:
        loss = bradley_terry_loss(rm(fw), rm(fl))     # -log sigmoid(r_phi(y_w) - r_phi(y_l)), (N,) -> scalar
        opt.zero_grad()
        loss.backward()                               # dL/dphi
        opt.step()                                    # phi <- Adam(phi, dL/dphi)
        row = {"loss": loss.item()}
        if epoch == 1 or epoch % 10 == 0 or epoch == epochs:
            row.update(train_acc=accuracy(rm, fw, fl), test_acc=accuracy(rm, tw, tl))
        return row

    run_loop(step, steps=epochs, max_seconds=max_seconds, progress=progress, should_stop=should_stop, run=res)
    return finish_training(rm, res)


def finish_training(rm: RewardModel, res: RMTrainResult) -> RMTrainResult:
    """Standardise the scores (mean 0, std 1 on the training texts) and measure the final
    accuracies. Also finishes a run cut off from outside (then marked STOPPED); its last epoch
    gets its accuracies in the curve. Needs the features (a run cut off before them raises)."""
    if not res.feats:
        raise ValueError("This run was stopped before its features were computed: nothing to finish.")
    fw, fl, tw, tl = res.feats
    if res.stopped is None:             # never told by the loop how it ended: ended from outside
        res.stopped = StopReason.STOPPED
    with torch.no_grad():
        r = rm(torch.cat([fw, fl]))
        rm.r_mean.copy_(r.mean())
        rm.r_std.copy_(r.std().clamp(min=1e-4) if len(r) > 1 else torch.ones(()))
    res.train_acc, res.test_acc = accuracy(rm, fw, fl), accuracy(rm, tw, tl)
    if res.history and "train_acc" not in res.history[-1]:      # the curve ends where the run ended
        res.history[-1].update(train_acc=res.train_acc, test_acc=res.test_acc)
    return res


def fit_on_pairs(encoder: nn.Module, tokenizer, pairs: list[PreferencePair], seed: int = 0,
                 epochs: int = 300, progress: Progress = None, should_stop: ShouldStop = None,
                 live: dict | None = None) -> tuple[RewardModel, RMTrainResult]:
    """The app's recipe: hold out ~20% of the pairs by prompt, train r_phi on the rest.
    ``live``: a dict the caller owns, given {"rm", "result"} before training starts (see
    :func:`train_reward_model`)."""
    train, test = split_pairs(pairs, 0.2, seed)
    rm = RewardModel(encoder, tokenizer, seed=seed)
    res = RMTrainResult(epochs, 30.0)
    if live is not None:
        live.update(rm=rm, result=res)
    return rm, train_reward_model(rm, train, test, epochs=epochs, progress=progress, should_stop=should_stop,
                                  run=res)
