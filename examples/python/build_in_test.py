# SPDX-License-Identifier: Apache-2.0
"""xarch in a unit-test harness: a pytest fixture builds a small multi-platform image (FROM
scratch + COPY, so neither a registry nor QEMU is needed) into an OCI layout once per module, and
the tests read what it made. A second build with the same cache directory takes every step from
the cache; both times are printed (run with -s to see them).

    python3 -m pytest -s examples/python/build_in_test.py
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Dict, List

import pytest

import xarch

PLATFORMS = ["linux/amd64", "linux/arm64", "linux/riscv64"]
DOCKERFILE = """\
FROM scratch
COPY greeting.txt /etc/greeting.txt
LABEL org.opencontainers.image.title=build-in-test
"""


class Image:
    """An OCI layout a build wrote, and how to read its blobs."""

    def __init__(self, layout: pathlib.Path, result: xarch.BuildResult) -> None:
        self.layout = layout
        self.result = result

    def blob(self, digest: str) -> dict:
        algorithm, hex_digest = digest.split(":", 1)
        return json.loads((self.layout / "blobs" / algorithm / hex_digest).read_text())

    def manifests(self) -> Dict[str, dict]:
        """Each platform's image manifest, by "os/arch"."""
        index = self.blob(self.result.digest)
        return {
            f"{m['platform']['os']}/{m['platform']['architecture']}": self.blob(m["digest"])
            for m in index["manifests"]
        }


def build(cache: pathlib.Path, context: pathlib.Path, layout: pathlib.Path,
          events: List[xarch.ProgressEvent]) -> xarch.BuildResult:
    # The Builder holds the cache's lock while open; `with` releases it when the build is done.
    with xarch.Builder(cache, anonymous=True) as builder:
        return builder.build(
            xarch.BuildContext(context),
            platforms=PLATFORMS,
            outputs=[f"type=oci,dest={layout},tar=false"],
            progress=events.append,
        )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    root = tmp_path_factory.mktemp("build-in-test")
    context = root / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "greeting.txt").write_text("hello from a test\n")
    cache = root / "cache"

    timings = []
    for attempt in ("first", "cached"):
        events: List[xarch.ProgressEvent] = []
        started = time.perf_counter()
        result = build(cache, context, root / f"layout-{attempt}", events)
        timings.append((attempt, time.perf_counter() - started, events))
    for attempt, seconds, _ in timings:
        print(f"\n{attempt} build of {len(PLATFORMS)} platforms: {seconds * 1000:.0f} ms")

    # The second build ran no Dockerfile step: each one is reported CACHED, for every platform.
    Kind = xarch.ProgressEvent.Kind
    first_steps = {
        e.name for e in timings[0][2] if e.kind == Kind.VERTEX_COMPLETED and "COPY" in e.name
    }
    cached = {e.name for e in timings[1][2] if e.kind == Kind.VERTEX_CACHED}
    assert len(first_steps) == len(PLATFORMS)
    assert first_steps <= cached
    return Image(root / "layout-cached", result)


def test_the_index_lists_one_manifest_per_platform(image: Image) -> None:
    top = json.loads((image.layout / "index.json").read_text())
    assert image.result.digest in [m["digest"] for m in top["manifests"]]
    assert sorted(image.manifests()) == sorted(PLATFORMS)


def test_each_platform_config_names_its_platform_and_label(image: Image) -> None:
    for platform, manifest in image.manifests().items():
        config = image.blob(manifest["config"]["digest"])
        assert f"{config['os']}/{config['architecture']}" == platform
        assert config["config"]["Labels"]["org.opencontainers.image.title"] == "build-in-test"


def test_every_platform_has_the_same_single_layer(image: Image) -> None:
    layers = {p: [layer["digest"] for layer in m["layers"]] for p, m in image.manifests().items()}
    assert all(len(digests) == 1 for digests in layers.values())
    # FROM scratch + COPY makes byte-identical layers, whatever the platform.
    assert len({digests[0] for digests in layers.values()}) == 1


def test_a_failing_build_raises_a_typed_error(tmp_path: pathlib.Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY missing.txt /\n")
    with pytest.raises(xarch.Error) as raised:
        with xarch.Builder(tmp_path / "cache", anonymous=True) as builder:
            builder.build(xarch.BuildContext(context))
    assert "missing.txt" in str(raised.value)
