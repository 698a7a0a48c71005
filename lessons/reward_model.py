"""The reward model r_phi(x, y): a scalar score learned from pairwise preferences.

Bradley-Terry model of a labeler: the probability that y_w is preferred to y_l is

    P(y_w > y_l | x) = sigmoid(r_phi(x, y_w) - r_phi(x, y_l))
                     = softmax([r_phi(x, y_w), r_phi(x, y_l)])[0]

so the two rewards are the *logits* of a 2-way choice, and training maximises the likelihood
of the labeler's choices:

    loss(phi) = -E_(x, y_w, y_l) [ log sigmoid(r_phi(x, y_w) - r_phi(x, y_l)) ]

Only differences of rewards matter (adding a constant changes nothing), so after training we
standardise the scores (mean 0, std 1 on the training texts) before PPO uses them.

Architecture (small and fast on a CPU): a *frozen* tiny GPT reads prompt + completion; we
mean-pool, over the completion tokens, (a) its last hidden state and (b) its input token
embeddings, and a linear head on that 2H-vector gives r_phi. Features are computed once per
text, so training the head takes a fraction of a second. Pure PyTorch (no streamlit).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from lessons.preferences import PreferencePair


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(r_w - r_l), averaged over pairs. (N,), (N,) -> scalar."""
    return -F.logsigmoid(r_chosen - r_rejected).mean()


class RewardModel(nn.Module):
    """r_phi(x, y) = w . [mean_t h_t ; mean_t e(y_t)] + b  on a frozen feature model."""

    def __init__(self, feature_lm: nn.Module, tokenizer, seed: int = 0):
        super().__init__()
        self._backbone = [feature_lm]  # not registered: frozen, shared, never trained here
        self.tokenizer = tokenizer
        H = feature_lm.config.hidden_size if hasattr(feature_lm.config, "hidden_size") else feature_lm.config.n_embd
        self.n_features = 2 * H
        torch.manual_seed(seed)
        self.head = nn.Linear(self.n_features, 1)   # phi: 2H + 1 parameters
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("feat_mu", torch.zeros(self.n_features))
        self.register_buffer("feat_sd", torch.ones(self.n_features))
        self.register_buffer("r_mean", torch.zeros(()))
        self.register_buffer("r_std", torch.ones(()))
        self._pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)

    @property
    def backbone(self) -> nn.Module:
        return self._backbone[0]

    @torch.no_grad()
    def features(self, prompts: list[str], completions: list[str], batch_size: int = 64) -> torch.Tensor:
        """(N,) texts -> (N, 2H) pooled features over the completion tokens."""
        out = []
        m = self.backbone
        n_pos = getattr(m.config, "n_positions", None) or getattr(m.config, "max_position_embeddings", 512)
        emb = m.get_input_embeddings()
        dev = next(m.parameters()).device
        for s in range(0, len(completions), batch_size):
            rows, cmask = [], []
            for p, c in zip(prompts[s:s + batch_size], completions[s:s + batch_size]):
                p_ids = self.tokenizer.encode(p, add_special_tokens=False) if p else []
                c_ids = self.tokenizer.encode(c, add_special_tokens=False) if c else []
                ids = (p_ids + c_ids)[-n_pos:] or [self._pad]
                is_c = ([0] * len(p_ids) + [1] * len(c_ids))[-n_pos:] or [1]
                if not any(is_c):           # empty completion: pool the last prompt token
                    is_c[-1] = 1
                rows.append(ids)
                cmask.append(is_c)
            L = max(len(r) for r in rows)
            ids = torch.full((len(rows), L), self._pad, dtype=torch.long)
            att = torch.zeros((len(rows), L), dtype=torch.long)
            pool = torch.zeros((len(rows), L))
            for i, (r, cm) in enumerate(zip(rows, cmask)):
                ids[i, :len(r)] = torch.tensor(r)
                att[i, :len(r)] = 1
                pool[i, :len(r)] = torch.tensor(cm, dtype=torch.float)
            ids, att, pool = ids.to(dev), att.to(dev), pool.to(dev)
            h = m(input_ids=ids, attention_mask=att, output_hidden_states=True,
                  logits_to_keep=1).hidden_states[-1]                                      # (b, L, H)
            e = emb(ids)                                                                          # (b, L, H)
            w = (pool / pool.sum(1, keepdim=True))[..., None]                                     # (b, L, 1)
            out.append(torch.cat([(h * w).sum(1), (e * w).sum(1)], dim=-1).float().cpu())       # (b, 2H)
        return torch.cat(out) if out else torch.zeros(0, self.n_features)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, 2H) features -> (N,) raw rewards r_phi."""
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
class RMTrainResult:
    history: list[dict] = field(default_factory=list)   # epoch, loss, train_acc, test_acc
    train_acc: float = 0.0
    test_acc: float = 0.0
    seconds: float = 0.0
    n_train: int = 0
    n_test: int = 0


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
                       max_seconds: float = 30.0,
                       progress: Optional[Callable[[int, int, dict], None]] = None) -> RMTrainResult:
    """Full-batch Adam on the Bradley-Terry loss; bounded by epochs and seconds."""
    if not train:
        raise ValueError("The reward model needs at least one training pair.")
    t0 = time.time()
    fw, fl = _pair_feats(rm, train)              # (N, 2H) each
    tw, tl = _pair_feats(rm, test) if test else (torch.zeros(0, rm.n_features),) * 2
    allf = torch.cat([fw, fl])
    rm.feat_mu.copy_(allf.mean(0))
    rm.feat_sd.copy_(allf.std(0).clamp(min=1e-4) if len(allf) > 1 else torch.ones(rm.n_features))
    opt = torch.optim.Adam(rm.head.parameters(), lr=lr, weight_decay=weight_decay)
    res = RMTrainResult(n_train=len(train), n_test=len(test))
    for ep in range(1, epochs + 1):
        loss = bradley_terry_loss(rm(fw), rm(fl))     # -log sigmoid(r_w - r_l)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if ep == 1 or ep % 10 == 0 or ep == epochs:
            row = {"epoch": ep, "loss": loss.item(), "train_acc": accuracy(rm, fw, fl),
                   "test_acc": accuracy(rm, tw, tl)}
            res.history.append(row)
            if progress:
                progress(ep, epochs, row)
        if time.time() - t0 > max_seconds:
            break
    with torch.no_grad():                          # standardise: mean 0, std 1 on training texts
        r = rm(allf)
        rm.r_mean.copy_(r.mean())
        rm.r_std.copy_(r.std().clamp(min=1e-4) if len(r) > 1 else torch.ones(()))
    res.train_acc, res.test_acc = accuracy(rm, fw, fl), accuracy(rm, tw, tl)
    res.seconds = time.time() - t0
    return res
