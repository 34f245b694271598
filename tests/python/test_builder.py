# SPDX-License-Identifier: Apache-2.0
"""xarch.Builder: a two-platform `FROM scratch` + COPY build into an OCI layout directory with its
progress events, a push of the shared test registry's busybox + COPY read back with skopeo,
cancel() from the progress callable, an exception of the progress callable and Ctrl-C re-raised,
a malformed --output, prune. The push skips when the registries are not there (the
`python_builder` ctest runs this file with them)."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
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
    assert {f"{m['platform']['os']}/{m['platform']['architecture']}" for m in served["manifests"]} == {
        "linux/amd64",
        "linux/arm64",
    }


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


def test_a_docker_engine_builder_pushes_what_the_engine_built(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = registry_env.require()
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
