"""Startup and memory benchmark. Prints ONE JSON object:

  first_render_s        server start -> Home page rendered in headless Chromium
  bare_first_render_s   the same for a one-page hello-world Streamlit app, same run
  render_ratio          first_render_s / bare_first_render_s          (target <= 1.5)
  smollm2_convert_s     GGUF -> safetensors conversion into a fresh temp cache
  smollm2_cached_load_s loading SmolLM2 from that cache (imports excluded) (target <= 5)
  rss_mb_all_pages      server RSS after visiting every page of the navigation (target <= 1500),
                        split into rss_anon_mb_all_pages (private) and rss_file_mb_all_pages
                        (file-backed: libraries and memory-mapped weights)

Run: `.venv/bin/python bench/startup.py` (needs Debian chromium, as `make test` installs).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.e2e.server import CHROMIUM_ARGS, chromium_path, streamlit_server, wait_until_idle  # noqa: E402

RENDERED_MARK = {"app.py": '[data-testid="stPageLink"]'}
HELLO = 'import streamlit as st\nst.title("Hello")\nst.write("A one-page app.")\n'


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process and its children, from /proc (Linux). `field` may be
    VmRSS (all resident pages), RssAnon (private heap: tensors, Python objects) or RssFile
    (file-backed pages: shared libraries and the memory-mapped model weights, which the
    kernel can drop and re-read, and which other processes share)."""
    total = 0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def render_time(browser, script: str, cwd: Path, visit_all: bool = False) -> tuple[float, float | None]:
    t0 = time.perf_counter()
    with streamlit_server(script, cwd=cwd) as (url, proc):
        page = browser.new_page()
        page.goto(url)
        # "Rendered" = the page's title and its last main element are on screen (for the
        # app: the Home course map's links; torch is imported only after, for the sidebar).
        page.wait_for_selector("h1", timeout=120_000)
        page.wait_for_selector(RENDERED_MARK.get(script, "h1"), timeout=120_000)
        first = time.perf_counter() - t0
        wait_until_idle(page)
        mem = None
        if visit_all:
            from lessons import course

            for lesson in course.discover():
                page.goto(f"{url}/{lesson.url}" if lesson.week else url)
                wait_until_idle(page)
            mem = {f: rss_mb(proc.pid, f) for f in ("VmRSS", "RssAnon", "RssFile")}
        page.close()
    return first, mem


def main() -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
            render_time(browser, str(hello), Path(tmp))  # warm the OS file cache for both
            bare, _ = render_time(browser, str(hello), Path(tmp))
            first, _ = render_time(browser, "app.py", ROOT)
            _, mem = render_time(browser, "app.py", ROOT, visit_all=True)
            browser.close()
    out["first_render_s"] = round(first, 2)
    out["bare_first_render_s"] = round(bare, 2)
    out["render_ratio"] = round(first / bare, 2)

    from lessons import models
    import transformers  # noqa: F401  (import cost is not load cost)

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "smol"
        t = time.perf_counter()
        models.convert_smollm2(target=target)
        out["smollm2_convert_s"] = round(time.perf_counter() - t, 1)
        os.environ["GENAI_LAB_CACHE"] = tmp
        os.rename(target, models.smollm2_cache_path())
        t = time.perf_counter()
        models.load_smollm2()
        out["smollm2_cached_load_s"] = round(time.perf_counter() - t, 2)
    out["rss_mb_all_pages"] = mem["VmRSS"]
    out["rss_anon_mb_all_pages"] = mem["RssAnon"]
    out["rss_file_mb_all_pages"] = mem["RssFile"]
    out["targets"] = {"render_ratio": 1.5, "smollm2_cached_load_s": 5, "rss_mb_all_pages": 1500}
    return out


if __name__ == "__main__":
    figures = main()
    print(json.dumps(figures, indent=1))
    if "--save" in sys.argv[1:]:      # assets/measured/startup.json: the README's benchmark table
        from bench._timing import save

        save("startup", "default", figures, "bench/startup.py --save")
