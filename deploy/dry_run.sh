#!/usr/bin/env bash
# Replay deploy/Dockerfile's steps without Docker (for machines that have none), in order:
# copy exactly the files the image COPYs, prepare the models into a fresh cache, hand the
# cache to an unprivileged user, start the server AS that user and probe the HEALTHCHECK URL.
#   bash deploy/dry_run.sh            (uses .venv/bin/python for the pinned dependencies)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d /tmp/genai-image.XXXXXX)
trap '[ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT   # never `kill 0`: that is the whole process group
APP=$WORK/app; CACHE=$WORK/cache; HOMEDIR=$WORK/home
mkdir -p "$APP" "$CACHE" "$HOMEDIR"
# 1. the COPY lines of the Dockerfile, in their order
grep -E '^COPY ' "$ROOT/deploy/Dockerfile" | while read -r -a words; do
  n=${#words[@]}
  for f in "${words[@]:1:n-2}"; do cp -r "$ROOT/$f" "$APP/"; done   # every source; the last word is the destination
done
echo "copied: $(ls "$APP" | tr '\n' ' ')"
# 2. RUN scripts/prepare_models.py with the image's environment
(cd "$APP" && HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GENAI_LAB_CACHE="$CACHE" "$PY" scripts/prepare_models.py)
# 3. USER app: an unprivileged user owns only the cache and its home
RUNAS=${RUNAS:-nobody}
if [ "$(id -u)" = 0 ]; then chown -R "$RUNAS" "$CACHE" "$HOMEDIR"; chmod -R a+rX "$WORK"; chmod a+x "$WORK"; fi
# The image's python is world-readable; a venv's python may not be (pyenv under /root is 0700).
# Then run the same site-packages under a python of the same minor version that RUNAS can run.
RUNPY=$PY
if [ "$(id -u)" = 0 ] && ! runuser -u "$RUNAS" -- "$PY" -c '' 2>/dev/null; then
  SITE=$("$PY" -c 'import site; print(site.getsitepackages()[0])')
  VER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  RUNPY=""
  for c in "/usr/bin/python$VER" "/usr/local/bin/python$VER" $(type -ap "python$VER"); do
    if [ -x "$c" ] && runuser -u "$RUNAS" -- "$c" -c '' 2>/dev/null; then RUNPY=$c; break; fi
  done
  if [ -z "$RUNPY" ]; then
    echo "no python $VER that user $RUNAS may run (the venv's is $(readlink -f "$PY"))"; exit 1
  fi
  "$RUNPY" -m venv --without-pip "$WORK/venv"
  "$WORK/venv/bin/python" -c 'import site; print(site.getsitepackages()[0])' | xargs -I{} sh -c "echo '$SITE' > {}/app-deps.pth"
  RUNPY=$WORK/venv/bin/python
  chmod -R a+rX "$WORK/venv"
  echo "user $RUNAS cannot run $(readlink -f "$PY"); using $RUNPY (python $VER) with the same site-packages"
fi
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CMD=(env HOME="$HOMEDIR" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GENAI_LAB_CACHE="$CACHE"
     "$RUNPY" scripts/serve.py --server.address=127.0.0.1 --server.port="$PORT" --server.headless=true
     --browser.gatherUsageStats=false --server.fileWatcherType=none)
cd "$APP"
if [ "$(id -u)" = 0 ]; then runuser -u "$RUNAS" -- "${CMD[@]}" >"$WORK/server.log" 2>&1 & else "${CMD[@]}" >"$WORK/server.log" 2>&1 & fi
SERVER=$!
# 4. the HEALTHCHECK command, verbatim
for _ in $(seq 1 120); do
  if "$PY" -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$PORT/_stcore/health', timeout=4).status != 200)" 2>/dev/null; then
    echo "healthy on port $PORT; server processes (user pid command):"; ps -o user=,pid=,comm= --pid "$SERVER" --ppid "$SERVER" || true
    "$PY" - "$PORT" <<'PYEOF'
import sys, urllib.request
html = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=10).read().decode()
assert "<title>" in html, "no app page served"
print("app page served:", len(html), "bytes")
PYEOF
    exit 0
  fi
  sleep 1
done
echo "server never became healthy"; tail -20 "$WORK/server.log"; exit 1
