# SPDX-License-Identifier: Apache-2.0
"""xarch.Builder: a two-platform `FROM scratch` + COPY build into an OCI layout directory with its
progress events, a push of the shared test registry's busybox + COPY read back with skopeo,
cancel() from the progress callable, an exception of the progress callable and Ctrl-C re-raised,
a malformed --output, prune. The push skips when the registries are not there (the
`python_builder` ctest runs this file with them)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tarfile
import threading
import time
from typing import List

import pytest

import xarch
from xarch import BuildContext, Builder, ProgressEvent

from conftest import source_dir

sys.path.insert(0, str(source_dir() / "tests" / "integration" / "registry"))
import registry_env  # noqa: E402  (found through the path above)

INDEX = "application/vnd.oci.image.index.v1+json"
SCRATCH_COPY = "FROM scratch\nCOPY hello.txt /hello.txt\n"


@pytest.fixture
def builder(tmp_path: pathlib.Path) -> Builder:
    # A fresh cache, so that every step runs; anonymous, so that the developer's
    # ~/.docker/config.json cannot change the outcome.
    return Builder(tmp_path / "cache", anonymous=True)


def make_context(root: pathlib.Path, dockerfile: str) -> BuildContext:
    ctx = root / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile)
    (ctx / "hello.txt").write_text("hello from xarch.Builder\n")
    return BuildContext(ctx)


def digests(document: dict) -> List[str]:
    return [m["digest"] for m in document["manifests"]]


def blob(layout: pathlib.Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest[len("sha256:"):]).read_bytes()


def test_builder_properties_and_prune(builder: Builder, tmp_path: pathlib.Path) -> None:
    assert builder.cache_dir == str(tmp_path / "cache")
    pruned = builder.prune()
    assert isinstance(pruned, xarch.PruneResult)
    assert pruned.freed_bytes >= 0
    assert builder.prune(keep_storage=1 << 20).freed_bytes >= 0


def test_scratch_copy_for_two_platforms_into_an_oci_layout(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    layout = tmp_path / "layout"
    events: List[ProgressEvent] = []
    result = builder.build(
        make_context(tmp_path, SCRATCH_COPY),
        platforms=["linux/amd64", xarch.Platform.parse("linux/arm64")],
        outputs=[f"type=oci,dest={layout},tar=false"],
        progress=events.append,
    )

    assert isinstance(result, xarch.BuildResult)
    assert sorted(str(image.platform) for image in result.images) == ["linux/amd64", "linux/arm64"]
    for platform, manifest, config in result.images:
        assert isinstance(platform, xarch.Platform)
        assert config.startswith("sha256:")
        # Each manifest is in the layout and names its config.
        assert json.loads(blob(layout, manifest.digest))["config"]["digest"] == config

    # The index is the layout's root and lists exactly the two manifests.
    assert result.descriptor.media_type == INDEX
    assert result.digest == result.descriptor.digest
    assert result.digest in digests(json.loads((layout / "index.json").read_text()))
    index = json.loads(blob(layout, result.digest))
    assert sorted(digests(index)) == sorted(image.manifest.digest for image in result.images)
    assert result.metadata["containerimage.digest"] == result.digest

    # The COPY steps started and completed (a fresh cache: nothing came from it).
    def copy_vertices(kind: ProgressEvent.Kind) -> set:
        return {e.vertex for e in events if e.kind == kind and "COPY" in e.name}

    started = copy_vertices(ProgressEvent.Kind.VERTEX_STARTED)
    assert started
    assert started == copy_vertices(ProgressEvent.Kind.VERTEX_COMPLETED)
    assert all(e.time_ns > 0 and e.time.tzinfo is not None for e in events)


def test_push_busybox_plus_copy_for_two_platforms(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    env = registry_env.require()
    base = f"{env.plain}/{env.busybox_repo}:{env.busybox_tag}"
    repo = f"{env.plain}/python/builder-push-{os.getpid()}"
    result = builder.build(
        make_context(tmp_path, f"FROM {base}\nCOPY hello.txt /hello.txt\n"),
        platforms="linux/amd64,linux/arm64",
        tags=[f"{repo}:latest"],
        push=True,
    )
    assert len(result.images) == 2

    # What the registry serves under the tag is the index the build made.
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{repo}:latest"],
        check=True,
        capture_output=True,
    ).stdout
    served = json.loads(raw)
    assert served["mediaType"] == INDEX
    assert sorted(digests(served)) == sorted(image.manifest.digest for image in result.images)
    served_platforms = {
        f"{m['platform']['os']}/{m['platform']['architecture']}" for m in served["manifests"]
    }
    assert served_platforms == {"linux/amd64", "linux/arm64"}


def test_cancel_from_the_progress_callable(builder: Builder, tmp_path: pathlib.Path) -> None:
    layout = tmp_path / "layout"
    with pytest.raises(xarch.CancelledError):
        builder.build(
            make_context(tmp_path, SCRATCH_COPY),
            outputs=[f"type=oci,dest={layout},tar=false"],
            progress=lambda event: builder.cancel(),
        )
    assert not (layout / "index.json").exists()


def test_an_exception_of_the_progress_callable_is_re_raised(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    class Boom(Exception):
        pass

    calls: List[ProgressEvent] = []

    def progress(event: ProgressEvent) -> None:
        calls.append(event)
        raise Boom("stop this build")

    with pytest.raises(Boom, match="stop this build"):
        builder.build(make_context(tmp_path, SCRATCH_COPY), progress=progress)
    # Not called again once it raised.
    assert len(calls) == 1


def test_ctrl_c_cancels_the_build(builder: Builder, tmp_path: pathlib.Path) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    sent = []

    def progress(event: ProgressEvent) -> None:
        if not sent:
            sent.append(event)
            os.kill(os.getpid(), signal.SIGINT)
            # Releases the GIL, so that the waiting thread sees the signal while the build is on.
            time.sleep(0.5)

    with pytest.raises(KeyboardInterrupt):
        builder.build(make_context(tmp_path, SCRATCH_COPY), progress=progress)
    assert sent


def test_a_malformed_output_is_a_parse_error_quoting_it(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    with pytest.raises(xarch.ParseError, match=re.escape("floppy")):
        builder.build(make_context(tmp_path, SCRATCH_COPY), outputs=["type=floppy,dest=/x"])


def test_argument_types_are_checked(builder: Builder, tmp_path: pathlib.Path) -> None:
    ctx = make_context(tmp_path, SCRATCH_COPY)
    with pytest.raises(TypeError):
        builder.build(ctx, progress=42)
    with pytest.raises(TypeError):
        builder.build(ctx, platforms=[42])
    with pytest.raises(ValueError):
        Builder(tmp_path / "other", anonymous=True, credentials=lambda host: None)


def test_run_with_host_network_needs_the_entitlement(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    env = registry_env.require()
    if os.geteuid() != 0:
        pytest.skip("RUN needs root for now")
    base = f"{env.plain}/{env.busybox_repo}:{env.busybox_tag}"
    context = make_context(
        tmp_path, f"FROM {base}\nRUN --network=host echo from-python | tee /made-by-run\n"
    )
    with pytest.raises(xarch.Error, match="network.host entitlement"):
        builder.build(context, platforms="linux/amd64")

    out = tmp_path / "out"
    lines: List[str] = []

    def progress(event: ProgressEvent) -> None:
        if event.kind == ProgressEvent.Kind.LOG:
            lines.append(event.message)

    builder.build(
        context,
        platforms="linux/amd64",
        outputs=[f"type=local,dest={out}"],
        allow=["network.host"],
        progress=progress,
    )
    assert (out / "made-by-run").read_text() == "from-python\n"
    assert lines == ["from-python"]


def write_builders(config_home: pathlib.Path, current: str, builders: list) -> None:
    """builders.json as `xarch create` and `xarch use` write it."""
    folder = config_home / "xarch"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "builders.json").write_text(json.dumps({"current": current, "builders": builders}))


def engine_builder(name: str, endpoint: str) -> dict:
    return {"name": name,
            "nodes": [{"name": f"{name}0", "driver": "docker", "endpoint": endpoint,
                       "platforms": []}]}


def test_a_stored_builder_by_name_or_the_current_one(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    socket = tmp_path / "no-engine.sock"
    write_builders(tmp_path / "config", "gone", [engine_builder("gone", f"unix://{socket}")])
    with pytest.raises(xarch.NotFoundError, match="nope"):
        Builder(tmp_path / "cache", builder="nope")
    context = make_context(tmp_path, "FROM scratch\n")
    # "" is the current builder; its one node is an engine that is not there.
    for name in ("", "gone"):
        with pytest.raises(xarch.NetworkError) as raised:
            Builder(tmp_path / "cache", builder=name).build(context)
        assert 'node "gone0"' in str(raised.value)
        assert str(socket) in str(raised.value)


def use_test_dockerd_builder(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes "engine", a builder whose one node is the test dockerd, in a store of tmp_path's
    (skips without a test dockerd)."""
    env_file = os.environ.get("XARCH_TEST_DOCKERD_ENV", "")
    engine = ""
    if env_file and os.path.exists(env_file):
        for line in pathlib.Path(env_file).read_text().splitlines():
            if line.startswith("DOCKER_HOST="):
                engine = line.partition("=")[2]
    if not engine:
        pytest.skip(f"no test dockerd (XARCH_TEST_DOCKERD_ENV={env_file!r})")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    write_builders(tmp_path / "config", "default", [engine_builder("engine", engine)])


def test_a_docker_engine_builder_pushes_what_the_engine_built(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = registry_env.require()
    use_test_dockerd_builder(tmp_path, monkeypatch)
    base = f"{env.plain}/{env.busybox_repo}:{env.busybox_tag}"
    image = f"{env.plain}/python/engine-builder-{os.getpid()}:v1"
    events: List[ProgressEvent] = []
    result = Builder(tmp_path / "cache", builder="engine").build(
        make_context(tmp_path, f"FROM {base}\nRUN echo built by the engine\n"),
        platforms="linux/amd64",
        tags=[image],
        push=True,
        no_cache=True,
        progress=events.append,
    )
    assert any(e.kind == ProgressEvent.Kind.LOG and e.message == "built by the engine"
               for e in events)
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{image}"],
        check=True,
        capture_output=True,
    ).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == result.digest


# ---- BuildError, network, `with` -----------------------------------------------------------------


def busybox_base() -> str:
    env = registry_env.require()
    if os.geteuid() != 0:
        pytest.skip("RUN needs root for now")
    return f"{env.plain}/{env.busybox_repo}:{env.busybox_tag}"


def test_a_failing_run_is_a_build_error_naming_its_step(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    context = make_context(tmp_path, f"FROM {busybox_base()}\nRUN echo out; exit 3\n")
    events: List[ProgressEvent] = []
    with pytest.raises(xarch.BuildError) as raised:
        builder.build(context, platforms="linux/amd64", progress=events.append)
    error = raised.value
    assert isinstance(error, xarch.Error)
    assert not isinstance(error, xarch.ParseError)
    assert error.code == "build_failed"
    assert "did not complete successfully: exit code: 3" in str(error)
    failed = [e.name for e in events if e.kind == ProgressEvent.Kind.VERTEX_ERROR]
    assert failed == [error.step]
    assert error.step.endswith("RUN echo out; exit 3")
    assert error.platform == "linux/amd64"
    assert error.exit_code == 3
    assert (error.file, error.line, error.end_line) == ("Dockerfile", 2, 2)


def test_an_unknown_network_mode_is_a_parse_error_and_host_grants_its_entitlement(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    context = make_context(tmp_path, "FROM scratch\nRUN --network=host true\n")
    with pytest.raises(xarch.ParseError, match='"bridge"'):
        builder.build(context, network="bridge")
    with pytest.raises(xarch.Error, match="--allow network.host"):
        builder.build(context)
    # --network host allows network.host, as buildx: the RUN gets past the entitlement check and
    # fails only for want of a shell in scratch.
    with pytest.raises(xarch.Error) as raised:
        builder.build(context, network="host")
    assert "network.host" not in str(raised.value)


def test_builder_is_a_context_manager_that_closes(tmp_path: pathlib.Path) -> None:
    layout = tmp_path / "layout"
    with Builder(tmp_path / "cache", anonymous=True) as builder:
        assert not builder.closed
        builder.build(make_context(tmp_path, SCRATCH_COPY),
                      outputs=[f"type=oci,dest={layout},tar=false"])
    assert builder.closed
    assert (layout / "index.json").exists()
    for use in (lambda: builder.build(make_context(tmp_path / "x", SCRATCH_COPY)),
                builder.prune, builder.cancel, lambda: builder.cache_dir):
        with pytest.raises(ValueError, match="closed"):
            (tmp_path / "x").mkdir(exist_ok=True)
            use()
    builder.close()  # a second close is harmless
    # The cache was released: another Builder opens it at once.
    with Builder(tmp_path / "cache", anonymous=True) as again:
        assert again.cache_dir == str(tmp_path / "cache")


CHILD_BUILD = r"""
import os, sys, pathlib, xarch
ctx = pathlib.Path(sys.argv[1])
builder = xarch.Builder(sys.argv[2], anonymous=True)
def progress(event):
    if event.kind == xarch.ProgressEvent.Kind.LOG and event.message == "sleeping":
        print("RUNNING", flush=True)
try:
    builder.build(xarch.BuildContext(ctx), platforms="linux/amd64", progress=progress)
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
    sys.exit(42)
print("FINISHED", flush=True)
"""


def test_sigint_to_a_child_python_cancels_its_sleeping_run(tmp_path: pathlib.Path) -> None:
    base = busybox_base()
    marker = f"xarch-sigint-{os.getpid()}"
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base}\nRUN echo sleeping; sleep 60; echo {marker}\n")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_BUILD, str(ctx), str(tmp_path / "cache")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "RUNNING"
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 42
    assert out.strip() == "INTERRUPTED"
    print(f"SIGINT to exit: {took:.2f} s (the RUN sleeps 60 s)")
    # No process of the RUN is left behind.
    leftover = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout
    assert leftover.strip() == ""


# ---- Parity with the C++ and C build tests -------------------------------------------------------


def oci_image_of(index_dir_reader, platform: str) -> dict:
    """The manifest of `platform` in an OCI index read through `index_dir_reader(path)`."""
    index = json.loads(index_dir_reader("index.json"))
    root = json.loads(index_dir_reader("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
    for m in root["manifests"]:
        if f"{m['platform']['os']}/{m['platform']['architecture']}" == platform:
            return json.loads(index_dir_reader("blobs/sha256/" + m["digest"][7:]))
    raise AssertionError(f"{platform} not in {root}")


def test_each_output_type_reads_back(builder: Builder, tmp_path: pathlib.Path) -> None:
    context = make_context(tmp_path, SCRATCH_COPY)
    out = tmp_path / "out"
    out.mkdir()
    result = builder.build(
        context,
        platforms="linux/amd64,linux/arm64",
        outputs=[
            f"type=oci,dest={out / 'image.oci.tar'}",
            f"type=local,dest={out / 'local'}",
            f"type=tar,dest={out / 'fs.tar'}",
        ],
    )
    manifests = {str(i.platform): i.manifest.digest for i in result.images}

    # type=oci as a tar: an OCI layout whose index lists the two manifests.
    with tarfile.open(out / "image.oci.tar") as tar:
        def read(name: str) -> bytes:
            member = tar.extractfile(name)
            assert member is not None, name
            return member.read()

        assert json.loads(read("oci-layout"))["imageLayoutVersion"] == "1.0.0"
        for platform in manifests:
            manifest = oci_image_of(read, platform)
            config = json.loads(read("blobs/sha256/" + manifest["config"]["digest"][7:]))
            assert f"{config['os']}/{config['architecture']}" == platform

    # type=local with two platforms: a directory per platform holding the file.
    for platform in manifests:
        folder = out / "local" / platform.replace("/", "_")
        assert (folder / "hello.txt").read_text() == "hello from xarch.Builder\n"

    # type=tar: the same, as one tar.
    with tarfile.open(out / "fs.tar") as tar:
        names = set(tar.getnames())
    for platform in manifests:
        assert f"{platform.replace('/', '_')}/hello.txt" in names

    # type=docker,dest=: docker load's archive (one platform).
    single = builder.build(
        context,
        platforms="linux/arm64",
        tags=["example.test/python/parity:v1"],
        outputs=[f"type=docker,dest={out / 'docker.tar'}"],
    )
    with tarfile.open(out / "docker.tar") as tar:
        entries = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert entries[0]["RepoTags"] == ["example.test/python/parity:v1"]
        raw_config = tar.extractfile(entries[0]["Config"]).read()  # type: ignore[union-attr]
    assert json.loads(raw_config)["architecture"] == "arm64"
    assert "sha256:" + hashlib.sha256(raw_config).hexdigest() == single.images[0].config


def test_build_args_target_and_annotations(builder: Builder, tmp_path: pathlib.Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        "FROM scratch AS first\nARG GREETING=unset\nLABEL greeting=$GREETING\n"
        "COPY hello.txt /first.txt\n"
        "FROM scratch AS second\nCOPY hello.txt /second.txt\n"
    )
    (ctx / "hello.txt").write_text("hi\n")
    context = BuildContext(ctx, build_args={"GREETING": "from-python"}, target="first")
    layout = tmp_path / "layout"
    result = builder.build(
        context,
        platforms="linux/amd64",
        outputs=[f"type=oci,dest={layout},tar=false"],
        annotations=["manifest:org.opencontainers.image.title=parity"],
    )
    manifest = json.loads(blob(layout, result.images[0].manifest.digest))
    assert manifest["annotations"]["org.opencontainers.image.title"] == "parity"
    config = json.loads(blob(layout, result.images[0].config))
    assert config["config"]["Labels"] == {"greeting": "from-python"}
    # --target first: one COPY layer, the first stage's.
    assert len(manifest["layers"]) == 1
    layer = blob(layout, manifest["layers"][0]["digest"])
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
        assert tar.getnames() == ["first.txt"]


def test_context_labels_reach_the_image_config(builder: Builder, tmp_path: pathlib.Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nLABEL greeting=hi\n")
    layout = tmp_path / "layout"
    result = builder.build(BuildContext(ctx, labels={"org.example.team": "xarch"}),
                           platforms="linux/amd64", outputs=[f"type=oci,dest={layout},tar=false"])
    config = json.loads(blob(layout, result.images[0].config))
    assert config["config"]["Labels"] == {"greeting": "hi", "org.example.team": "xarch"}


def test_metadata_and_iid_files(builder: Builder, tmp_path: pathlib.Path) -> None:
    metadata = tmp_path / "metadata.json"
    iid = tmp_path / "iid"
    result = builder.build(
        make_context(tmp_path, SCRATCH_COPY),
        platforms="linux/amd64,linux/arm64",
        outputs=[f"type=oci,dest={tmp_path / 'layout'},tar=false"],
        metadata_file=metadata,
        iid_file=iid,
    )
    written = json.loads(metadata.read_text())
    assert written == result.metadata
    assert written["containerimage.digest"] == result.digest
    assert iid.read_text().strip() == result.digest


def test_a_rebuild_takes_every_step_from_the_cache(
    builder: Builder, tmp_path: pathlib.Path
) -> None:
    context = make_context(tmp_path, SCRATCH_COPY)
    first_events: List[ProgressEvent] = []
    first = builder.build(context, platforms="linux/amd64,linux/arm64",
                          progress=first_events.append)
    events: List[ProgressEvent] = []
    again = builder.build(context, platforms="linux/amd64,linux/arm64", progress=events.append)
    assert again.digest == first.digest
    # Each COPY the first build ran (one per platform) is CACHED the second time, and none runs.
    ran = {e.name for e in first_events if e.kind == ProgressEvent.Kind.VERTEX_COMPLETED
           and "COPY" in e.name}
    cached = {e.name for e in events if e.kind == ProgressEvent.Kind.VERTEX_CACHED}
    started = {e.name for e in events if e.kind == ProgressEvent.Kind.VERTEX_STARTED}
    assert len(ran) == 2, "no COPY step in the events"
    assert ran <= cached
    assert not ran & started


def test_a_secret_is_mounted_for_run_and_not_kept(builder: Builder, tmp_path: pathlib.Path) -> None:
    base = busybox_base()
    secret = tmp_path / "token.txt"
    secret.write_text("s3cr3t")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\nRUN --mount=type=secret,id=token cat /run/secrets/token > /seen\n"
    )
    out = tmp_path / "out"
    builder.build(BuildContext(ctx, secrets=[f"id=token,src={secret}"]),
                  platforms="linux/amd64", outputs=[f"type=local,dest={out}"])
    assert (out / "seen").read_text() == "s3cr3t"
    assert not (out / "run" / "secrets" / "token").exists()


def test_a_failing_run_on_a_docker_engine_node_is_a_build_error(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = registry_env.require()
    use_test_dockerd_builder(tmp_path, monkeypatch)
    base = f"{env.plain}/{env.busybox_repo}:{env.busybox_tag}"
    events: List[ProgressEvent] = []
    with pytest.raises(xarch.BuildError) as raised:
        Builder(tmp_path / "cache", builder="engine").build(
            make_context(tmp_path, f"FROM {base}\nRUN echo out; exit 3\n"),
            platforms="linux/amd64",
            no_cache=True,
            progress=events.append,
        )
    error = raised.value
    # The node names itself in the message; the step is the one the events show failing.
    assert 'node "engine0"' in str(error)
    assert "returned a non-zero code: 3" in str(error)
    assert [e.name for e in events if e.kind == ProgressEvent.Kind.VERTEX_ERROR] == [error.step]
    assert error.step.endswith("RUN echo out; exit 3")
    assert (error.platform, error.exit_code) == ("linux/amd64", 3)
