"""A fresh install, as the first learners meet it: the server starts on an EMPTY model cache
(GENAI_LAB_CACHE = a new temporary folder), so the first SmolLM2 page converts the shipped
GGUF file. Afterwards every SmolLM2 page must work for every session.

Regression test for issue #11: the conversion's progress callback drew into an element made
outside the `st.cache_resource` loader; Streamlit replayed that element call on every cache
hit and raised CacheReplayClosureError on every SmolLM2 page of every later session.

Extend this file for other first-run situations (e.g. a server killed during the
conversion): `fresh_server()` starts a server on an empty cache, `open_lesson()` opens a page
and waits, `problems()` lists what went wrong on a page.
"""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from lessons import models
from tests.e2e.server import streamlit_server, wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The conversion takes minutes on a busy 2-core machine: wait that long for the first page.
FIRST_PAGE_MS = 600_000
ERROR_WORDS = ("CacheReplayClosureError", "Traceback", "Converting SmolLM2 failed")


@contextmanager
def fresh_server():
    """(url, process, cache folder): a server whose model cache starts empty."""
    with tempfile.TemporaryDirectory(prefix="genai-empty-cache-") as cache:
        with streamlit_server(env={"GENAI_LAB_CACHE": cache}) as (url, proc):
            yield url, proc, Path(cache)


def open_lesson(context, url: str, name: str, timeout_ms: float = 240_000):
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(f"{url}/{name}")
    wait_until_idle(page, timeout_ms=timeout_ms)
    page.wait_for_selector("h1")
    return page


def problems(page) -> list[str]:
    """Exceptions and error boxes shown on the page, and error words anywhere in it."""
    found = [e.inner_text()[:400] for e in page.locator('[data-testid="stException"]').all()]
    found += [e.inner_text()[:400] for e in page.locator('[data-testid="stAlertContentError"]').all()]
    body = page.locator('[data-testid="stMain"]').inner_text()
    found += [w for w in ERROR_WORDS if w in body]
    return found


def test_server_killed_mid_conversion_recovers_then_every_session_works(browser):
    """Issue #16.5, on the same flow (the conversion is paid about once): the first server
    on an empty cache is killed (SIGKILL) while it converts; the cache is then also left with
    the debris of a crash at a later moment (a half-written target folder with no completion
    marker, a temporary folder). A server restarted on that cache converts, the page comes up,
    the cache is valid and the debris is gone."""
    with tempfile.TemporaryDirectory(prefix="genai-empty-cache-") as cache_dir:
        cache = Path(cache_dir)
        target = cache / models.smollm2_cache_path().name
        with streamlit_server(env={"GENAI_LAB_CACHE": cache_dir}) as (url, proc):
            ctx = browser.new_context(viewport={"width": 1280, "height": 720})
            try:
                page = ctx.new_page()
                page.goto(f"{url}/next-token")
                page.get_by_text("First run: converting SmolLM2").first.wait_for(timeout=240_000)
                proc.kill()                      # mid-conversion, no chance to clean up
                proc.wait(30)
            finally:
                ctx.close()
        assert not models.smollm2_cache_is_valid(target)
        (target / "model.safetensors").parent.mkdir(exist_ok=True)
        (target / "model.safetensors").write_bytes(b"\0" * 1024)        # half-written, no marker
        debris = cache / (target.name + ".tmp-killed")
        debris.mkdir()
        (debris / "model.safetensors").write_bytes(b"\0" * 1024)

        with streamlit_server(env={"GENAI_LAB_CACHE": cache_dir}) as (url, _proc):
            _every_session_works_after_the_first_conversion(browser, url, cache)
        assert models.smollm2_cache_is_valid(target)
        assert not debris.exists()
        assert [p.name for p in cache.iterdir() if ".tmp-" in p.name] == []


def _every_session_works_after_the_first_conversion(browser, url, cache: Path):
    first = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = open_lesson(first, url, "next-token", timeout_ms=FIRST_PAGE_MS)
        assert problems(page) == []
        assert page.get_by_text("The stages and their shapes").count() == 1
        # the conversion really happened, into this cache
        assert models.smollm2_cache_is_valid(cache / models.smollm2_cache_path().name)
        # the same session again (a rerun hits the cache)
        page.reload()
        wait_until_idle(page)
        assert problems(page) == []
    finally:
        first.close()

    second = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        for name, shown in (("tokens", "SmolLM2"), ("sampling", "temperature")):
            page = open_lesson(second, url, name)
            assert problems(page) == [], name
            assert page.get_by_text(shown).count() >= 1, name
    finally:
        second.close()
