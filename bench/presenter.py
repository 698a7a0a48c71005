"""Presenter mode on every lesson of the navigation, measured in headless Chromium at 1280x720
and 1920x1080 with tests/e2e/presenter.measure (what tests/e2e/test_every_page.py asserts on):
the main figure's top and the share of it on screen without scrolling, the smallest text and
chart text on the first screen, and overlapping boxes. Prints one JSON line per lesson and size,
then a markdown table; ``--save`` writes the per-size summary and every row into
assets/measured/presenter.json (the README's presenter block). ``--fallback`` takes the first
chart when a page marks no main figure (for measuring code from before charts.main_figure).

    .venv/bin/python bench/presenter.py [--save] [--fallback] [url ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench._timing import save  # noqa: E402
from lessons import course  # noqa: E402
from tests.e2e.presenter import measure  # noqa: E402
from tests.e2e.server import CHROMIUM_ARGS, chromium_path, streamlit_server, wait_until_idle  # noqa: E402
from tests.e2e.test_every_page import settle_after_resize  # noqa: E402

SIZES = [(1280, 720), (1920, 1080)]


def summary(rows: list[dict]) -> dict:
    """Per size: lessons, the smallest on-screen share of a main figure (and where), the smallest
    text and chart text, how many lessons have no main figure or an overlap."""
    figs = [r for r in rows if r["figure"]]
    low = min(figs, key=lambda r: r["figure"]["share"]) if figs else None
    charts = [r["min_chart"]["px"] for r in rows if r["min_chart"]["px"] < 999]
    return {"lessons": len(rows), "no_main_figure": sum(1 for r in rows if r["count"] != 1),
            "min_share": round(low["figure"]["share"], 3) if low else None, "min_share_lesson": low["url"] if low else None,
            "under_80": sum(1 for r in figs if r["figure"]["share"] < 0.8),
            "min_text_px": min(r["min_text"]["px"] for r in rows),
            "min_chart_px": min(charts) if charts else None,
            "with_overlaps": sum(1 for r in rows if r["overlaps"])}


def main(argv: list[str]) -> None:
    fallback = "--fallback" in argv
    urls = [a for a in argv if not a.startswith("--")] or [l.url for l in course.discover() if l.week > 0]
    rows: list[dict] = []
    with streamlit_server() as (base, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        for url in urls:
            ctx = browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
            page = ctx.new_page()
            page.set_default_timeout(240_000)
            page.goto(f"{base}/{url}?present=1")
            wait_until_idle(page)
            for w, h in SIZES:
                if (w, h) != SIZES[0]:
                    page.set_viewport_size({"width": w, "height": h})
                    settle_after_resize(page)
                page.evaluate("window.scrollTo(0, 0)")
                row = {"url": url, "size": f"{w}x{h}", **measure(page, fallback)}
                rows.append(row)
                print(json.dumps(row), flush=True)
            ctx.close()
        browser.close()
    print("\n| lesson | size | figure top px | on screen | smallest text px | smallest chart px | overlaps |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        f = r["figure"]
        share = f"{f['share']:.0%}" if f else "no figure"
        chart = r["min_chart"]["px"] if r["min_chart"]["px"] < 999 else "–"
        print(f"| {r['url']} | {r['size']} | {f['top'] if f else '–'} | {share} | {r['min_text']['px']} | {chart} | "
              f"{len(r['overlaps'])} |")
    sums = {f"{w}x{h}": summary([r for r in rows if r["size"] == f"{w}x{h}"]) for w, h in SIZES}
    print(json.dumps(sums))
    if "--save" in argv and not fallback:
        for size, figures in sums.items():
            save("presenter", size, {**figures, "rows": [{k: r[k] for k in ("url", "figure", "min_text", "min_chart",
                                                                             "overlaps")}
                                                          for r in rows if r["size"] == size]},
                 written_by="bench/presenter.py --save")


if __name__ == "__main__":
    main(sys.argv[1:])
