"""Real-browser fixtures: one live server per test session, one headless Chromium."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM_ARGS, ROOT, chromium_path, streamlit_server

SHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def app_url():
    (ROOT / "artifacts").mkdir(exist_ok=True)
    # the session's server uses the test process's database (tests/conftest.py): tests seed and read it
    with streamlit_server(env={"GENAI_LAB_DB_URL": os.environ["GENAI_LAB_DB_URL"]}) as (url, _proc):
        yield url


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if exe is None:
        pytest.fail("Debian chromium is not installed: `make test` installs it (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _sized_page(browser, width: int, height: int):
    ctx = browser.new_context(viewport={"width": width, "height": height})
    p = ctx.new_page()
    p.set_default_timeout(240_000)
    yield p
    ctx.close()


@pytest.fixture()
def page(browser):
    yield from _sized_page(browser, 1400, 1000)


@pytest.fixture(scope="module")
def small_screen(browser):
    """One page for a whole module at 1280 x 720 (a small projector)."""
    yield from _sized_page(browser, 1280, 720)


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
