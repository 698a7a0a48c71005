"""Models and tokenizers built one at a time per process, and transformers imported once, under
one lock.

Streamlit runs every session in its own thread, and transformers (5.x) is not safe to import or
load from several threads at once. Seen with four threads loading four models in a fresh process
(tests/unit/models/test_import_race.py), and on a fresh install with two learners opening two
lessons at once:
* ``ImportError: cannot import name 'AutoModelForCausalLM' from 'transformers'``: a second thread
  got the lazy top-level module while the first was still building it;
* ``ImportError: cannot import name 'PreTokenizer' from partially initialized module
  'tokenizers.pre_tokenizers'``: Python's import locks hand a half-imported module to a thread
  that would otherwise deadlock;
* ``NotImplementedError: Cannot copy out of meta tensor``: from_pretrained builds on the meta
  device with process-wide state.
So every loader builds its model inside :func:`loading` (a process-wide re-entrant lock: the
shared models load once per process, so the wait is short and rare), and the page layer calls
:func:`transformers_ready` after each page (ui/common.sidebar), so that the imports the lessons
make later find transformers complete.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

_LOCK = threading.RLock()
_READY = False


def transformers_ready() -> None:
    """Import transformers completely, once; other threads wait here until it is done."""
    global _READY
    if _READY:
        return
    with _LOCK:
        if not _READY:
            import transformers  # noqa: F401

            _READY = True


@contextmanager
def loading():
    """``with loading(): from transformers import ...; ....from_pretrained(...)``: one model or
    tokenizer built at a time in this process, transformers imported first."""
    with _LOCK:
        transformers_ready()
        yield
