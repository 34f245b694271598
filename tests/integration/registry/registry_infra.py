# SPDX-License-Identifier: Apache-2.0
"""Starts and stops the shared test registries (see README.md beside this file).

Used by the `start` and `stop` scripts; Debian's /usr/bin/python3 only. Every process it starts
runs in its own session with its output in a log file under the state folder, and its PID goes to
`<state>/pids` the moment it starts, so `stop` (or the next `start`) finds it even after a crash.
Each carries XARCH_REGISTRY_INFRA_OWNER=<state> in its environment, and a PID is only signalled
while it still does (no accidents when a PID is reused).
"""

from __future__ import annotations

import http.client
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"
REGISTRY_BIN = "docker-registry"
USER = "xarch"
SHORT_USER = "xarch-short"  # same password, short-lived tokens (expiry tests)
SERVICE = "xarch-test-registry"
ISSUER = "xarch-test-issuer"
OWNER_VAR = "XARCH_REGISTRY_INFRA_OWNER"  # marks the processes started for one state folder
LISTENING = re.compile(r"listening on (\S+?:\d+)\b")


class StartError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"registry-infra: {msg}", file=sys.stderr, flush=True)


def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    except FileNotFoundError:
        raise StartError(f"{cmd[0]} not found: run scripts/setup (it installs the test packages)")
    except subprocess.CalledProcessError as e:
        raise StartError(f"{' '.join(cmd)} failed ({e.returncode}):\n{e.stderr.strip()}")


def tail(path: pathlib.Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "    (no log)"
    return "\n".join("    " + line for line in text[-lines:]) or "    (empty log)"


# ---------------------------------------------------------------------------------------------
# processes


def read_pids(state: pathlib.Path) -> list[tuple[str, int]]:
    try:
        lines = (state / "pids").read_text().split("\n")
    except OSError:
        return []
    out = []
    for line in lines:
        name, _, pid = line.partition(" ")
        if pid.strip().isdigit():
            out.append((name, int(pid)))
    return out


def ours(pid: int, state: pathlib.Path) -> bool:
    """Whether PID is alive (not a zombie) and one of the processes started for this state folder:
    each carries OWNER_VAR=<state> in its environment."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        environ = pathlib.Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    if stat.rpartition(")")[2].split()[0] in ("Z", "X"):
        return False
    return f"{OWNER_VAR}={state}".encode() in environ.split(b"\0")


def leftovers(state: pathlib.Path) -> list[int]:
    """Every live process started for the state folder (a check, never a kill list)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and ours(int(entry.name), state):
            found.append(int(entry.name))
    return found


def stop(state: pathlib.Path, remove: bool = True) -> list[str]:
    """Ends exactly the recorded processes (TERM, then KILL after 5 s); returns what survived."""
    state = state.resolve()
    pids = [(n, p) for n, p in read_pids(state) if ours(p, state)]
    for name, pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(ours(p, state) for _, p in pids):
        time.sleep(0.05)
    for name, pid in pids:
        if ours(pid, state):
            log(f"{name} (pid {pid}) ignored SIGTERM; sending SIGKILL")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(ours(p, state) for _, p in pids):
        time.sleep(0.05)
    survivors = [f"{n} (pid {p})" for n, p in pids if ours(p, state)]
    if remove and not survivors and state.exists():
        shutil.rmtree(state, ignore_errors=True)
    return survivors


class Launcher:
    def __init__(self, state: pathlib.Path):
        self.state = state
        self.procs: dict[str, subprocess.Popen] = {}

    def spawn(self, name: str, cmd: list[str], logfile: pathlib.Path):
        env = dict(os.environ, **{OWNER_VAR: str(self.state)})
        with open(logfile, "wb") as out:
            try:
                proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True, close_fds=True, env=env, cwd=self.state)
            except FileNotFoundError:
                raise StartError(f"{cmd[0]} not found: run scripts/setup (it installs the "
                                 f"test packages)")
        self.procs[name] = proc
        with open(self.state / "pids", "a") as f:
            f.write(f"{name} {proc.pid}\n")
        return proc

    def wait_listening(self, name: str, logfile: pathlib.Path, timeout: float = 20) -> str:
        """Waits for the "listening on HOST:PORT" line (the registry's and our own scripts')."""
        proc = self.procs[name]
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = LISTENING.search(logfile.read_text(errors="replace"))
            except OSError:
                m = None
            if m:
                addr = m.group(1)
                port = addr.rpartition(":")[2]
                return f"127.0.0.1:{port}"
            if proc.poll() is not None:
                raise StartError(f"{name} exited with status {proc.returncode} before listening; "
                                 f"its log ({logfile}):\n{tail(logfile)}")
            if time.monotonic() > deadline:
                raise StartError(f"{name} did not report a listening address in {timeout:.0f} s; "
                                 f"its log ({logfile}):\n{tail(logfile)}")
            time.sleep(0.02)


def wait_http(name: str, addr: str, path: str, logfile: pathlib.Path, proc: subprocess.Popen,
              tls: ssl.SSLContext | None = None, timeout: float = 20) -> int:
    """Polls GET path until any HTTP answer comes; returns its status."""
    host, _, port = addr.rpartition(":")
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            if tls:
                conn = http.client.HTTPSConnection(host, int(port), timeout=2, context=tls)
            else:
                conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            return status
        except (OSError, http.client.HTTPException) as e:
            last = repr(e)
        if proc.poll() is not None:
            raise StartError(f"{name} exited with status {proc.returncode}; "
                             f"its log ({logfile}):\n{tail(logfile)}")
        if time.monotonic() > deadline:
            raise StartError(f"{name} at {addr} did not answer GET {path} in {timeout:.0f} s "
                             f"(last error {last}); its log ({logfile}):\n{tail(logfile)}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# configuration


def make_certs(certs: pathlib.Path, keys: pathlib.Path) -> None:
    """A throwaway CA, a server certificate for 127.0.0.1/localhost/::1 signed by it, and a
    self-signed ES256 key+certificate for the token issuer. certs/ holds only ca.crt, so that it
    serves as a `--cert-dir` (skopeo) or a Docker certs.d folder as it is."""
    certs.mkdir(parents=True)
    keys.mkdir(parents=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", str(keys / "ca.key"),
        "-out", str(certs / "ca.crt"), "-days", "7", "-subj", "/CN=xarch test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-new", *ec, "-keyout", str(keys / "server.key"),
        "-out", str(keys / "server.csr"), "-subj", "/CN=127.0.0.1")
    ext = keys / "server.ext"
    ext.write_text("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n"
                   "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", str(keys / "server.csr"), "-CA", str(certs / "ca.crt"),
        "-CAkey", str(keys / "ca.key"), "-CAserial", str(keys / "ca.srl"), "-CAcreateserial",
        "-out", str(keys / "server.crt"),        "-days", "7", "-extfile", str(ext))
    run("openssl", "req", "-x509", *ec, "-keyout", str(keys / "issuer.key"),
        "-out", str(keys / "issuer.crt"), "-days", "7", "-subj", "/CN=xarch test token issuer")


def registry_config(root: pathlib.Path, secret: str, extra: str) -> pathlib.Path:
    (root / "data").mkdir(parents=True)
    config = root / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: {root / "data"}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: {secret}
  headers:
    X-Content-Type-Options: [nosniff]
{extra}""")
    return config


# ---------------------------------------------------------------------------------------------
# start


def start(state: pathlib.Path, data_dir: pathlib.Path, seed: bool, token_ttl: int,
          short_ttl: int) -> pathlib.Path:
    state = state.resolve()
    if state.exists():
        survivors = stop(state)  # a run that was interrupted before its stop fixture
        if survivors:
            raise StartError(f"processes of an earlier run survive: {', '.join(survivors)}")
        shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    started = time.monotonic()
    launcher = Launcher(state)
    try:
        env = _start(state, launcher, token_ttl, short_ttl)
        partial = state / "env.partial"
        partial.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        if seed:
            data_dir.mkdir(parents=True, exist_ok=True)
            t = time.monotonic()
            proc = subprocess.run([str(HERE / "seed"), str(partial), str(data_dir)],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True)
            (state / "seed.log").write_text(proc.stdout + proc.stderr)
            if proc.returncode != 0:
                raise StartError(f"seed failed ({proc.returncode}); its output:\n"
                                 f"{tail(state / 'seed.log', 40)}")
            log(f"seeded in {time.monotonic() - t:.1f} s")
        partial.rename(state / "env")
    except BaseException:
        survivors = stop(state, remove=False)
        if survivors:
            log(f"could not end {', '.join(survivors)}")
        raise
    log(f"ready in {time.monotonic() - started:.1f} s; env file {state / 'env'}")
    return state / "env"


def _start(state: pathlib.Path, launcher: Launcher, token_ttl: int, short_ttl: int) -> dict:
    certs, keys = state / "certs", state / "keys"
    make_certs(certs, keys)
    password = secrets.token_urlsafe(18)
    htpasswd = keys / "htpasswd"
    htpasswd.write_text(run("htpasswd", "-nbB", USER, password).stdout.strip() + "\n")

    # The token issuer first: the token registry's config names its realm.
    (state / "token").mkdir()
    issuer_conf = state / "token" / "issuer.json"
    issuer_conf.write_text(json.dumps({
        "host": "127.0.0.1", "port": 0, "users": {USER: password, SHORT_USER: password},
        "ttl": token_ttl, "ttl_by_user": {SHORT_USER: short_ttl}, "issuer": ISSUER,
        "key": str(keys / "issuer.key"), "cert": str(keys / "issuer.crt"),
    }, indent=2))
    issuer_log = state / "token" / "issuer.log"
    launcher.spawn("issuer", [PYTHON, str(HERE / "token_issuer.py"), str(issuer_conf)], issuer_log)

    registries = {
        "plain": "",
        "tls": f"""  tls:
    certificate: {keys / "server.crt"}
    key: {keys / "server.key"}
auth:
  htpasswd:
    realm: xarch-test-basic
    path: {htpasswd}
""",
    }
    logs = {}
    for name, extra in registries.items():
        root = state / name
        config = registry_config(root, secrets.token_hex(16), extra)
        logs[name] = root / "registry.log"
        launcher.spawn(name, [REGISTRY_BIN, "serve", str(config)], logs[name])

    issuer = launcher.wait_listening("issuer", issuer_log)
    realm = f"http://{issuer}/token"
    root = state / "token"
    config = registry_config(root, secrets.token_hex(16), f"""auth:
  token:
    realm: {realm}
    service: {SERVICE}
    issuer: {ISSUER}
    rootcertbundle: {keys / "issuer.crt"}
""")
    logs["token"] = root / "registry.log"
    launcher.spawn("token", [REGISTRY_BIN, "serve", str(config)], logs["token"])

    addrs = {name: launcher.wait_listening(name, logs[name]) for name in ("plain", "tls", "token")}
    proxy_log = state / "fault-proxy.log"
    launcher.spawn("fault-proxy", [PYTHON, str(HERE / "fault_proxy.py"), "--upstream",
                                   addrs["plain"]], proxy_log)
    proxy = launcher.wait_listening("fault-proxy", proxy_log)

    tls = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    checks = [("plain", addrs["plain"], "/v2/", logs["plain"], None, {200}),
              ("tls", addrs["tls"], "/v2/", logs["tls"], tls, {401}),
              ("token", addrs["token"], "/v2/", logs["token"], None, {401}),
              ("issuer", issuer, "/__health", issuer_log, None, {200}),
              ("fault-proxy", proxy, "/v2/", proxy_log, None, {200})]
    for name, addr, path, logfile, ctx, want in checks:
        status = wait_http(name, addr, path, logfile, launcher.procs[name], ctx)
        if status not in want:
            raise StartError(f"{name} at {addr} answered GET {path} with {status}, "
                             f"expected {sorted(want)}; its log:\n{tail(logfile)}")

    pids = {name: proc.pid for name, proc in launcher.procs.items()}
    return {
        "XARCH_TEST_REGISTRY": addrs["plain"],
        "XARCH_TEST_REGISTRY_TLS": addrs["tls"],
        "XARCH_TEST_REGISTRY_TLS_CA": str(certs / "ca.crt"),
        "XARCH_TEST_REGISTRY_TLS_CERT_DIR": str(certs),
        "XARCH_TEST_REGISTRY_USER": USER,
        "XARCH_TEST_REGISTRY_PASSWORD": password,
        "XARCH_TEST_REGISTRY_TOKEN": addrs["token"],
        "XARCH_TEST_TOKEN_REALM": realm,
        "XARCH_TEST_TOKEN_SERVICE": SERVICE,
        "XARCH_TEST_TOKEN_ISSUER": f"http://{issuer}",
        "XARCH_TEST_TOKEN_CERT": str(keys / "issuer.crt"),
        "XARCH_TEST_TOKEN_TTL": str(token_ttl),
        "XARCH_TEST_TOKEN_SHORT_USER": SHORT_USER,
        "XARCH_TEST_TOKEN_SHORT_TTL": str(short_ttl),
        "XARCH_TEST_FAULT_PROXY": proxy,
        "XARCH_TEST_FAULT_CONTROL": f"http://{proxy}/__fault",
        "XARCH_TEST_REGISTRY_STATE": str(state),
        "XARCH_TEST_REGISTRY_PIDS": ",".join(str(p) for p in pids.values()),
        **{f"XARCH_TEST_PID_{name.upper().replace('-', '_')}": str(pid)
           for name, pid in pids.items()},
    }
