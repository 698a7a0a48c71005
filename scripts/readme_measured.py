"""The README's measured figures, written from assets/measured/*.json (never typed by hand).

    .venv/bin/python scripts/readme_measured.py           # rewrite the blocks in README.md
    .venv/bin/python scripts/readme_measured.py --check   # exit 1 when a block differs from its file

A block sits between ``<!-- measured:NAME -->`` and ``<!-- /measured:NAME -->`` in README.md; its
text is rendered from the file that the bench which measures it writes (see BLOCKS).
tests/unit/test_readme_measured.py fails when a block and its file disagree, so a bench that is
run again with --save updates the README with one command and a stale figure cannot stay.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
README = ROOT / "README.md"


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _frac(r: dict) -> str:
    return f"{r['correct']}/{r['n']} ({_pct(r['accuracy'])})"


def week3_apps(data: dict) -> str:
    """bench/week3_apps.py --save: the table of direct / CoT / PAL, ReAct and RAG per model."""
    lines = [f"Measured {data['date']} ({data['machine']}); decoding: {data['decoding']}.", "",
             "| Model | Direct | Chain-of-thought | PAL | ReAct solved | RAG with context | RAG without | wall / CPU |",
             "|---|---|---|---|---|---|---|---|"]
    for name, m in data["models"].items():
        r, a, g = m["reasoning"], m["react"], m["rag"]
        lines.append(f"| {name} | {_frac(r['direct'])} | {_frac(r['cot'])} | {_frac(r['pal'])} | "
                     f"{a['success']}/{a['n']} ({_pct(a['success_rate'])}) | {_frac(g['with_context'])} | "
                     f"{_frac(g['without_context'])} | {m['total']['wall_s']:.0f} s / {m['total']['cpu_s']:.0f} s |")
    lines += ["", data.get("note", ""), ""]
    name, m = next(iter(data["models"].items()))           # the stronger model is measured first
    r, g = m["reasoning"], m["rag"]
    pts = {k: round(100 * (r[k]["accuracy"] - r["direct"]["accuracy"])) for k in ("cot", "pal")}
    rag = round(100 * (g["with_context"]["accuracy"] - g["without_context"]["accuracy"]))
    lines.append(f"Targets for the stronger model ({name}): chain-of-thought or PAL beats direct by >= 15 points: "
                 f"**{'met' if max(pts.values()) >= 15 else 'not met'}** (PAL {pts['pal']:+d}, chain-of-thought "
                 f"{pts['cot']:+d} points); RAG with context beats without by >= 30 points: "
                 f"**{'met' if rag >= 30 else 'not met'}** ({rag:+d}). ReAct: " + "; ".join(
                     f"{n} {x['react']['success']}/{x['react']['n']} solved, a tool called in "
                     f"{x['react']['used_a_tool']} of {x['react']['n']} runs" for n, x in data["models"].items()) + ".")
    return "\n".join(lines).rstrip()


def suite(data: dict) -> str:
    """bench/suite.py --save: the wall and CPU time of `make test-fast` and `make test`."""
    rows = ["| Command | Tests | Result | Wall | CPU (all processes) | Measured |", "|---|---|---|---|---|---|"]
    for name, r in data["runs"].items():
        rows.append(f"| `{name}` | {r['tests']:,} | {r['result']} | {r['wall_s'] / 60:.1f} min | "
                    f"{r['cpu_s'] / 60:.1f} min | {r['date']}, {r['machine']} |")
    return "\n".join(rows)


BLOCKS = {"week3-apps": ("week3_apps.json", week3_apps), "suite": ("suite.json", suite)}
_BLOCK = re.compile(r"(<!-- measured:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(\n<!-- /measured:(?P=name) -->)", re.S)


def render(name: str) -> str:
    import json

    from lessons.core.measured import MEASURED_DIR

    file, fn = BLOCKS[name]
    return fn(json.loads((MEASURED_DIR / file).read_text(encoding="utf-8")))


def rewrite(text: str) -> tuple[str, list[str]]:
    """(the text with every block rendered, the names of the blocks that changed)."""
    changed = []

    def sub(m: re.Match) -> str:
        new = render(m["name"])
        if new != m["body"]:
            changed.append(m["name"])
        return m.group(1) + new + m.group(4)
    return _BLOCK.sub(sub, text), changed


def blocks(text: str) -> list[str]:
    return [m["name"] for m in _BLOCK.finditer(text)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new, changed = rewrite(text)
    if args.check:
        print("stale blocks: " + ", ".join(changed) if changed else "README blocks agree with assets/measured")
        return 1 if changed else 0
    README.write_text(new, encoding="utf-8")
    print("rewrote: " + (", ".join(changed) or "nothing"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
