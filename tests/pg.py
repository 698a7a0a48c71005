"""A throwaway PostgreSQL cluster in a temporary folder, for tests of the database layer.

Uses the Debian `postgresql` package (`make test` installs it like chromium). initdb refuses
to run as root, so as root the server runs as the `postgres` system user. It listens on a
Unix socket only (no TCP port), and everything is deleted afterwards."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path | None:
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(cand, "initdb").exists() and Path(cand, "pg_ctl").exists():
            return Path(cand)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


@contextmanager
def throwaway_postgres():
    """Yields a SQLAlchemy URL (postgresql+psycopg) to a fresh, empty cluster."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="genai-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(root, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*cmd):
        subprocess.run([*as_user, *map(str, cmd)], check=True, capture_output=True, timeout=120)

    run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    run(bindir / "pg_ctl", "-D", data, "-w", "-l", root / "log", "-o",
        f"-k {sock} -c listen_addresses='' -c fsync=off -c max_connections=60", "start")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}"
    finally:
        try:
            run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)
