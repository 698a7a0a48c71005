"""A run made now against its record: equal up to the rounding of floating-point sums, no more.

On the machine that made a record, the same run gives it bit for bit. On another CPU it does not:
the order in which a matrix product adds its terms depends on the instruction set and its kernels,
so sums differ in their last bits and a figure moves in its last significant digits (a loss near
zero moves most, relative to itself; tests/unit/test_floats.py holds real pairs). A learner's laptop
is any CPU, so the tests that compare a run with its record accept what rounding explains: a
relative difference of REL, or an absolute one of ABS for values near zero. Integers, text and
flags must be equal."""
from __future__ import annotations

import math
from typing import Any

REL = 1e-5
ABS = 1e-5


def close(a: float, b: float, rel: float = REL, abs_tol: float = ABS) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def same(a: Any, b: Any, rel: float = REL, abs_tol: float = ABS) -> bool:
    """``a == b`` where every float pair is compared with :func:`close` (dicts, lists, tuples nest)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel, abs_tol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rel, abs_tol) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):       # a flag is not the number 1
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and close(float(a), float(b), rel, abs_tol)
    return a == b
