"""The README's measured figures are the ones in assets/measured (scripts/readme_measured.py)."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("readme_measured", ROOT / "scripts" / "readme_measured.py")
readme_measured = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_measured)


def test_every_measured_block_of_the_readme_agrees_with_its_file():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sorted(readme_measured.blocks(text)) == sorted(readme_measured.BLOCKS), \
        "each measured block appears once in README.md"
    _, changed = readme_measured.rewrite(text)
    assert not changed, f"README blocks {changed} differ from assets/measured: run scripts/readme_measured.py"


def test_a_changed_figure_changes_the_block():
    data = json.loads((ROOT / "assets" / "measured" / "week3_apps.json").read_text())
    before = readme_measured.week3_apps(data)
    first = next(iter(data["models"].values()))
    first["reasoning"]["cot"]["correct"] += 1
    assert readme_measured.week3_apps(data) != before
    suite = json.loads((ROOT / "assets" / "measured" / "suite.json").read_text())
    before = readme_measured.suite(suite)
    next(iter(suite["runs"].values()))["wall_s"] += 60
    assert readme_measured.suite(suite) != before


def test_the_readme_quotes_no_suite_or_week3_figure_outside_its_block():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    outside = readme_measured._BLOCK.sub("", text)
    for stale in ("2 min 46 s", "42 min", "1/20 (5 %)", "11/20 (55 %)", "+55", "+70"):
        assert stale not in outside, stale
