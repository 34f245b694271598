#!/bin/sh
# Starts a private dockerd for the tests that load or run images: its own data and exec root,
# no bridge, no iptables, a unix socket under /tmp, listening on nothing else. Writes
# STATE/env with DOCKER_HOST and the PID (stop.sh ends exactly that PID). When dockerd cannot
# start here (not root, no dockerd), env says why in XARCH_TEST_DOCKERD_UNAVAILABLE and the
# tests skip.
# Usage: start.sh STATE_DIR
set -u
state=${1:?usage: start.sh STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)
env_file="$state/env"
unavailable() {
    printf 'XARCH_TEST_DOCKERD_UNAVAILABLE=%s\n' "$1" > "$env_file"
    echo "dockerd unavailable: $1"
    exit 0
}

# A leftover run of this state folder is ended first (by its recorded PID only).
if [ -f "$state/dockerd.pid" ]; then
    "$(dirname "$0")/stop.sh" "$state" >/dev/null 2>&1 || true
    mkdir -p "$state"
fi
command -v dockerd >/dev/null 2>&1 || unavailable "no dockerd on PATH"
[ "$(id -u)" = 0 ] || unavailable "dockerd needs root"

# unix socket paths are limited to 108 bytes: the socket lives under /tmp, named by the state
# folder's checksum so that two build trees do not collide.
tag=$(printf '%s' "$state" | cksum | cut -d' ' -f1)
socket="/tmp/xarch-test-dockerd-$tag.sock"
rm -f "$socket"
mkdir -p "$state/data" "$state/exec"
dockerd \
    --host "unix://$socket" \
    --data-root "$state/data" \
    --exec-root "$state/exec" \
    --pidfile "$state/dockerd.pid" \
    --bridge=none --iptables=false --ip-masq=false \
    --storage-driver=vfs \
    > "$state/dockerd.log" 2>&1 &
pid=$!
echo "$pid" > "$state/started.pid"
echo "$socket" > "$state/socket"

i=0
while [ $i -lt 60 ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        unavailable "dockerd exited: $(tail -n 3 "$state/dockerd.log" | tr '\n' ' ')"
    fi
    if curl -sf --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; then
        {
            printf 'DOCKER_HOST=unix://%s\n' "$socket"
            printf 'XARCH_TEST_DOCKERD_PID=%s\n' "$pid"
            printf 'XARCH_TEST_DOCKERD_STATE=%s\n' "$state"
        } > "$env_file"
        echo "dockerd $pid on unix://$socket"
        exit 0
    fi
    sleep 0.5
    i=$((i + 1))
done
kill "$pid" 2>/dev/null
unavailable "dockerd did not answer within 30 s: $(tail -n 3 "$state/dockerd.log" | tr '\n' ' ')"
