"""The feature table in CONTRIBUTING.md is the map of the house: one row per page, naming the
page, the lessons modules, the ui helpers, the tests and the benches of that feature. It is
checked against the tree, so it cannot drift: a new page without a row fails, a row that names
a moved file fails. Cheap: no model is loaded."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessons import course

ROOT = Path(__file__).resolve().parents[2]
THEMES = {"transformer", "decoding", "prompting", "pretraining", "evaluation", "finetune", "rlhf",
          "efficiency", "retrieval", "study"}
# Every URL a shared link may carry today. Pages may be added; none of these may disappear
# or change (links in teachers' slides and learners' notes must keep working).
SHARED_URLS = {
    "architectures", "attention-maps", "benchmarks", "constitutional-ai", "corpus-scoring",
    "data-quality", "distillation", "domain-adaptation", "dpo", "embeddings", "forgetting",
    "generation", "home", "in-context-learning", "lifecycle", "lora", "lora-training",
    "model-summaries", "next-token", "poll", "positional", "ppo", "preferences-reward",
    "pretraining-live", "pretraining-objectives", "prompt-tuning", "prompts-inference", "pruning",
    "quantization", "rag", "react", "reasoning", "reward-hacking", "rouge-bleu", "sampling",
    "scaling-laws", "self-attention", "teacher", "tokens",
}


def _table() -> dict[str, dict[str, list[str] | str]]:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Features", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for ln in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in ln.strip("|").split("|"))))
        rows[cells["feature"]] = {k: (v if k in ("feature", "theme") else re.findall(r"`([^`]+)`", v))
                                  for k, v in cells.items()}
    return rows


TABLE = _table()
LESSONS = course.discover()


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url for l in LESSONS])
def test_every_page_has_a_row_named_after_it(lesson):
    feature = lesson.url.replace("-", "_")
    assert feature in TABLE, f"{lesson.rel_path}: add a row for '{feature}' to CONTRIBUTING.md's feature table"
    row = TABLE[feature]
    assert row["page"] == [lesson.rel_path]
    assert row["theme"] in THEMES
    if lesson.week > 0:
        assert lesson.path.stem == f"w{lesson.week}_{feature}", "page files are pages/w<week>_<feature>.py"
        assert any(p.startswith(f"lessons/{row['theme']}/") for p in row["lessons"]), \
            f"{feature}: its lessons module lives in lessons/{row['theme']}/"
        assert row["unit tests"] or row["app tests"], f"{feature}: no test named"


@pytest.mark.parametrize("feature", sorted(TABLE))
def test_every_path_in_the_table_exists(feature):
    row = TABLE[feature]
    named = [p for k, v in row.items() if k not in ("feature", "theme") for p in v]
    assert named, feature
    assert [p for p in named if not (ROOT / p).is_file()] == []


def test_the_table_has_no_row_without_a_page():
    assert sorted(set(TABLE) - {l.url.replace("-", "_") for l in LESSONS}) == []


def test_shared_links_keep_their_urls():
    assert sorted(SHARED_URLS - {l.url for l in LESSONS}) == []


def test_test_folders_use_the_theme_names():
    """tests/unit/<x>/ and tests/app/<x>/ are themes (or the house's own: core, models, serving)."""
    for base in ("tests/unit", "tests/app"):
        folders = {p.name for p in (ROOT / base).iterdir() if p.is_dir() and p.name != "__pycache__"}
        assert folders <= THEMES | {"core", "models", "serving"}, (base, sorted(folders - THEMES))
