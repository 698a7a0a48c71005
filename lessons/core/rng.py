"""Seeded randomness that stays reproducible while many sessions run at once.

torch has ONE CPU random generator per process, and Streamlit runs every session in a thread
of one process. `torch.manual_seed(s)` followed by a model init or `model.generate(...)`
draws from that shared generator, so two learners sampling at the same moment interleave
their draws and neither gets what their seed promises (tests/app/test_isolation.py caught
it on the domain-adaptation page). Wrap such blocks in :func:`seeded`: they run one at a
time, from the given seed, and leave the global generator as they found it. Code that can
take a private ``torch.Generator`` should do that instead (no lock needed).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

_LOCK = threading.RLock()


@contextmanager
def seeded(seed: int):
    """Run the block from torch's global generator seeded with `seed`, as if alone."""
    import torch

    with _LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield
