"""Scale-out for real: two app replicas behind HAProxy (deploy/haproxy.cfg) on loopback, driven
by Chromium. A learner's session stays on one replica through reruns and a reload, a second
learner is balanced to the other replica, and a CSV upload (plain HTTP, not the websocket)
works through the proxy on the corpus-scoring page.

HAProxy comes from Debian (`make test` installs it, like chromium). The config is the shipped
deploy/haproxy.cfg; only its compose-DNS `server-template` line is replaced by the two
loopback replicas (same cookie, health check and timeouts as in production).
"""
from __future__ import annotations

import csv
import io
import shutil
import urllib.request

import pytest

from tests.e2e.server import ROOT, haproxy_cluster, wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _stats(stats_url: str) -> dict[str, int]:
    """Total sessions per replica (HAProxy's `stot`), from the CSV statistics page."""
    with urllib.request.urlopen(stats_url + ";csv", timeout=5) as r:
        rows = list(csv.DictReader(io.StringIO(r.read().decode().lstrip("# "))))
    return {r["svname"]: int(r["stot"] or 0) for r in rows
            if r["pxname"] == "genai_lab" and r["svname"].startswith("app")}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if shutil.which("haproxy") is None:
        pytest.fail("Debian haproxy is not installed: `make test` installs it (apt-get install haproxy).")
    with haproxy_cluster(2, tmp_path_factory.mktemp("haproxy")) as (url, stats_url, _):
        yield url, stats_url


def _server_cookie(ctx) -> str | None:
    return next((c["value"] for c in ctx.cookies() if c["name"] == "SERVERID"), None)


def test_a_session_stays_on_one_replica_and_a_second_learner_goes_to_the_other(cluster, browser):
    url, stats_url = cluster
    before = _stats(stats_url)
    a = browser.new_context(viewport={"width": 1300, "height": 900})
    page = a.new_page()
    page.set_default_timeout(120_000)
    page.goto(url + "/rouge-bleu")
    wait_until_idle(page)
    cookie = _server_cookie(a)
    assert cookie, "HAProxy set no SERVERID cookie"
    for _ in range(3):   # reruns: widget changes over the same websocket
        page.get_by_role("textbox").first.fill(f"the cat sat on the mat {_}")
        page.keyboard.press("Control+Enter")
        wait_until_idle(page)
    page.reload()        # a new websocket and new HTTP requests, carrying the cookie
    wait_until_idle(page)
    assert _server_cookie(a) == cookie
    after_a = _stats(stats_url)
    used = [s for s in after_a if after_a[s] > before.get(s, 0)]
    assert len(used) == 1, f"one browser's requests reached {used}: {before} -> {after_a}"

    b = browser.new_context()
    page_b = b.new_page()
    page_b.set_default_timeout(120_000)
    page_b.goto(url + "/rouge-bleu")   # leastconn: A's websocket keeps its replica busier
    wait_until_idle(page_b)
    after_b = _stats(stats_url)
    used_b = [s for s in after_b if after_b[s] > after_a[s]]
    assert used_b and used_b != used, f"the second learner was not balanced away: {used} then {used_b}"
    assert _server_cookie(b) not in (None, cookie)
    b.close()
    a.close()


def test_csv_upload_works_through_the_proxy(cluster, browser, tmp_path):
    url, _ = cluster
    ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    uploads: list[int] = []
    page.on("response", lambda r: uploads.append(r.status) if "/_stcore/upload_file" in r.url else None)
    page.goto(url + "/corpus-scoring")
    wait_until_idle(page)
    page.get_by_text("Upload a CSV").click()
    wait_until_idle(page)
    f = tmp_path / "pairs.csv"
    f.write_text("candidate,reference\n"
                 "\"the cat sat on the mat\",\"the cat sat on the mat\"\n"
                 "\"a dog ran\",\"the dog ran away quickly\"\n", encoding="utf-8")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(f))
    wait_until_idle(page)
    assert uploads and all(200 <= s < 300 for s in uploads), f"upload answers through the proxy: {uploads}"
    body = page.inner_text('[data-testid="stMainBlockContainer"]')
    assert "Corpus scores" in body and "Could not use this file" not in body
    page.screenshot(path=str(ROOT / "artifacts" / "haproxy_upload.png") if (ROOT / "artifacts").is_dir()
                    else str(tmp_path / "shot.png"), full_page=False)
    ctx.close()
