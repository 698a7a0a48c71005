"""scripts/record_class_defaults.py (issue 26 point 2): before class, every class-run training page's
default run is recorded into the server's database, so that a learner who presses Train with the
defaults is shown the finished run at once. The script finds the pages from their source; here it
records one page's defaults for real (a headless session, a real worker process), and a learner's
fresh session that then presses Train with the defaults gets that record, not a new run."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.app.helpers import assert_no_exception, open_page, texts
from ui import class_run_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pretraining-live"  # a training page whose default run is short


def _script():
    spec = importlib.util.spec_from_file_location("record_class_defaults", ROOT / "scripts" / "record_class_defaults.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_it_walks_every_class_run_training_page_and_refuses_another():
    script = _script()
    urls = [p.url for p in class_run_page.training_pages()]
    assert len(urls) == len(set(urls)) >= 9 and PAGE in urls
    with pytest.raises(SystemExit):
        script.main(["--only", "tokens"])          # not a training page: refused, with the list


@pytest.mark.slow
def test_a_learner_pressing_train_with_the_defaults_gets_the_recorded_run_at_once():
    script = _script()
    page = next(p for p in class_run_page.training_pages() if p.url == PAGE)
    got = script.record_page(page)
    assert got["status"] in ("recorded", "was recorded"), got

    learner = open_page(page.path)
    learner.button(key=page.train).click().run()
    assert_no_exception(learner)
    lv = learner.session_state[f"{PAGE}.live"]
    assert lv.status == "finished" and lv.result.get("record") is not None     # no run: the record
    assert "These settings ran before" in texts(learner)
    again = script.record_page(page)                                            # the script again: nothing to run
    assert again["status"] == "was recorded"
