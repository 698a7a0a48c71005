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


def _load(name: str) -> dict:
    return json.loads((ROOT / "assets" / "measured" / f"{name}.json").read_text())


def test_every_benchmark_row_reads_its_file_and_a_changed_figure_changes_it():
    files = {f: _load(f) for f in ("startup", "interaction", "rlhf")}
    table = readme_measured.benchmarks(files)
    assert "not measured" not in table, table
    for file, run, key, *_ in readme_measured.BENCHMARKS:
        assert key in files[file]["runs"][run], (file, key)          # a renamed figure is caught here
        changed = json.loads(json.dumps(files))
        changed[file]["runs"][run][key] = files[file]["runs"][run][key] * 3 + 7
        assert readme_measured.benchmarks(changed) != table, key
    assert "not measured: run `bench/rlhf.py --save`" not in table
    assert "not measured: run `bench/startup.py --save`" in readme_measured.benchmarks({k: v for k, v in files.items()
                                                                                         if k != "startup"})


def test_reliability_and_classroom_tables_follow_their_files():
    rel = _load("reliability")
    before = readme_measured.reliability(rel)
    next(iter(rel["runs"].values()))["exceptions"] = 3
    assert readme_measured.reliability(rel) != before and "3 / 0 / 0" in readme_measured.reliability(rel)
    room = _load("classroom")
    before = readme_measured.classroom(room)
    r = next(r for r in room["runs"].values() if r["learners"] >= 30)
    r["interaction_p95_s"] = 99.0
    after = readme_measured.classroom(room)
    bound = readme_measured.p95_target_s(r["learners"])
    assert after != before and f"p95 ≤ {bound} s: **not met**" in after
    assert (readme_measured.p95_target_s(30), readme_measured.p95_target_s(60)) == (1, 2)   # issue 25's targets


# The figures a learner feels, measured with the code that runs on every page as it is now: a change
# to app.py, the class features, the chart helper or the server's config makes them stale until the
# benches run again (their --save stamps bench/_timing.every_page_code()).
FELT = [("interaction", "all", "bench/interaction.py --save"),
        ("classroom", "30 learners (6 training), 1 process", "bench/classroom.py --learners 30 --trainers 6 --save")]


def test_the_figures_a_learner_feels_were_measured_with_the_current_every_page_code():
    from bench._timing import every_page_code

    now = every_page_code()
    for file, run, command in FELT:
        r = _load(file)["runs"].get(run)
        assert r is not None, f"{file}.json has no run {run!r}: run {command}"
        assert r.get("every_page_code") == now, (
            f"{file}.json run {run!r} was measured with other every-page code ({r.get('every_page_code')}, now "
            f"{now}): run `GENAI_LAB_QWEN=off .venv/bin/python {command}`, then scripts/readme_measured.py")


def test_the_readme_quotes_no_measured_figure_outside_its_block():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    outside = readme_measured._BLOCK.sub("", text)
    for stale in ("2 min 46 s", "42 min", "1/20 (5 %)", "11/20 (55 %)", "+55", "+70",
                  # the benchmark, reliability and classroom tables as they were typed by hand
                  "69 / 162 ms", "16.5 ms / 0.82 s", "0.25–0.35 s", "572 over 100", "1,124 page reruns",
                  "0.16 / **0.80 s**", "0.30 / **1.36 s**", "measured 86 %"):
        assert stale not in outside, stale
