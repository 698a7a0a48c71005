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


HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"


def haproxy_loopback_config(path: Path, ports: list[int]) -> Path:
    """The shipped deploy/haproxy.cfg with its compose-DNS ``server-template`` line replaced by
    loopback replicas (same cookie, health check and timeouts as in production)."""
    text = HAPROXY_CFG.read_text()
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("server-template app ")]
    if len(lines) != 1:
        raise ValueError("deploy/haproxy.cfg must have exactly one server-template line")
    servers = "\n".join(f"    server app{i + 1} 127.0.0.1:{p} check inter 1s" for i, p in enumerate(ports))
    path.write_text(text.replace(lines[0], servers))
    return path


@contextmanager
def haproxy_cluster(n: int, workdir: Path, timeout: float = 180, env: dict | None = None):
    """``n`` app replicas (streamlit_server) behind the shipped HAProxy config on loopback.
    Yields (proxy_url, stats_url, replicas) once HAProxy sees every replica healthy;
    ``replicas`` is the list of (url, process)."""
    from contextlib import ExitStack

    if shutil.which("haproxy") is None:
        raise RuntimeError("Debian haproxy is not installed: `make test` installs it (apt-get install haproxy).")
    with ExitStack() as stack:
        replicas = [stack.enter_context(streamlit_server(timeout=timeout, env=env)) for _ in range(n)]
        ports = [int(url.rsplit(":", 1)[1]) for url, _ in replicas]
        front, stats = free_port(), free_port()
        henv = dict(os.environ, HAPROXY_BIND=f"127.0.0.1:{front}", HAPROXY_STATS_BIND=f"127.0.0.1:{stats}",
                    HAPROXY_COOKIE_KEY="loopback-key")
        cfg = str(haproxy_loopback_config(Path(workdir) / "haproxy.cfg", ports))
        check = subprocess.run(["haproxy", "-c", "-f", cfg], env=henv, capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("haproxy -c rejected the config: " + check.stdout + check.stderr)
        proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], env=henv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT)
        stack.callback(proc.wait, 10)
        stack.callback(proc.terminate)
        deadline = time.time() + 30
        while True:   # every replica must pass HAProxy's health check first
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{stats}/stats;csv", timeout=2) as r:
                    if r.read().decode().count(",UP,") >= n:
                        break
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("haproxy exited")
            if time.time() > deadline:
                raise TimeoutError("the replicas never became healthy behind HAProxy")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{front}", f"http://127.0.0.1:{stats}/stats", replicas


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
