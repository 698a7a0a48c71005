"""torch's CPU thread count for one block of work, in the calling thread.

``torch.set_num_threads`` acts on the CALLING thread (its OpenMP team). A training job, a
recorded run or a bench sets the count its result depends on (float sums run in another
order with another count) and gives the old one back afterwards (see ui/jobs.py: why each
job gets a budget)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the body with ``n`` torch CPU threads in THIS thread, then restore the old count
    (which also restores the process-wide seed that fresh threads start from)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
