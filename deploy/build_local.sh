#!/usr/bin/env bash
# Build deploy/Dockerfile with podman on a Debian machine that reaches neither Docker Hub nor
# download.pytorch.org (only Debian's mirror and PyPI), run it, and check it, end to end:
#   1. a Debian bookworm base image made by mmdebstrap from Debian's packages, imported into
#      podman (skipped when it exists; REBUILD_BASE=1 to make it again);
#   2. `podman build` of deploy/Dockerfile on that base, torch from a local wheel folder;
#   3. `podman run`, /_stcore/health probed from inside the container and from the host, the app
#      page fetched, the server's user and the HEALTHCHECK's status shown; then the container is
#      stopped and removed (the images stay).
#   sudo bash deploy/build_local.sh          (as root, from anywhere; idempotent)
# Settings (environment):
#   IMAGE=localhost/genai-lab:latest   BASE_IMAGE=localhost/debian:bookworm-local
#   WHEELS=/opt/wheels     a folder holding torch-2.13.0+cpu-cp311-*.whl; empty: the Dockerfile's
#                          default (download.pytorch.org)
#   SOURCES=/etc/apt/sources.list.d/debian.sources   the apt sources mmdebstrap uses
#   EXTRA_CA_DIR=/usr/local/share/ca-certificates    this machine's extra CA certificates, copied
#                          into the base (a TLS-inspecting proxy's CA, without which pip fails)
#   PORT=8501              host port (bound to 127.0.0.1) for the check
#   RUNTIME=auto           crun, runc, or auto (the first that can start a container here)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/genai-lab:latest}
BASE_IMAGE=${BASE_IMAGE:-localhost/debian:bookworm-local}
WHEELS=${WHEELS-/opt/wheels}
SOURCES=${SOURCES:-/etc/apt/sources.list.d/debian.sources}
EXTRA_CA_DIR=${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}
PORT=${PORT:-8501}
RUNTIME=${RUNTIME:-auto}
NAME=genai-lab-check
say() { printf '\n== %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }

[ "$(id -u)" = 0 ] || { echo "run as root (podman's rootful storage; mmdebstrap's root mode)"; exit 1; }
missing=()
for c in podman mmdebstrap; do command -v "$c" >/dev/null || missing+=("$c"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian's packages"
  run apt-get update
  run apt-get install -y --no-install-recommends podman mmdebstrap runc crun uidmap fuse-overlayfs slirp4netns
fi
podman --version

# Podman asks for larger rlimits than this machine may grant when root lacks CAP_SYS_RESOURCE
# (crun/runc: "setrlimit RLIMIT_NOFILE: Operation not permitted"): ask for the current hard ones.
NOFILE=$(ulimit -Hn); [ "$NOFILE" = unlimited ] && NOFILE=1048576
ULIMITS=(--ulimit "nofile=$NOFILE:$NOFILE" --ulimit "nproc=32768:32768")

say "1. base image $BASE_IMAGE"
if [ "${REBUILD_BASE:-0}" != 1 ] && podman image exists "$BASE_IMAGE"; then
  echo "exists (REBUILD_BASE=1 to make it again)"
else
  HOOKS=()
  if compgen -G "$EXTRA_CA_DIR/*.crt" >/dev/null; then
    echo "adding this machine's extra CA certificates: $(cd "$EXTRA_CA_DIR" && ls -- *.crt | tr '\n' ' ')"
    HOOKS=(--customize-hook="cp $EXTRA_CA_DIR/*.crt \"\$1/usr/local/share/ca-certificates/\" && chroot \"\$1\" update-ca-certificates")
  fi
  export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}
  TAR=$(mktemp /tmp/debian-bookworm.XXXXXX.tar)
  run nice -n 19 mmdebstrap --variant=minbase --include=ca-certificates "${HOOKS[@]}" \
      --format=tar bookworm "$TAR" "$SOURCES"
  run podman import --change 'CMD ["bash"]' "$TAR" "$BASE_IMAGE"
  rm -f "$TAR"
fi

if [ "$RUNTIME" = auto ]; then
  for r in crun runc; do
    command -v "$r" >/dev/null || continue
    if err=$(podman --runtime "$r" run --rm "${ULIMITS[@]}" "$BASE_IMAGE" true 2>&1); then RUNTIME=$r; break; fi
    echo "runtime $r cannot start a container here: $(tail -1 <<<"$err")"
  done
  [ "$RUNTIME" != auto ] || { echo "no OCI runtime can start a container here (apt-get install runc crun?)"; exit 1; }
fi
echo "OCI runtime: $RUNTIME"
PODMAN=(podman --runtime "$RUNTIME")

say "2. podman build -> $IMAGE"
BUILD=(--format docker "${ULIMITS[@]}" -f deploy/Dockerfile --ignorefile deploy/Dockerfile.dockerignore
       --build-arg "BASE=$BASE_IMAGE")
if [ -n "$WHEELS" ]; then
  compgen -G "$WHEELS/torch-2.13.0*cpu*.whl" >/dev/null || { echo "no torch-2.13.0 CPU wheel in $WHEELS"; exit 1; }
  BUILD+=(--build-arg "TORCH_PIP_ARGS=--find-links /wheels" --volume "$WHEELS:/wheels:ro")
fi
cd "$ROOT"
run /usr/bin/time -f 'build: wall %e s, CPU %U s user + %S s system' nice -n 19 "${PODMAN[@]}" build "${BUILD[@]}" -t "$IMAGE" .
"${PODMAN[@]}" image inspect "$IMAGE" --format 'image {{.Id}}: {{.Size}} bytes; user {{.Config.User}}' | cut -c1-140
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -F -e "${IMAGE%:*}" -e "${BASE_IMAGE%:*}"

say "3. podman run, health and page"
cleanup() { podman container exists "$NAME" && podman rm -f -t 5 "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
if ss -ltn 2>/dev/null | grep -q ":$PORT "; then echo "port $PORT is in use; set PORT"; exit 1; fi
# podman schedules HEALTHCHECKs with systemd timers; without systemd it logs an error and the
# check runs only on `podman healthcheck run` (done below).
run "${PODMAN[@]}" run -d --name "$NAME" "${ULIMITS[@]}" -p "127.0.0.1:$PORT:8501" "$IMAGE"
PROBE="import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read().decode())"
for i in $(seq 1 180); do
  if out=$(podman exec "$NAME" python -c "$PROBE" 2>/dev/null); then
    echo "inside the container, /_stcore/health answered '$out' after ${i} tries (1 s apart)"; break
  fi
  [ "$(podman inspect "$NAME" --format '{{.State.Running}}')" = true ] || { podman logs "$NAME" | tail -20; exit 1; }
  [ "$i" -lt 180 ] || { echo "never healthy"; podman logs "$NAME" | tail -20; exit 1; }
  sleep 1
done
python3 - "$PORT" <<'PYEOF'
import sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
health = urllib.request.urlopen(base + "/_stcore/health", timeout=10).read().decode()
print(f"from the host, {base}/_stcore/health answered {health!r}")
assert health == "ok"
page = urllib.request.urlopen(base + "/", timeout=10)
html = page.read().decode()
assert page.status == 200 and "<title>" in html, "no app page served"
print(f"from the host, {base}/ served the app page: HTTP {page.status}, {len(html)} bytes")
PYEOF
echo "server process (container user, host uid, pid, command):"
podman top "$NAME" user huser pid args
[ "$(podman top "$NAME" user | tail -n +2 | sort -u)" = app ] || { echo "server does not run as 'app'"; exit 1; }
if run podman healthcheck run "$NAME"; then echo "HEALTHCHECK command: healthy"; else echo "HEALTHCHECK command failed"; exit 1; fi
echo "podman inspect: health status $(podman inspect "$NAME" --format '{{.State.Health.Status}}')"
echo "stopping and removing $NAME"
