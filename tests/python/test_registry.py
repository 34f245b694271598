# SPDX-License-Identifier: Apache-2.0
"""xarch.Registry against the shared test registries (tests/integration/registry): the seeded
busybox index, pull to a layout and push back, copy of a platform subset, create_index and
inspect, blobs and tags, TLS + Basic auth through a credentials callable, faults through the
proxy, cancellation by the progress callable (returning False or raising). Skips when the
registries are not there (the `python_registry` ctest runs it with them)."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import secrets
import socket
import socketserver
import sys
import threading
from typing import Iterator, List, Optional, Tuple

import pytest

import xarch
from xarch import Descriptor, Platform, Reference, Registry

from conftest import source_dir

sys.path.insert(0, str(source_dir() / "tests" / "integration" / "registry"))
import registry_env  # noqa: E402  (found through the path above)

INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(scope="module")
def env() -> registry_env.RegistryEnv:
    return registry_env.require()


@pytest.fixture
def registry() -> Iterator[Registry]:
    # Anonymous, so that the developer's ~/.docker/config.json cannot change the outcome.
    with Registry(anonymous=True, retry_attempts=2) as client:
        yield client


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A repository of this test's own: the registries are shared by tests running at once."""
    return f"python/{request.node.name.replace('_', '-').lower()}-{os.getpid()}"


def busybox(env: registry_env.RegistryEnv, registry: str) -> str:
    return f"{registry}/{env.busybox_repo}:{env.busybox_tag}"


def seeded_blob(env: registry_env.RegistryEnv, digest: str) -> bytes:
    return (pathlib.Path(env.busybox_oci) / "blobs" / "sha256" / digest[len("sha256:"):]).read_bytes()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_resolves_and_fetches_the_seeded_index(env, registry: Registry) -> None:
    reference = busybox(env, env.plain)
    descriptor = registry.resolve(reference)
    assert descriptor.digest == env.busybox_index_digest
    assert descriptor.media_type == INDEX
    assert str(descriptor.size) == env["XARCH_TEST_BUSYBOX_INDEX_SIZE"]
    assert registry.resolve(Reference.parse(reference)) == descriptor, "str or Reference"

    raw = registry.fetch_manifest(reference)
    assert raw.bytes == seeded_blob(env, env.busybox_index_digest), "exact bytes"
    assert raw.digest == env.busybox_index_digest == sha256(raw.bytes)
    assert raw.media_type == INDEX

    for platform in ("linux/arm64", Platform.parse("arm64")):
        chosen = registry.resolve_platform(reference, platform)
        assert chosen.digest == env.busybox_manifest("linux/arm64")
    with pytest.raises(xarch.NotFoundError) as missing:
        registry.resolve_platform(reference, "linux/s390x")
    assert "linux/s390x" in str(missing.value) and "linux/arm/v7" in str(missing.value)
    assert isinstance(missing.value, LookupError)


def test_pulls_to_a_layout_and_pushes_it_back(env, registry: Registry, name: str,
                                              tmp_path: pathlib.Path) -> None:
    layout = tmp_path / "layout"
    pulled = registry.pull(busybox(env, env.plain), layout)
    assert pulled.digest == env.busybox_index_digest
    index = json.loads((layout / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [env.busybox_index_digest]
    for platform in ("linux/amd64", "linux/arm64", "linux/arm/v7"):
        manifest = json.loads(seeded_blob(env, env.busybox_manifest(platform)))
        for blob in [manifest["config"], *manifest["layers"]]:
            path = layout / "blobs" / "sha256" / blob["digest"][len("sha256:"):]
            assert sha256(path.read_bytes()) == blob["digest"]

    by_tag = registry.push(layout, env.busybox_tag, f"{env.plain}/{name}:by-tag")
    assert by_tag.digest == env.busybox_index_digest
    assert registry.resolve(f"{env.plain}/{name}:by-tag") == by_tag
    by_digest = registry.push(str(layout), env.busybox_index_digest, f"{env.plain}/{name}:by-digest")
    assert registry.fetch_manifest(f"{env.plain}/{name}:by-digest").digest == by_digest.digest
    with pytest.raises(xarch.NotFoundError, match="no-such-name"):
        registry.push(layout, "no-such-name", f"{env.plain}/{name}:x")


def test_copies_and_pulls_a_platform_subset(env, registry: Registry, name: str,
                                            tmp_path: pathlib.Path) -> None:
    destination = f"{env.plain}/{name}:subset"
    copied = registry.copy(busybox(env, env.plain), destination,
                           platforms=[Platform.parse("arm64"), "linux/arm/v7"])
    index = registry.fetch_manifest(destination)
    assert copied.digest == index.digest
    assert [m["digest"] for m in index.json()["manifests"]] == [
        env.busybox_manifest("linux/arm64"), env.busybox_manifest("linux/arm/v7")]

    full = registry.copy(busybox(env, env.plain), f"{env.plain}/{name}:all")
    assert full.digest == env.busybox_index_digest, "a full copy keeps the index's digest"

    layout = tmp_path / "one"
    registry.pull(busybox(env, env.plain), layout, platforms="arm64")
    blobs = layout / "blobs" / "sha256"
    assert (blobs / env.busybox_manifest("linux/arm64")[len("sha256:"):]).exists()
    assert not (blobs / env.busybox_manifest("linux/amd64")[len("sha256:"):]).exists()


def test_creates_an_index_and_inspects_it(env, registry: Registry, name: str) -> None:
    base = Reference.parse_repository(f"{env.plain}/{env.busybox_repo}")
    sources = [base.with_digest(env.busybox_manifest(p)) for p in ("linux/amd64", "linux/arm64")]
    destination = f"{env.plain}/{name}:created"
    created = registry.create_index(destination, sources,
                                    {"org.opencontainers.image.description": "two"})
    inspected = registry.inspect(destination)
    assert inspected.descriptor == created
    assert inspected.raw.digest == created.digest == sha256(inspected.raw.bytes)
    assert inspected.manifest is None and inspected.config is None
    assert inspected.index is not None
    assert [m["platform"]["architecture"] for m in inspected.index["manifests"]] == [
        "amd64", "arm64"]
    assert inspected.index["annotations"] == {"org.opencontainers.image.description": "two"}

    single = registry.inspect(sources[1])
    assert single.config is not None and single.config["architecture"] == "arm64"
    assert single.manifest is not None and single.platform == Platform("linux", "arm64")


def test_blobs_tags_catalog_and_delete(env, registry: Registry, name: str,
                                       tmp_path: pathlib.Path) -> None:
    repository = f"{env.plain}/{name}"
    content = secrets.token_bytes(100 * 1024 + 3)
    assert not registry.blob_exists(repository, sha256(content))
    blob = registry.push_blob(repository, content)
    assert blob == Descriptor.of("application/octet-stream", content)
    assert registry.blob_exists(repository, blob.digest)
    assert registry.fetch_blob(repository, blob) == content
    assert registry.fetch_blob(repository, blob, tmp_path / "blob") is None
    assert (tmp_path / "blob").read_bytes() == content

    # From a file; the descriptor is computed from it.
    upload = tmp_path / "upload"
    upload.write_bytes(secrets.token_bytes(4096))
    from_file = registry.push_blob(repository, upload, media_type="application/x.test")
    assert from_file.digest == sha256(upload.read_bytes())
    assert from_file.media_type == "application/x.test"
    assert registry.blob_exists(repository, from_file.digest)
    wrong = Descriptor.of("application/octet-stream", b"something else")
    with pytest.raises(xarch.DigestMismatchError):
        registry.push_blob(repository, content, descriptor=wrong)
    with pytest.raises(xarch.DigestMismatchError, match="upload"):
        registry.push_blob(repository, upload, descriptor=wrong)
    same_size = Descriptor.of("application/octet-stream", bytes(len(upload.read_bytes())))
    with pytest.raises(xarch.DigestMismatchError):
        registry.push_blob(repository, upload, descriptor=same_size)

    mounted = f"{env.plain}/{name}-mounted"
    assert registry.mount_blob(mounted, blob.digest, from_=repository) is True
    assert registry.blob_exists(mounted, blob.digest)

    config = registry.push_blob(repository, b"{}", media_type="application/vnd.oci.empty.v1+json")
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": json.loads(config.to_json()),
        "layers": [],
    }, separators=(",", ":")).encode()
    for tag in ("a", "b", "c"):
        pushed = registry.push_manifest(f"{repository}:{tag}", manifest,
                                        "application/vnd.oci.image.manifest.v1+json")
        assert pushed.digest == sha256(manifest)
    assert sorted(registry.list_tags(repository)) == ["a", "b", "c"]
    assert name in registry.catalog(env.plain)
    assert registry.referrers(repository, sha256(manifest)) == []

    registry.delete_manifest(f"{repository}:a")
    with pytest.raises(xarch.NotFoundError):
        registry.fetch_manifest(f"{repository}:a")


def test_tls_with_the_ca_and_a_credentials_callable(env) -> None:
    asked: List[str] = []

    def credentials(host: str) -> Optional[Tuple[str, str]]:
        asked.append(host)
        return env.user, env.password

    with Registry(ca_bundle=env.tls_ca, credentials=credentials) as registry:
        assert registry.resolve(busybox(env, env.tls)).digest == env.busybox_index_digest
    assert asked and asked[0] == env.tls

    with Registry(ca_bundle=env.tls_ca, anonymous=True) as anonymous:
        with pytest.raises(xarch.AuthenticationError):
            anonymous.resolve(busybox(env, env.tls))


def test_a_wrong_password_is_an_authentication_error_without_the_password(env) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    with Registry(ca_bundle=env.tls_ca, credentials=lambda host: (env.user, wrong)) as registry:
        with pytest.raises(xarch.AuthenticationError) as refused:
            registry.resolve(busybox(env, env.tls))
    message = str(refused.value)
    assert message and wrong not in message and env.password not in message
    assert isinstance(refused.value, xarch.RegistryError)
    assert refused.value.code == "authentication"


def test_an_exception_in_the_credentials_callable_is_re_raised(env) -> None:
    class Vault(Exception):
        pass

    def credentials(host: str) -> Tuple[str, str]:
        raise Vault(f"locked for {host}")

    with Registry(ca_bundle=env.tls_ca, credentials=credentials) as registry:
        with pytest.raises(Vault, match="locked for"):
            registry.resolve(busybox(env, env.tls))


def test_a_corrupted_blob_is_a_digest_mismatch_and_leaves_nothing(env, registry: Registry,
                                                                  name: str,
                                                                  tmp_path: pathlib.Path) -> None:
    registry.copy(busybox(env, env.plain), f"{env.plain}/{name}:latest")
    rule = env.add_fault("corrupt-body", path=f"^/v2/{name}/blobs/", count=-1)
    try:
        manifest = json.loads(seeded_blob(env, env.busybox_manifest("linux/arm64")))
        config = Descriptor.from_json(json.dumps(manifest["config"]))
        target = tmp_path / "fetched" / "config"
        target.parent.mkdir()
        with pytest.raises(xarch.DigestMismatchError):
            registry.fetch_blob(f"{env.fault_proxy}/{name}", config, target)
        assert list(target.parent.iterdir()) == [], "neither the file nor a temporary is left"
        with pytest.raises(xarch.DigestMismatchError):
            registry.fetch_blob(f"{env.fault_proxy}/{name}", config)
        layout = tmp_path / "layout"
        with pytest.raises(xarch.DigestMismatchError):
            registry.pull(f"{env.fault_proxy}/{name}:latest", layout)
        assert json.loads((layout / "index.json").read_text())["manifests"] == []
    finally:
        env.remove_fault(rule)


def test_progress_reports_and_returning_false_cancels(env, tmp_path: pathlib.Path) -> None:
    events: List[xarch.TransferProgress] = []
    with Registry(anonymous=True, progress=events.append) as registry:
        registry.pull(busybox(env, env.plain), tmp_path / "ok")
    assert events
    assert all(e.digest.startswith("sha256:") for e in events)
    assert all(e.total is None or e.done <= e.total for e in events)

    with Registry(anonymous=True, progress=lambda p: False) as registry:
        with pytest.raises(xarch.CancelledError):
            registry.pull(busybox(env, env.plain), tmp_path / "cancelled")


def test_an_exception_in_the_progress_callable_cancels_and_is_re_raised(
        env, tmp_path: pathlib.Path) -> None:
    class Stop(Exception):
        pass

    calls = []

    def progress(p: xarch.TransferProgress) -> None:
        calls.append(p)
        raise Stop(p.digest)

    with Registry(anonymous=True, progress=progress) as registry:
        with pytest.raises(Stop, match="sha256:"):
            registry.pull(busybox(env, env.plain), tmp_path / "layout")
        # The callable was not called again once it raised, and the next operation runs (and
        # stops) afresh.
        assert len(calls) == 1
        calls.clear()
        with pytest.raises(Stop):
            registry.pull(busybox(env, env.plain), tmp_path / "again")
        assert len(calls) == 1


def test_closed_registry_and_bad_arguments(env) -> None:
    registry = Registry(anonymous=True)
    with registry as same:
        assert same is registry
    assert registry.closed
    with pytest.raises(ValueError, match="closed"):
        registry.resolve(busybox(env, env.plain))
    with Registry(anonymous=True) as open_registry:
        with pytest.raises(TypeError, match="reference"):
            open_registry.resolve(42)  # type: ignore[arg-type]
        with pytest.raises(xarch.ParseError):
            open_registry.resolve("Not A Reference")
        with pytest.raises(xarch.ParseError, match="nothex"):
            open_registry.blob_exists(f"{env.plain}/x", "sha256:nothex")
    with pytest.raises(TypeError):
        Registry(credentials="not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Registry(anonymous=True, credentials=lambda host: None)


def test_network_work_releases_the_gil(env) -> None:
    """The registry is reached only through a proxy written in Python: its threads need the GIL,
    so the request can only be answered while the calling thread has released it."""
    host, port = env.plain.rsplit(":", 1)
    upstream = (host, int(port))

    class Pipe(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with socket.create_connection(upstream, timeout=30) as up:
                back = threading.Thread(target=pump, args=(up, self.request))
                back.start()
                pump(self.request, up)
                back.join()

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Pipe) as server:
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        try:
            proxy = f"127.0.0.1:{server.server_address[1]}"
            with Registry(anonymous=True, retry_attempts=1) as registry:
                resolved = registry.resolve(f"{proxy}/{env.busybox_repo}:{env.busybox_tag}")
            assert resolved.digest == env.busybox_index_digest
        finally:
            server.shutdown()
            serving.join()
