# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the shared test registries: what the registry tests rely on is really there.

Run by ctest (`registry_infra`, fixture `registry`) with Debian's /usr/bin/python3 -m pytest.
Every test uses repositories of its own (infra-<test>/...) so that it can run beside other suites.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import pathlib
import ssl
import subprocess
import tarfile
import time
import urllib.parse

import jwt
import pytest
from cryptography import x509

import registry_env

HERE = pathlib.Path(__file__).resolve().parent
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = ", ".join([INDEX, MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"])


@pytest.fixture(scope="module")
def reg() -> registry_env.RegistryEnv:
    return registry_env.require()


# ---------------------------------------------------------------------------------------------
# helpers


def skopeo(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["skopeo", *args], capture_output=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        pytest.fail(f"skopeo {' '.join(args)} failed ({proc.returncode}):\n"
                    f"{proc.stderr.decode(errors='replace')}")
    return proc


def creds(reg) -> str:
    return f"{reg.user}:{reg.password}"


def layout_blob(reg, digest: str) -> bytes:
    return (pathlib.Path(reg.busybox_oci) / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def request(addr: str, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, tls: ssl.SSLContext | None = None, timeout: float = 10):
    """(status, headers, body); the connection is closed afterwards."""
    host, _, port = addr.rpartition(":")
    if tls:
        conn = http.client.HTTPSConnection(host, int(port), timeout=timeout, context=tls)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def get_token(reg, scopes: list[str], auth: tuple[str, str] | None = None, status: int = 200):
    query = urllib.parse.urlencode([("service", reg.token_service)] +
                                   [("scope", s) for s in scopes])
    realm = urllib.parse.urlsplit(reg.token_realm)
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    got, _, body = request(realm.netloc, "GET", f"{realm.path}?{query}", headers=headers)
    assert got == status, body
    return json.loads(body)


def claims(reg, token: str) -> dict:
    cert = x509.load_pem_x509_certificate(pathlib.Path(reg.token_cert).read_bytes())
    return jwt.decode(token, cert.public_key(), algorithms=["ES256"], audience=reg.token_service,
                      issuer="xarch-test-issuer")


def blob_path(reg, repo: str) -> tuple[str, str]:
    """(path, digest) of the amd64 busybox layer as served from REPO."""
    manifest = json.loads(layout_blob(reg, reg.busybox_manifest("linux/amd64")))
    digest = manifest["layers"][0]["digest"]
    return f"/v2/{repo}/blobs/{digest}", digest


# ---------------------------------------------------------------------------------------------
# the env file and the seeded image


def test_env_file_names_loopback_registries_and_the_seeded_index(reg):
    for key in ("XARCH_TEST_REGISTRY", "XARCH_TEST_REGISTRY_TLS", "XARCH_TEST_REGISTRY_TOKEN",
                "XARCH_TEST_FAULT_PROXY"):
        host, _, port = reg[key].rpartition(":")
        assert host == "127.0.0.1" and port.isdigit(), key
    assert reg.fault_control == f"http://{reg.fault_proxy}/__fault"
    assert reg.token_realm.startswith("http://127.0.0.1:")
    assert pathlib.Path(reg.tls_ca).is_file() and pathlib.Path(reg.tls_cert_dir).is_dir()
    assert os.listdir(reg.tls_cert_dir) == ["ca.crt"]
    assert reg.user == "xarch" and len(reg.password) >= 16
    assert reg.busybox_index_digest.startswith("sha256:")
    pids = [int(p) for p in reg["XARCH_TEST_REGISTRY_PIDS"].split(",")]
    assert len(pids) == 5 and all(pathlib.Path(f"/proc/{p}").exists() for p in pids)


def test_layout_holds_a_three_platform_index_of_real_busybox(reg):
    index = json.loads(layout_blob(reg, reg.busybox_index_digest))
    assert index["mediaType"] == INDEX
    platforms = [m["platform"] for m in index["manifests"]]
    assert platforms == [{"architecture": "amd64", "os": "linux"},
                         {"architecture": "arm64", "os": "linux"},
                         {"architecture": "arm", "os": "linux", "variant": "v7"}]
    machines = {"amd64": 62, "arm64": 183, "arm": 40}  # ELF e_machine
    for desc in index["manifests"]:
        p = desc["platform"]
        key = "/".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x)
        assert reg.busybox_manifest(key) == desc["digest"]
        data = layout_blob(reg, desc["digest"])
        assert sha256(data) == desc["digest"] and len(data) == desc["size"]
        manifest = json.loads(data)
        config = json.loads(layout_blob(reg, manifest["config"]["digest"]))
        assert (config["os"], config["architecture"], config.get("variant")) == \
            (p["os"], p["architecture"], p.get("variant"))
        assert config["config"]["Cmd"] == ["sh"]
        layer = layout_blob(reg, manifest["layers"][0]["digest"])
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
            busybox = tar.getmember("bin/busybox")
            elf = tar.extractfile(busybox).read(20)
            assert elf[:4] == b"\x7fELF"
            assert int.from_bytes(elf[18:20], "little") == machines[p["architecture"]]
            assert tar.getmember("bin/sh").issym() and tar.getmember("bin/sh").linkname == "busybox"


def test_plain_registry_serves_the_seeded_index(reg):
    raw = skopeo("inspect", "--raw", "--tls-verify=false",
                 f"docker://{reg.plain}/{reg.busybox_repo}:{reg.busybox_tag}").stdout
    assert sha256(raw) == reg.busybox_index_digest
    assert raw == layout_blob(reg, reg.busybox_index_digest)
    for platform in ("linux/amd64", "linux/arm64", "linux/arm/v7"):
        digest = reg.busybox_manifest(platform)
        raw = skopeo("inspect", "--raw", "--tls-verify=false",
                     f"docker://{reg.plain}/{reg.busybox_repo}@{digest}").stdout
        assert sha256(raw) == digest


def test_tls_registry_needs_the_ca_and_the_password(reg):
    ref = f"docker://{reg.tls}/{reg.busybox_repo}:{reg.busybox_tag}"
    raw = skopeo("inspect", "--raw", "--cert-dir", reg.tls_cert_dir, "--creds", creds(reg),
                 ref).stdout
    assert sha256(raw) == reg.busybox_index_digest
    no_ca = skopeo("inspect", "--raw", "--creds", creds(reg), ref, check=False)
    assert no_ca.returncode != 0 and b"certificate" in no_ca.stderr
    bad = skopeo("inspect", "--raw", "--cert-dir", reg.tls_cert_dir, "--creds", "xarch:wrong", ref,
                 check=False)
    assert bad.returncode != 0 and b"unauthorized" in bad.stderr.lower()


def test_tls_certificate_is_for_127_0_0_1_and_localhost_and_asks_for_basic(reg):
    ctx = ssl.create_default_context(cafile=reg.tls_ca)
    status, headers, _ = request(reg.tls, "GET", "/v2/", tls=ctx)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic ")
    host, _, port = reg.tls.rpartition(":")
    with ctx.wrap_socket(__import__("socket").create_connection((host, int(port)), timeout=10),
                         server_hostname="localhost") as s:
        sans = s.getpeercert()["subjectAltName"]
    assert ("DNS", "localhost") in sans and ("IP Address", "127.0.0.1") in sans
    assert any(kind == "IP Address" and value.strip() in ("0:0:0:0:0:0:0:1", "::1")
               for kind, value in sans)
    auth = base64.b64encode(creds(reg).encode()).decode()
    status, _, _ = request(reg.tls, "GET", "/v2/", headers={"Authorization": f"Basic {auth}"},
                           tls=ctx)
    assert status == 200


# ---------------------------------------------------------------------------------------------
# the token registry and its issuer


def test_token_registry_serves_the_index_through_the_issuer(reg):
    before = len(reg.token_log())
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "--creds", creds(reg),
                 f"docker://{reg.token}/{reg.busybox_repo}:{reg.busybox_tag}").stdout
    assert sha256(raw) == reg.busybox_index_digest
    issued = reg.token_log()[before:]
    assert any(t["user"] == "xarch" and {"type": "repository", "name": reg.busybox_repo,
                                         "actions": ["pull"]} in t["access"] for t in issued)


def test_token_registry_challenges_with_the_realm_and_service(reg):
    status, headers, _ = request(reg.token, "GET", "/v2/")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'realm="{reg.token_realm}"' in challenge
    assert f'service="{reg.token_service}"' in challenge


def test_anonymous_pull_only_on_public(reg):
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "--no-creds",
                 f"docker://{reg.token}/public/busybox:latest").stdout
    assert sha256(raw) == reg.busybox_index_digest
    denied = skopeo("inspect", "--raw", "--tls-verify=false", "--no-creds",
                    f"docker://{reg.token}/{reg.busybox_repo}:latest", check=False)
    assert denied.returncode != 0
    push = skopeo("--insecure-policy", "copy", "--all", "--dest-tls-verify=false",
                  "--dest-no-creds", f"oci:{reg.busybox_oci}:busybox",
                  f"docker://{reg.token}/public/infra-anon:latest", check=False)
    assert push.returncode != 0


def test_push_is_denied_on_denied_and_allowed_elsewhere(reg):
    src = f"oci:{reg.busybox_oci}:busybox"
    denied = skopeo("--insecure-policy", "copy", "--all", "--dest-tls-verify=false",
                    "--dest-creds", creds(reg), src, f"docker://{reg.token}/denied/infra:latest",
                    check=False)
    assert denied.returncode != 0
    assert b"denied" in denied.stderr.lower() or b"unauthorized" in denied.stderr.lower()
    skopeo("--insecure-policy", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false",
           "--dest-creds", creds(reg), src, f"docker://{reg.token}/infra-push/busybox:latest")
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "--creds", creds(reg),
                 f"docker://{reg.token}/infra-push/busybox:latest").stdout
    assert sha256(raw) == reg.busybox_index_digest


def test_issuer_grants_per_acl_for_several_scopes(reg):
    got = get_token(reg, ["repository:infra-a/x:pull,push", "repository:infra-b/y:pull",
                          "repository:denied/z:pull,push", "registry:catalog:*"],
                    auth=(reg.user, reg.password))
    assert got["token"] == got["access_token"]
    assert got["expires_in"] == int(reg["XARCH_TEST_TOKEN_TTL"])
    issued = time.mktime(time.strptime(got["issued_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(issued - time.time()) < 60
    c = claims(reg, got["token"])
    assert c["sub"] == "xarch" and c["exp"] - c["iat"] == got["expires_in"]
    assert c["access"] == [
        {"type": "repository", "name": "infra-a/x", "actions": ["pull", "push"]},
        {"type": "repository", "name": "infra-b/y", "actions": ["pull"]},
        {"type": "repository", "name": "denied/z", "actions": ["pull"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]
    header = jwt.get_unverified_header(got["token"])
    assert header["alg"] == "ES256" and header["x5c"] and header["kid"].count(":") == 11

    anon = claims(reg, get_token(reg, ["repository:public/x:pull,push",
                                       "repository:library/busybox:pull"])["token"])
    assert anon["sub"] == "" and anon["access"] == [
        {"type": "repository", "name": "public/x", "actions": ["pull"]}]
    get_token(reg, ["repository:a:pull"], auth=(reg.user, "wrong"), status=401)
    get_token(reg, ["repository:a:pull"], auth=("nobody", reg.password), status=401)


def test_short_lived_tokens_for_the_short_user(reg):
    user = reg["XARCH_TEST_TOKEN_SHORT_USER"]
    got = get_token(reg, ["repository:infra-short/x:pull"], auth=(user, reg.password))
    ttl = int(reg["XARCH_TEST_TOKEN_SHORT_TTL"])
    assert got["expires_in"] == ttl
    c = claims(reg, got["token"])
    assert c["exp"] - c["iat"] == ttl


def test_registry_accepts_the_issuers_tokens_by_scope(reg):
    path = f"/v2/{reg.busybox_repo}/manifests/{reg.busybox_tag}"
    good = get_token(reg, [f"repository:{reg.busybox_repo}:pull"], auth=(reg.user, reg.password))
    status, headers, body = request(reg.token, "GET", path, headers={
        "Authorization": f"Bearer {good['token']}", "Accept": ACCEPT})
    assert status == 200 and headers["Docker-Content-Digest"] == reg.busybox_index_digest
    assert sha256(body) == reg.busybox_index_digest
    other = get_token(reg, ["repository:public/busybox:pull"])
    status, headers, _ = request(reg.token, "GET", path, headers={
        "Authorization": f"Bearer {other['token']}", "Accept": ACCEPT})
    assert status == 401 and 'error="insufficient_scope"' in headers["WWW-Authenticate"]


def test_issuer_oauth2_password_and_refresh_grants(reg):
    realm = urllib.parse.urlsplit(reg.token_realm)

    def post(form: dict):
        status, _, body = request(realm.netloc, "POST", realm.path,
                                  body=urllib.parse.urlencode(form).encode(),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        return status, json.loads(body)

    status, got = post({"grant_type": "password", "username": reg.user, "password": reg.password,
                        "service": reg.token_service, "client_id": "xarch-tests",
                        "access_type": "offline",
                        "scope": "repository:infra-oauth/a:pull,push "
                                 "repository:infra-oauth/b:pull"})
    assert status == 200 and got["refresh_token"] and got["expires_in"] > 0
    assert claims(reg, got["access_token"])["access"][0]["actions"] == ["pull", "push"]
    status, again = post({"grant_type": "refresh_token", "refresh_token": got["refresh_token"],
                          "service": reg.token_service, "client_id": "xarch-tests",
                          "scope": "repository:infra-oauth/c:push"})
    assert status == 200 and claims(reg, again["access_token"])["access"] == [
        {"type": "repository", "name": "infra-oauth/c", "actions": ["push"]}]
    assert post({"grant_type": "password", "username": reg.user, "password": "x",
                 "service": reg.token_service})[0] == 401
    assert post({"grant_type": "refresh_token", "refresh_token": "nope",
                 "service": reg.token_service})[0] == 401
    assert post({"grant_type": "client_credentials"})[0] == 400


# ---------------------------------------------------------------------------------------------
# the fault proxy


@pytest.fixture
def fault(reg):
    """fault(kind, **fields) → rule id, on the busybox layer of the proxy repo infra-<test>; rules
    left over are removed afterwards."""
    ids = []

    def add(kind: str, path: str, **fields) -> int:
        ids.append(reg.add_fault(kind, path=path, **fields))
        return ids[-1]

    yield add
    active = {r["id"] for r in reg.faults()["rules"]}
    for rule_id in ids:
        if rule_id in active:
            reg.remove_fault(rule_id)


@pytest.fixture(scope="module")
def proxied(reg) -> tuple[str, str, bytes]:
    """(path, digest, bytes) of the amd64 layer in repo infra-fault/busybox (seeded through the
    proxy's upstream)."""
    skopeo("--insecure-policy", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false",
           f"oci:{reg.busybox_oci}:busybox", f"docker://{reg.plain}/infra-fault/busybox:latest")
    path, digest = blob_path(reg, "infra-fault/busybox")
    return path, digest, layout_blob(reg, digest)


def test_proxy_forwards_without_faults(reg, proxied):
    path, digest, data = proxied
    status, headers, body = request(reg.fault_proxy, "GET", path)
    assert status == 200 and body == data
    status, headers, body = request(reg.fault_proxy, "HEAD", path)
    assert status == 200 and int(headers["Content-Length"]) == len(data) and body == b""
    raw = skopeo("inspect", "--raw", "--tls-verify=false",
                 f"docker://{reg.fault_proxy}/infra-fault/busybox:latest").stdout
    assert sha256(raw) == reg.busybox_index_digest


def test_status500_then_normal(reg, proxied, fault):
    path, _, data = proxied
    fault("status500", path, count=2)
    assert request(reg.fault_proxy, "GET", path)[0] == 500
    status, _, body = request(reg.fault_proxy, "GET", path)
    assert status == 500 and json.loads(body)["errors"][0]["code"] == "UNKNOWN"
    assert request(reg.fault_proxy, "GET", path)[2] == data


def test_status429_with_retry_after(reg, proxied, fault):
    path, _, _ = proxied
    fault("status429-retry-after", path, retry_after=3)
    status, headers, _ = request(reg.fault_proxy, "GET", path)
    assert status == 429 and headers["Retry-After"] == "3"
    fault("status429", path)
    assert request(reg.fault_proxy, "GET", path)[1]["Retry-After"] == "1"


def test_reset_before_any_answer(reg, proxied, fault):
    path, _, _ = proxied
    fault("reset", path)
    with pytest.raises(ConnectionError):  # RemoteDisconnected or ConnectionResetError
        request(reg.fault_proxy, "GET", path)


def test_reset_mid_body(reg, proxied, fault):
    path, _, data = proxied
    fault("reset-mid-body", path)
    with pytest.raises((ConnectionError, http.client.IncompleteRead)):
        request(reg.fault_proxy, "GET", path)
    assert request(reg.fault_proxy, "GET", path)[2] == data


def test_truncate_body(reg, proxied, fault):
    path, _, data = proxied
    fault("truncate-body", path)
    with pytest.raises(http.client.IncompleteRead) as e:
        request(reg.fault_proxy, "GET", path)
    assert e.value.partial == data[: len(data) // 2]


def test_corrupt_body_keeps_the_length(reg, proxied, fault):
    path, digest, data = proxied
    fault("corrupt-body", path)
    status, headers, body = request(reg.fault_proxy, "GET", path)
    assert status == 200 and len(body) == len(data) and sha256(body) != digest
    assert headers["Docker-Content-Digest"] == digest


def test_corrupt_request_body_makes_the_registry_refuse_the_blob(reg, fault):
    data = os.urandom(4096)
    digest = sha256(data)
    repo = "infra-upload/x"

    def upload() -> tuple[int, bytes]:
        status, headers, _ = request(reg.fault_proxy, "POST", f"/v2/{repo}/blobs/uploads/")
        assert status == 202
        location = urllib.parse.urlsplit(headers["Location"])
        target = f"{location.path}?{location.query}&digest={urllib.parse.quote(digest)}"
        status, _, body = request(reg.fault_proxy, "PUT", target, body=data,
                                  headers={"Content-Type": "application/octet-stream"})
        return status, body

    fault("corrupt-request-body", f"/v2/{repo}/blobs/uploads/.+digest=", method="PUT")
    status, body = upload()
    assert status == 400 and json.loads(body)["errors"][0]["code"] == "DIGEST_INVALID"
    assert request(reg.plain, "HEAD", f"/v2/{repo}/blobs/{digest}")[0] == 404
    assert upload()[0] == 201
    assert request(reg.plain, "HEAD", f"/v2/{repo}/blobs/{digest}")[0] == 200


def test_delay_status_and_header_form(reg, proxied, fault):
    path, _, data = proxied
    fault("delay", path, delay=0.5)
    start = time.monotonic()
    assert request(reg.fault_proxy, "GET", path)[2] == data
    assert time.monotonic() - start >= 0.5
    fault("status", path, status=401, headers={"WWW-Authenticate": 'Basic realm="x"'},
          body={"errors": [{"code": "UNAUTHORIZED"}]})
    status, headers, body = request(reg.fault_proxy, "GET", path)
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="x"'
    status, headers, _ = request(reg.fault_proxy, "GET", path,
                                 headers={"X-Xarch-Fault": "status429;retry_after=7"})
    assert status == 429 and headers["Retry-After"] == "7"
    assert request(reg.fault_proxy, "GET", path)[0] == 200


def test_rules_filter_by_method_count_and_can_be_removed(reg, proxied, fault):
    path, _, _ = proxied
    fault("status500", path, method="HEAD")
    assert request(reg.fault_proxy, "GET", path)[0] == 200
    assert request(reg.fault_proxy, "HEAD", path)[0] == 500
    forever = fault("status500", path, count=-1)
    assert [request(reg.fault_proxy, "GET", path)[0] for _ in range(3)] == [500] * 3
    assert any(r["id"] == forever for r in reg.faults()["rules"])
    reg.remove_fault(forever)
    assert request(reg.fault_proxy, "GET", path)[0] == 200
    applied = [a for a in reg.faults()["applied"] if a["id"] == forever]
    assert len(applied) == 3
    log = reg.proxy_log()
    assert log[-1]["path"] == path and log[-1]["status"] == 200 and log[-1]["fault"] is None
    control = urllib.parse.urlsplit(reg.fault_control)
    status, _, body = request(control.netloc, "POST", control.path, body=b'{"kind":"nonsense"}')
    assert status == 400 and b"unknown kind" in body


# ---------------------------------------------------------------------------------------------
# start and stop


def live(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive


def start(state: pathlib.Path) -> dict:
    proc = subprocess.run([str(HERE / "start"), str(state), "--no-seed"], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in (state / "env").read_text().splitlines())


def test_start_replaces_a_leftover_run_and_stop_leaves_nothing(reg, tmp_path):
    state = tmp_path / "state"
    first = start(state)
    first_pids = [int(p) for p in first["XARCH_TEST_REGISTRY_PIDS"].split(",")]
    assert len(live(first_pids)) == 5
    second = start(state)  # as after a run whose stop fixture never ran
    second_pids = [int(p) for p in second["XARCH_TEST_REGISTRY_PIDS"].split(",")]
    assert live(first_pids) == [] and len(live(second_pids)) == 5
    assert request(second["XARCH_TEST_REGISTRY"], "GET", "/v2/")[0] == 200

    proc = subprocess.run([str(HERE / "stop"), str(state)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert live(second_pids) == [] and not state.exists()
    marker = f"XARCH_REGISTRY_INFRA_OWNER={state}".encode()
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit() and live([int(entry.name)]):
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            assert marker not in environ, f"pid {entry.name} survived stop"
    # The shared registries are untouched.
    assert request(reg.plain, "GET", "/v2/")[0] == 200
