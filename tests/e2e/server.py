"""Start `streamlit run app.py` on a free loopback port and drive it with Debian Chromium
through Playwright (no browser download). Used by the e2e tests and bench/startup.py."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def streamlit_server(script: str = "app.py", cwd: Path = ROOT, timeout: float = 90, env: dict | None = None):
    """Yields (base_url, process). Polls /_stcore/health until the server answers."""
    port = free_port()
    e = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    e.update(env or {})
    log = open(ROOT / "artifacts" / f"server-{port}.log", "w") if (ROOT / "artifacts").is_dir() else subprocess.DEVNULL
    # The app is started as `make run` starts it (scripts/serve.py); other scripts plainly.
    launcher = [sys.executable, str(ROOT / "scripts" / "serve.py")] if script == "app.py" else \
        [sys.executable, "-m", "streamlit", "run", script]
    proc = subprocess.Popen(
        [*launcher, "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false",
         "--server.fileWatcherType=none"],
        cwd=cwd, env=e, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}")
            if time.time() > deadline:
                raise TimeoutError("streamlit did not become healthy")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


# Streamlit 1.67 shows an icon with aria-label "Running..." while a script run is in
# progress (and a "Connecting" state before the websocket is up).
_IDLE_JS = """() => {
    if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
    const w = document.querySelector('[data-testid="stStatusWidget"]');
    return !w || !/Running|Connecting/.test(w.innerText + (w.getAttribute('aria-label') || ''));
}"""


def wait_until_idle(page, timeout_ms: float = 240_000, quiet_ms: float = 2000) -> None:
    """Wait until the app has rendered and no script run is in progress.

    Streamlit shows its running icon only ~1 s after a run starts, so "idle" must hold for
    `quiet_ms` in a row (polled every 250 ms) before we trust it."""
    deadline = time.time() + timeout_ms / 1000
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=timeout_ms)
    quiet = 0.0
    while quiet < quiet_ms:
        if time.time() > deadline:
            raise TimeoutError("the app was still running after %.0f s" % (timeout_ms / 1000))
        idle = page.evaluate(_IDLE_JS)
        quiet = quiet + 250 if idle else 0.0
        page.wait_for_timeout(250)
