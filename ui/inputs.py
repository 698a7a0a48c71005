"""Learner text: validated (empty -> a message, huge -> cut with a message) and never rendered
as HTML or markdown (md_escape)."""
from __future__ import annotations


import streamlit as st



MAX_TEXT_CHARS = 2000


# --------------------------------------------------------------------------- learner text
def clean_text(text: str | None, *, max_chars: int = MAX_TEXT_CHARS, what: str = "text",
               allow_empty: bool = False) -> str | None:
    """Validate learner input. Returns the text, or None after showing a clear message.
    The text is never rendered as HTML anywhere (use st.text/st.code/st.dataframe, or
    markdown-escape it with :func:`md_escape`)."""
    text = (text or "").replace("\x00", "")
    if not text.strip():
        if allow_empty:
            return ""
        st.info(f"Type some {what} to start.")
        return None
    if len(text) > max_chars:
        st.warning(f"The {what} is {len(text):,} characters long; only the first {max_chars:,} are used.")
        text = text[:max_chars]
    return text


_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$:"


def md_escape(text: str) -> str:
    """Escape text for st.markdown so learner input is shown literally (no HTML, no markdown)."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)
