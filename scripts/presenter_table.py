"""Presenter mode on every lesson of the navigation, measured in headless Chromium at 1920x1080
and 1280x720 (tests/e2e/presenter.py): the main figure's top, the share of it on screen, the
smallest text and chart text, and overlaps. Prints one JSON line per lesson and size, then a
markdown table. `--fallback`: take the first chart when a page marks no main figure (pages
from before charts.main_figure existed).

    .venv/bin/python scripts/presenter_table.py [--fallback] [url ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from lessons import course  # noqa: E402
from tests.e2e.presenter import measure  # noqa: E402
from tests.e2e.server import CHROMIUM_ARGS, chromium_path, streamlit_server, wait_until_idle  # noqa: E402

SIZES = [(1920, 1080), (1280, 720)]


def main(argv: list[str]) -> None:
    fallback = "--fallback" in argv
    urls = [a for a in argv if not a.startswith("--")] or [l.url for l in course.discover() if l.week > 0]
    rows = []
    with streamlit_server() as (base, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        for url in urls:
            ctx = browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
            page = ctx.new_page()
            page.goto(f"{base}/{url}?present=1")
            wait_until_idle(page)
            for w, h in SIZES:
                page.set_viewport_size({"width": w, "height": h})
                page.wait_for_timeout(600)
                page.evaluate("window.scrollTo(0, 0)")
                m = measure(page, fallback)
                row = {"url": url, "size": f"{w}x{h}", **m}
                rows.append(row)
                print(json.dumps(row), flush=True)
            ctx.close()
        browser.close()
    print("\n| lesson | size | figure top px | on screen | smallest text px | smallest chart px | overlaps |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        f = r.get("figure")
        share = f"{f['share']:.0%}" if f else "no figure"
        print(f"| {r['url']} | {r['size']} | {f['top'] if f else '–'} | {share} | "
              f"{r['min_text']['px'] if r.get('min_text') else '–'} | {r['min_chart']['px'] if r.get('min_chart') and r['min_chart']['px'] < 999 else '–'} | "
              f"{len(r.get('overlaps') or [])} |")


if __name__ == "__main__":
    main(sys.argv[1:])
