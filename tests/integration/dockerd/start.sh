#!/bin/sh
# Starts a private dockerd for the tests that load or run images: its own data and exec root,
# no bridge, no iptables, a unix socket under /tmp, and a TLS listener on a free loopback port
# that wants a client certificate (--tlsverify; CA, server and client certificates made here by
# openssl). Writes STATE/env with DOCKER_HOST, DOCKER_TLS_HOST and DOCKER_TLS_CERT_PATH (the
# client's ca.pem, cert.pem, key.pem) and the PID (stop.sh ends exactly that PID). Without
# openssl or python3 there is no TLS listener and no DOCKER_TLS_* line. When dockerd cannot
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

# The TLS listener: a throwaway CA (EC P-256, two days), a server certificate for 127.0.0.1 and
# a client certificate with clientAuth. Any failure leaves the engine without it.
make_tls() {
    tls="$state/tls"
    mkdir -p "$tls/client" || return 1
    (
        set -e
        cd "$tls"
        ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        # shellcheck disable=SC2086
        openssl req -x509 $ec -keyout ca-key.pem -out ca.pem -days 2 \
            -subj "/CN=xarch test dockerd CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        # shellcheck disable=SC2086
        openssl req $ec -keyout server-key.pem -out server.csr -subj "/CN=127.0.0.1"
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -out server-cert.pem -days 2 -extfile server.ext
        # shellcheck disable=SC2086
        openssl req $ec -keyout client/key.pem -out client.csr -subj "/CN=xarch-test-client"
        printf 'extendedKeyUsage=clientAuth\n' > client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -out client/cert.pem -days 2 -extfile client.ext
        cp ca.pem client/ca.pem
    ) > "$state/tls.log" 2>&1 || return 1
    # A free loopback port: the kernel picks one, released just before dockerd takes it.
    tls_port=$("$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>>"$state/tls.log") || return 1
    [ -n "$tls_port" ]
}
tls_args=""
tls_port=""
python=$(command -v /usr/bin/python3 || command -v python3)
if command -v openssl >/dev/null 2>&1 && [ -n "$python" ] && make_tls; then
    tls_args="--host tcp://127.0.0.1:$tls_port --tlsverify --tlscacert $state/tls/ca.pem"
    tls_args="$tls_args --tlscert $state/tls/server-cert.pem --tlskey $state/tls/server-key.pem"
else
    tls_port=""
fi

launch() {
    # shellcheck disable=SC2086
    dockerd \
        --host "unix://$socket" $tls_args \
        --data-root "$state/data" \
        --exec-root "$state/exec" \
        --pidfile "$state/dockerd.pid" \
        --bridge=none --iptables=false --ip-masq=false \
        --storage-driver=vfs \
        > "$state/dockerd.log" 2>&1 &
    pid=$!
    echo "$pid" > "$state/started.pid"
}
launch
echo "$socket" > "$state/socket"

i=0
while [ $i -lt 60 ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        if [ -n "$tls_port" ]; then
            # The free port was taken meanwhile (or TLS was refused): the socket is what most
            # tests need, so start again without the TLS listener.
            cp "$state/dockerd.log" "$state/dockerd-tls-failed.log"
            tls_args=""
            tls_port=""
            rm -f "$state/dockerd.pid"
            launch
            continue
        fi
        unavailable "dockerd exited: $(tail -n 3 "$state/dockerd.log" | tr '\n' ' ')"
    fi
    if curl -sf --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1 &&
        { [ -z "$tls_port" ] || curl -sf --cacert "$state/tls/client/ca.pem" \
            --cert "$state/tls/client/cert.pem" --key "$state/tls/client/key.pem" \
            "https://127.0.0.1:$tls_port/_ping" >/dev/null 2>&1; }; then
        {
            printf 'DOCKER_HOST=unix://%s\n' "$socket"
            if [ -n "$tls_port" ]; then
                printf 'DOCKER_TLS_HOST=tcp://127.0.0.1:%s\n' "$tls_port"
                printf 'DOCKER_TLS_CERT_PATH=%s\n' "$state/tls/client"
            fi
            printf 'XARCH_TEST_DOCKERD_PID=%s\n' "$pid"
            printf 'XARCH_TEST_DOCKERD_STATE=%s\n' "$state"
        } > "$env_file"
        echo "dockerd $pid on unix://$socket${tls_port:+ and tcp://127.0.0.1:$tls_port (TLS)}"
        exit 0
    fi
    sleep 0.5
    i=$((i + 1))
done
kill "$pid" 2>/dev/null
unavailable "dockerd did not answer within 30 s: $(tail -n 3 "$state/dockerd.log" | tr '\n' ' ')"
