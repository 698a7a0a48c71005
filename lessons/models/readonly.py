"""Shared models are READ-ONLY: loaders return frozen models, a learner trains a private
:func:`session_copy`, and :func:`state_fingerprint` proves the shared one did not change."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported lazily: the Home page renders without paying for it
    import torch


@dataclass
class LoadedModel:
    """A model with its tokenizer. ``name`` is shown in the UI."""

    name: str
    model: torch.nn.Module
    tokenizer: object
    device: str = "cpu"

    @property
    def n_params(self) -> int:
        from lessons.core.tensors import param_count

        return param_count(self.model)


# --------------------------------------------------------------------------- read-only / per-session
def freeze(model: torch.nn.Module) -> torch.nn.Module:
    """Make a loaded model read-only in code: eval mode and every parameter
    ``requires_grad=False``, so an optimizer or ``backward()`` on it fails loudly instead of
    changing the model every session shares. Every ``load_*`` here returns a frozen model."""
    model.eval()
    model.requires_grad_(False)
    return model


def session_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A private, trainable deep copy of a shared (read-only) model: train mode, every
    parameter ``requires_grad=True`` again."""
    clone = copy.deepcopy(model)
    clone.requires_grad_(True)
    clone.train()
    return clone


def state_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of every parameter; equal before and after means 'not changed'."""
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to("cpu").float().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
