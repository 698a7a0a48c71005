"""Page control shared by every page: the device picker in the sidebar, ending a page early
without losing the sidebar and questions (stop_page), a clear message instead of a missing
model's traceback, the "Try this" box and the measured-figures box.

Only ui/ and pages/ import streamlit; lessons/ stays pure Python.
"""
from __future__ import annotations

from typing import NoReturn

import streamlit as st

from lessons import models


DEVICE_KEY = "device_choice"
DEVICE_PREF = "device_pref"


# --------------------------------------------------------------------------- device
def device() -> str:
    """The device chosen in the sidebar ('auto' resolves to cuda > mps > cpu)."""
    choice = st.session_state.get(DEVICE_PREF, "auto")
    try:
        return models.pick_device(choice)
    except models.ModelUnavailable:
        return models.pick_device(None)


def _remember_device() -> None:
    st.session_state[DEVICE_PREF] = st.session_state[DEVICE_KEY]


def sidebar() -> None:
    # The choice is kept under a plain session key too: a run that ends early (stop_page() on
    # empty input) draws no sidebar, and Streamlit forgets the state of undrawn widgets.
    with st.sidebar:
        opts = ["auto"] + models.available_devices()
        models.transformers_ready()   # after the page, as torch: later runs import from it safely
        pref = st.session_state.get(DEVICE_PREF, "auto")
        st.selectbox(
            "Compute device",
            opts,
            index=opts.index(pref) if pref in opts else 0,
            key=DEVICE_KEY,
            on_change=_remember_device,
            help="auto picks cuda, then mps (Apple), then cpu. Every lesson runs on a laptop CPU.",
        )
        st.caption(f"Running on **{models.describe_device(device())}**")


class PageStopped(BaseException):
    """Raised by :func:`stop_page`; app.py catches it around the page. A BaseException so that a
    page's own ``except Exception`` cannot swallow it (like Streamlit's StopException)."""


def stop_page() -> NoReturn:
    """End this page's run here (after showing a message), like ``st.stop()``, but let app.py
    still draw what follows every page: the sidebar, the questions, the share link and the poll.
    ``st.stop()`` cannot do that: it leaves a STOP request that ends every later element call of
    the run, app.py's included. Pages and ui/ use this instead of ``st.stop()``."""
    raise PageStopped()


def show_model_error(exc: Exception) -> None:
    st.error(str(exc))


def model_or_stop(loader, *args):
    """`loader(*args)` (one of the cached loaders above), or a clear message on the page and
    the end of this run when the model is unavailable. Never a traceback."""
    try:
        return loader(*args)
    except models.ModelUnavailable as exc:
        show_model_error(exc)
        stop_page()


def try_this(*ideas: str) -> None:
    """A consistent 'Try this' box of small experiments."""
    with st.expander("🧪 Try this", expanded=False):
        for idea in ideas:
            st.markdown(f"- {idea}")


def measured_box(section: str, what: str) -> None:
    """The bench figures for this page (bench/week3_apps.py), dated: what the models really
    did on the app's labelled set, so a learner can compare a single run with the average."""
    from lessons.core import measured

    lines = measured.week3_lines(section)
    if not lines:
        return
    data = measured.week3_apps()
    st.info(f"**Measured on {what}** ({data.get('date', '')}, greedy, `bench/week3_apps.py`):\n\n"
            + "\n".join(f"- {ln}" for ln in lines))
