"""The fuzz corpus and the page checks behind tests/app/test_fuzz_inputs.py.

Everything here is generic: the inputs of a page are found in its AppTest element tree
(text inputs, text areas, number inputs, file uploaders), including inputs that only appear
after a radio / selectbox / toggle / checkbox is changed, so a new page is fuzzed with no
new test code. Buttons are never pressed (no training, no generation)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# Every hostile entry carries the marker "FZ" so that the checks can tell learner text from
# the page's own text.
CORPUS: dict[str, str] = {
    "empty": "",
    "whitespace": " \t\n \u3000\u00a0 \n",
    "chars_20000": ("FZ lorem ipsum dolor sit amet " * 700)[:20_000],
    "long_word": "FZ" + "Supercalifragilistic" * 400,
    # Benign text outside Latin script (the reference entry: it needs no message).
    "non_latin_emoji": "FZ مرحبا بالعالم، كيف حالك؟ 你好，世界。我喜欢机器学习 日本語 "
                       "👩‍👩‍👧‍👦 🧪🔥 🏳️‍🌈 ❤️‍🔥 🇫🇷 a👍🏽b",
    # Characters that are invisible, reorder text or control a terminal.
    "invisible_control": "FZ \u202eevil\u202c a\u200bb\u200cc\u200dd\ufeffe \u200f\u061c\u2066x\u2069 \u00ad"
                         " a\x00b\x01c\x07d\x1b[31mred\x1b[0m\x7f\r\ne\x0b\x0cf\x08",
    "html": "FZ <script>alert('FZ')</script><img src=x onerror=alert('FZ')>"
            "<a href=\"https://evil.example/FZ\">FZlink</a><b>FZbold</b>",
    "markdown_latex": "FZ $\\href{javascript:alert('FZ')}{FZtex}$ [FZx](javascript:alert('FZ')) "
                      "![FZi](https://evil.example/FZ.png) https://evil.example/FZ :red[FZred] "
                      "**FZbold** # FZhead\n\n$$\\def\\x{FZ}\\x$$",
}

# Patterns that mean learner text reached a renderer unescaped (markdown / HTML / KaTeX /
# Streamlit directive). md_escape() puts a backslash before every special character
# ("<script>" -> "\\<script\\>"), so an escaped rendering never matches.
MARKDOWN_DANGER = [re.compile(p) for p in (
    r"(?<!\\)<(?:script|img|a |b>FZbold)", r"(?<!\\)\]\((?:javascript|https)", r"https://evil\.example",
    r"\$\\href", r"\\href\{", r":red\[FZred", r"\*\*FZbold\*\*", r"\$\$\\def", r"(?<!\\)# FZhead")]
PLOTLY_DANGER = ["<script", "<img", "<a href", "<b>FZbold"]

NUMBER_EXTREMES = ("min", "max")

# Where Streamlit renders a string as markdown (labels, help tooltips, alerts, captions ...).
_MD_FIELDS = {"body", "label", "help", "captions", "labels", "options", "text", "title"}
# Nodes whose text is shown literally, or that are the learner's own input widgets.
_LITERAL_TYPES = {"text", "code", "exception", "text_input", "text_area", "dataframe", "arrow_data_frame",
                  "plotly_chart", "json", "selectbox", "multiselect", "select_slider", "number_input"}
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


def hostile_files(ext: str, limit_mb: int) -> dict[str, bytes]:
    """Files for an uploader that accepts `ext`: empty, binary renamed, wrong encoding, over
    the size limit, and a well-formed file whose cells are the hostile corpus entries."""
    cells = [v.replace('"', '""').replace("\x00", "") for k, v in CORPUS.items() if k != "chars_20000"]
    rows = ["candidate,reference"] + [f'"{c}","{c}"' for c in cells]
    rows += ['"=HYPERLINK(""https://evil.example/FZ"",""click"")","+1+1"', '"@SUM(A1)","-2+3"']
    return {
        f"empty.{ext}": b"",
        f"binary.{ext}": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        f"latin1.{ext}": "candidate,reference\ncafé crème,café\n".encode("latin-1"),
        f"utf16.{ext}": "candidate,reference\nhello,hello\n".encode("utf-16"),
        f"huge.{ext}": b"candidate,reference\n" + b"FZ,FZ\n" * (limit_mb * 1024 * 1024 // 6 + 10),
        f"hostile.{ext}": "\n".join(rows).encode("utf-8"),
    }


@dataclass
class Report:
    page: str
    inputs: set = field(default_factory=set)     # (type, label) of every input fuzzed
    tried: int = 0                                # (input, value) pairs driven through the page
    runs: int = 0
    problems: list = field(default_factory=list)

    def as_dict(self) -> dict:
        kinds = {}
        for t, _ in self.inputs:
            kinds[t] = kinds.get(t, 0) + 1
        return {"page": self.page, "inputs": len(self.inputs), "by_type": kinds, "tried": self.tried,
                "runs": self.runs, "problems": self.problems}


def _strings(msg, prefix=""):
    """(field name, string) for every string field of a protobuf message, recursively."""
    for fd, val in msg.ListFields():
        vals = list(val) if isinstance(val, (list, tuple)) or type(val).__name__.startswith("Repeated") else [val]
        for v in vals:
            if isinstance(v, str):
                yield fd.name, v
            elif hasattr(v, "ListFields"):
                yield from _strings(v, prefix + fd.name + ".")


def _plotly_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _plotly_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _plotly_strings(v)


def page_problems(at, entry: str) -> list[str]:
    """Everything wrong with what the page shows after fuzz entry `entry`."""
    out = []
    if at.exception:
        out.append(f"{entry}: exception element: {at.exception[0].value[:300]!r}")
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        ntype = getattr(node, "type", "")
        if ntype == "exception":
            continue
        strings = list(_strings(proto))
        for name, s in strings:
            if TRACEBACK.search(s) and ntype not in ("text_input", "text_area", "code"):
                out.append(f"{entry}: raw traceback in a {ntype}: {s[:200]!r}")
        if ntype == "plotly_chart":
            try:
                spec = json.loads(proto.spec)
            except ValueError:
                continue
            for s in _plotly_strings(spec):
                bad = [d for d in PLOTLY_DANGER if d in s]
                if bad:
                    out.append(f"{entry}: learner text as HTML in a plotly figure ({bad[0]}): {s[:120]!r}")
                    break
            continue
        allow_html = ntype == "html" or bool(getattr(proto, "allow_html", False))
        if allow_html and any("FZ" in s for _, s in strings):
            out.append(f"{entry}: learner text given to unsafe_allow_html / st.html in a {ntype}")
        if ntype in _LITERAL_TYPES:
            continue
        for name, s in strings:
            if name not in _MD_FIELDS or "FZ" not in s or (ntype == "metric" and name == "body"):
                continue
            bad = [d.pattern for d in MARKDOWN_DANGER if d.search(s)]
            if bad:
                out.append(f"{entry}: learner text rendered as markdown/HTML in a {ntype}.{name} "
                           f"({bad[0]!r}): {s[:160]!r}")
    return out


def alerts(at) -> list[str]:
    return [f"{kind}: {e.value}" for kind in ("error", "warning", "info") for e in getattr(at, kind)]


_WIDGET_TYPES = {"text_input", "text_area", "number_input", "file_uploader", "button", "radio", "selectbox",
                 "toggle", "checkbox", "slider", "select_slider", "multiselect", "download_button"}


def signature(at) -> int:
    """A hash of what the page shows outside its widgets: tells whether an input is used on
    rerun (a page that only reads a text box when a button is pressed does not change)."""
    parts = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ListFields") or getattr(node, "type", "") in _WIDGET_TYPES:
            continue
        parts += [s for _, s in _strings(proto)]
    return hash("\x1f".join(parts))
