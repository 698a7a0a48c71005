"""`wait_until_idle` returns only once Streamlit's script run has finished (issue 22, point 5).

The app (tests/e2e/apps/slow_draw.py) sleeps 3 s, then draws. The browser reaches it through a
loopback proxy that holds the websocket handshake for a few seconds, as a busy server does when
a class (or the previous test's page) keeps it working: the page's frame is on screen, no run has
started yet and Streamlit shows no running icon. The helper the e2e suite used until 2026-12-05
(kept below as `_old_wait_until_idle`) took that for "idle" and returned on a blank page; the
helper in tests/e2e/server.py waits for Streamlit's own script state."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.server import script_state, streamlit_server, wait_until_idle

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "slow_draw.py"
HOLD_S = 5


@contextmanager
def slow_websocket_proxy(upstream_port: int, hold_s: float):
    """A loopback TCP proxy to the server that passes HTTP through at once and holds every
    websocket handshake (``GET /_stcore/stream``) for ``hold_s`` seconds. Yields its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(32)
    srv.settimeout(0.2)
    stop = threading.Event()

    def pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle(client: socket.socket) -> None:
        head = client.recv(65536)
        if b"/_stcore/stream" in head.split(b"\r\n", 1)[0]:
            time.sleep(hold_s)
        up = socket.create_connection(("127.0.0.1", upstream_port))
        up.sendall(head)
        threading.Thread(target=pipe, args=(up, client), daemon=True).start()
        pipe(client, up)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        srv.close()


def _old_wait_until_idle(page, quiet_ms: float = 2000) -> None:
    """The e2e suite's helper before 2026-12-05: 2 s without Streamlit's running icon."""
    idle_js = """() => {
        if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
        const w = document.querySelector('[data-testid="stStatusWidget"]');
        return !w || !/Running|Connecting/.test(w.innerText + (w.getAttribute('aria-label') || ''));
    }"""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_selector('[data-testid="stMainBlockContainer"]')
    quiet = 0.0
    while quiet < quiet_ms:
        quiet = quiet + 250 if page.evaluate(idle_js) else 0.0
        page.wait_for_timeout(250)


@pytest.fixture(scope="module")
def slow_app():
    with streamlit_server(str(APP), cwd=APP.parent) as (url, _proc):
        with slow_websocket_proxy(int(url.rsplit(":", 1)[1]), HOLD_S) as port:
            yield f"http://127.0.0.1:{port}"


def _drawn(page, text: str) -> bool:
    return text in page.locator('[data-testid="stMain"]').inner_text()


def test_the_old_helper_returned_on_a_page_still_loading(slow_app, browser):
    """The scenario is real: the old helper returns before the page has drawn."""
    page = browser.new_page()
    try:
        page.goto(slow_app)
        _old_wait_until_idle(page)
        assert not _drawn(page, "drawn after the sleep")
        assert script_state(page)[0] in ("initial", "running")
    finally:
        page.close()


def test_wait_until_idle_waits_for_the_first_run(slow_app, browser):
    page = browser.new_page()
    try:
        page.goto(slow_app)
        wait_until_idle(page)
        assert _drawn(page, "drawn after the sleep")
        assert script_state(page) == ("notRunning", "CONNECTED")
    finally:
        page.close()


def test_wait_until_idle_waits_for_a_rerun_after_a_click(slow_app, browser):
    page = browser.new_page()
    try:
        page.goto(slow_app)
        wait_until_idle(page)
        page.get_by_role("button", name="Again").click()
        wait_until_idle(page)
        assert _drawn(page, "drawn after the click")
        assert script_state(page) == ("notRunning", "CONNECTED")
    finally:
        page.close()
