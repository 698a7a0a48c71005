"""The course map: which lesson pages exist, in which week, in which order.

It is built by reading a small header at the top of every ``pages/*.py`` file, so the
navigation (app.py) and the course map on the Home page come from the same list and can
never name a page that does not exist. A header looks like this::

    # lesson: Attention, by hand and on real models
    # week: 1
    # order: 20
    # icon: 🔍
    # topics: self-attention, multi-head attention, causal mask
    # summary: One sentence a learner reads on the course map.

Pages whose file name starts with ``_`` or that carry no ``# lesson:`` line are not lessons
(the Home page has ``# week: 0``).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
WEEK_TITLES = {
    0: "GenAI Lab",
    1: "Week 1 · Transformers & prompting",
    2: "Week 2 · Fine-tuning & evaluation",
    3: "Week 3 · RLHF & applications",
}
_FIELD = re.compile(r"^#\s*(lesson|week|order|icon|topics|summary|url)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Lesson:
    path: Path          # absolute path of the page script
    title: str
    week: int
    order: int
    icon: str = "📘"
    topics: tuple[str, ...] = field(default_factory=tuple)
    summary: str = ""
    url: str = ""

    @property
    def rel_path(self) -> str:
        """Path relative to the repo root, as st.Page / st.page_link / AppTest want it."""
        return f"pages/{self.path.name}"


def parse_header(path: Path) -> Lesson | None:
    meta: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            m = _FIELD.match(line)
            if m:
                meta[m.group(1)] = m.group(2)
    if "lesson" not in meta or "week" not in meta:
        return None
    return Lesson(
        path=path,
        title=meta["lesson"],
        week=int(meta["week"]),
        order=int(meta.get("order", 100)),
        icon=meta.get("icon", "📘"),
        topics=tuple(t.strip() for t in meta.get("topics", "").split(",") if t.strip()),
        summary=meta.get("summary", ""),
        url=meta.get("url", "") or path.stem.split("_", 1)[-1].replace("_", "-"),
    )


# {pages folder: (when the stamp was last read, each file's name and mtime, the lessons parsed from
# them)}. The app asks for the lessons several times on every rerun of every session (navigation, the
# page's own entry, Home's course map); parsing every header each time was a large share of a Home
# rerun, and so was listing and stat-ing every page file each time. The stamp is read again at most
# every STAMP_TTL_S seconds: a page that is added, removed or edited shows on a rerun a second later.
_DISCOVERED: dict[Path, tuple[float, tuple, tuple]] = {}
STAMP_TTL_S = 1.0


def discover(pages_dir: Path = PAGES_DIR) -> list[Lesson]:
    """All pages, sorted by (week, order, title)."""
    folder = Path(pages_dir)
    hit = _DISCOVERED.get(folder)
    now = time.monotonic()
    if hit is not None and now - hit[0] < STAMP_TTL_S:
        return list(hit[2])
    files = [p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in files)
    if hit is not None and hit[1] == stamp:
        lessons = hit[2]
    else:
        found = [lesson for lesson in map(parse_header, files) if lesson is not None]
        lessons = tuple(sorted(found, key=lambda l: (l.week, l.order, l.title)))
    _DISCOVERED[folder] = (now, stamp, lessons)  # one atomic assignment: safe for concurrent sessions
    return list(lessons)


def by_week(lessons: list[Lesson] | None = None) -> dict[int, list[Lesson]]:
    lessons = discover() if lessons is None else lessons
    weeks: dict[int, list[Lesson]] = {}
    for l in lessons:
        weeks.setdefault(l.week, []).append(l)
    return dict(sorted(weeks.items()))
