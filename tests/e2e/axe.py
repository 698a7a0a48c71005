"""axe-core in a real browser (issue 22, point 4), used by tests/e2e/test_every_page.py on EVERY
page of the navigation at the WCAG 2.0/2.1 A and AA rules: a serious or critical violation in
what the app controls fails that page's test.

Violations inside Streamlit's own markup that the app cannot change are listed in
STREAMLIT_OWNED below, with the Streamlit version they were seen in and the workaround where
one exists; they are counted and written to artifacts/axe/report.json, never silently dropped.
A rule there that stops firing (Streamlit fixed it) is reported by
test_allow_list_is_still_needed, so the list cannot rot.

axe-core comes bundled in the axe-playwright-python package (requirements-dev.txt; 0.1.8
bundles axe-core 4.12.1). axe does not judge charts: their text alternative is checked in
tests/unit/test_charts.py and tests/app/test_charts_text.py."""
from __future__ import annotations

import json

import streamlit

from tests.e2e.server import ROOT

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
REPORT = ROOT / "artifacts" / "axe" / "report.json"

# (axe rule id, CSS selector of the Streamlit-owned region it fires in) -> why it is allowed.
STREAMLIT_OWNED = {
    ("list", '[data-testid="stSidebarNav"]'):
        "Streamlit 1.67.0: st.navigation with sections renders each section's header inside the "
        "<ul> of the sidebar navigation (a <ul> may hold only <li>). Framework markup, not "
        "changeable from the app. Workaround if it must go: st.navigation(..., position='hidden') "
        "and draw the links with st.page_link in st.sidebar.",
    ("listitem", '[data-testid="stSidebarNav"]'):
        "Streamlit 1.67.0: the sidebar navigation's <li> items sit in a container without "
        "list semantics (same markup as above, same workaround).",
}
seen_allowed: set[tuple[str, str]] = set()
report: dict[str, dict] = {}       # {page url: {"app": [...], "streamlit_owned": [...]}}

_INSIDE_JS = """([sel, region]) => {
    const el = document.querySelector(sel);
    return !!(el && el.closest(region));
}"""


def _owner(page, rule: str, node: dict) -> tuple[str, str] | None:
    """The STREAMLIT_OWNED entry that covers this node, if any."""
    target = node.get("target") or []
    sel = target[0] if target and isinstance(target[0], str) else None
    for (rid, region) in STREAMLIT_OWNED:
        if rid == rule and sel is not None and page.evaluate(_INSIDE_JS, [sel, region]):
            return rid, region
    return None


def axe_violations(page) -> tuple[list[dict], list[dict]]:
    """Run axe-core on the page at the WCAG 2.x A/AA tags. Returns (app, streamlit_owned):
    each a list of {rule, impact, help, target, html} for serious/critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                   "resultTypes": ["violations"]})
    app, owned = [], []
    for v in res.response["violations"]:
        if v.get("impact") not in BLOCKING:
            continue
        for node in v["nodes"]:
            row = {"rule": v["id"], "impact": v["impact"], "help": v["help"],
                   "target": node.get("target"), "html": node.get("html", "")[:200]}
            who = _owner(page, v["id"], node)
            if who:
                seen_allowed.add(who)
                owned.append(row)
            else:
                app.append(row)
    return app, owned


def write_report() -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    totals = {"pages": len(report), "streamlit": streamlit.__version__,
              "app_violations": sum(len(r["app"]) for r in report.values()),
              "streamlit_owned": sum(len(r["streamlit_owned"]) for r in report.values()),
              "pages_with_app_violations": sorted(u for u, r in report.items() if r["app"])}
    REPORT.write_text(json.dumps({"totals": totals, "pages": report}, indent=1, ensure_ascii=False))
