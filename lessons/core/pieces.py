"""How a token piece reads: GPT-2's byte-level stand-ins decoded back to text, whitespace made
visible, and ``<E4 B8>``-style hex for a piece that holds only part of a multi-byte UTF-8
character. Used by every lesson that labels tokens (tokens, attention maps, next token); the
tokens lesson explains the byte table itself."""
from __future__ import annotations

from functools import lru_cache

BYTE_LEVEL = "byte-level BPE"
WORDPIECE = "WordPiece"


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (from openai/gpt-2 encoder.py).

    Printable Latin-1 bytes map to themselves; the other 68 bytes (control chars, space...)
    are shifted to code points 256+ so that every byte has a visible, non-whitespace char.
    """
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    return {c: b for b, c in bytes_to_unicode().items()}


def piece_bytes(piece: str) -> bytes | None:
    """The raw UTF-8 bytes behind a byte-level BPE token string, or None if the string is
    not made of byte stand-ins (a special token such as ``<|endoftext|>``)."""
    dec = _byte_decoder()
    try:
        return bytes(dec[c] for c in piece)
    except KeyError:
        return None


def _visible(text: str) -> str:
    """Make whitespace visible, so a learner sees that a space belongs to the next token."""
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥").replace("\r", "␍")


def readable_piece(piece: str, scheme: str) -> str:
    """A label a learner can read: decoded text for whole characters, ``<E4 B8>``-style hex
    for tokens that hold only part of a multi-byte UTF-8 character."""
    if scheme != BYTE_LEVEL:
        return piece
    raw = piece_bytes(piece)
    if raw is None:
        return piece  # special token
    # Bytes that do not form a whole character come back as surrogates (surrogateescape);
    # print those as hex, grouped: b" \xf0\x9f" -> "␣<F0 9F>".
    out, hexes = [], []
    for ch in raw.decode("utf-8", errors="surrogateescape"):
        if 0xDC80 <= ord(ch) <= 0xDCFF:
            hexes.append(f"{ord(ch) - 0xDC00:02X}")
            continue
        if hexes:
            out.append("<" + " ".join(hexes) + ">")
            hexes = []
        out.append(_visible(ch))
    if hexes:
        out.append("<" + " ".join(hexes) + ">")
    return "".join(out)


def is_partial(piece: str, scheme: str) -> bool:
    """True for a byte-level token that holds only part of a multi-byte character."""
    raw = piece_bytes(piece) if scheme == BYTE_LEVEL else None
    if raw is None:
        return False
    try:
        raw.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True
