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
    """Yields (base_url, process). Polls /_stcore/health until the server answers.

    Each server gets a database of its own (progress, polls, class runs), thrown away after it,
    unless ``env`` names one (``GENAI_LAB_DB_URL``): servers that share a database share their
    class runs and workers, as replicas do, so servers of unrelated tests must not."""
    import tempfile

    port = free_port()
    e = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    own_db = None if "GENAI_LAB_DB_URL" in (env or {}) else tempfile.TemporaryDirectory(prefix="genai-lab-server-db-")
    if own_db is not None:
        e["GENAI_LAB_DB_URL"] = f"sqlite:///{own_db.name}/classroom.sqlite"
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
            proc.wait()
        if own_db is not None:
            own_db.cleanup()


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
    ``replicas`` is the list of (url, process). The replicas share one database (``env``'s
    ``GENAI_LAB_DB_URL``, or a new one), as replicas behind one proxy do."""
    import tempfile
    from contextlib import ExitStack

    if shutil.which("haproxy") is None:
        raise RuntimeError("Debian haproxy is not installed: `make test` installs it (apt-get install haproxy).")
    with ExitStack() as stack:
        if "GENAI_LAB_DB_URL" not in (env or {}):
            db_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="genai-lab-cluster-db-"))
            env = {**(env or {}), "GENAI_LAB_DB_URL": f"sqlite:///{db_dir}/classroom.sqlite"}
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


# Streamlit's own run state, as its frontend (1.67) writes it on the app's root element:
#   <div data-testid="stApp" data-test-script-state="..." data-test-connection-state="...">
# script state: "initial" (no run has started in this tab yet), "running", "rerunRequested",
# "stopRequested", "notRunning" (the last run finished), "compilationError"; connection state:
# "INITIAL", "CONNECTING", "CONNECTED", "PINGING_SERVER", "DISCONNECTED_FOREVER". Streamlit's own
# e2e helper (wait_for_app_run) waits on the same attributes.
_STATE_JS = """() => {
    const a = document.querySelector('[data-testid="stApp"]');
    return a ? [a.getAttribute('data-test-script-state'), a.getAttribute('data-test-connection-state'),
                document.querySelectorAll('[data-testid="stSkeleton"]').length]
             : [null, null, 0];
}"""
IDLE_SCRIPT_STATES = ("notRunning", "compilationError")


def script_state(page) -> tuple[str | None, str | None]:
    """(script state, connection state) of the Streamlit app in ``page``."""
    s, c, _ = page.evaluate(_STATE_JS)
    return s, c


def wait_until_idle(page, timeout_ms: float = 240_000, settle_ms: float = 500) -> None:
    """Wait until the app is connected and a script run has started and finished: Streamlit's
    script state (above) must be "notRunning" with the connection "CONNECTED". Before the first
    run it is "initial", during a run "running" (or "rerunRequested"/"stopRequested"), so this
    cannot return while a run is in progress, however long the run takes to start or to finish.

    Streamlit's loading placeholder (``stSkeleton``) must be gone too: on a page opened with a
    lesson's URL it can outlive the run's end by up to a second (seen on /sampling?present=1:
    "notRunning" with the skeleton still drawn where the lesson's widgets belong).

    The state must hold for ``settle_ms`` in a row: right after a click the browser still shows
    the previous run's "notRunning" until the server's first message of the new run arrives
    (Streamlit's own e2e helper waits 210 ms for the same reason). This is a debounce for that
    round trip, not the signal: the signal is the state."""
    deadline = time.time() + timeout_ms / 1000
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    idle_since = None
    while True:
        state, conn, skeletons = page.evaluate(_STATE_JS)
        now = time.time()
        if conn == "DISCONNECTED_FOREVER":
            raise RuntimeError("the app lost its connection to the server for good")
        if state in IDLE_SCRIPT_STATES and conn == "CONNECTED" and not skeletons:
            idle_since = idle_since or now
            if (now - idle_since) * 1000 >= settle_ms:
                return
        else:
            idle_since = None
        if now > deadline:
            raise TimeoutError(f"the app was still not idle after {timeout_ms / 1000:.0f} s "
                               f"(script state {state!r}, connection {conn!r}, {skeletons} loading placeholders)")
        page.wait_for_timeout(100)


def train_live(page, start_css: str, url: str) -> None:
    """Press a training page's start button (``start_css``) and wait until its run is live with a
    step done (the bar reads "... step i/n ..."). On a class-run page (ui/class_runs.py) a run of
    the same settings may have finished on this server before (another test's, another learner's):
    the page then shows it at once from its record, and this presses its **Run it again live**
    (``<url>.again``) to train it live."""
    import re

    page.locator(start_css).first.click()
    bar = page.locator('[data-testid="stProgress"]').get_by_text(re.compile(r"step [1-9]\d*/\d+")).first
    again = page.locator(".st-key-" + f"{url}.again".replace(".", "-") + " button").first
    bar.or_(again).wait_for()
    if not bar.is_visible() and again.is_visible():
        again.click()
        bar.wait_for()
