#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The image index of the seed's busybox layout (used by `seed`).

    make_index.py LAYOUT TAG          adds variant v7 to the arm image's config (umoci 0.4 cannot),
                                      then writes an OCI image index over the per-platform images
                                      tagged TAG-<arch>[-<variant>] and tags it TAG in index.json
    make_index.py --check LAYOUT TAG  exit 0 when TAG is an index whose every blob is present and
                                      matches its digest (the cache is good)
    make_index.py --env LAYOUT TAG    prints the XARCH_TEST_BUSYBOX_* lines for the env file
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import sys
import tempfile

REF = "org.opencontainers.image.ref.name"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PLATFORMS = [("amd64", None), ("arm64", None), ("arm", "v7")]


def blob_path(layout: pathlib.Path, digest: str) -> pathlib.Path:
    alg, _, hexd = digest.partition(":")
    return layout / "blobs" / alg / hexd


def read_blob(layout: pathlib.Path, desc: dict) -> bytes:
    data = blob_path(layout, desc["digest"]).read_bytes()
    alg, _, hexd = desc["digest"].partition(":")
    if len(data) != desc["size"] or hashlib.new(alg, data).hexdigest() != hexd:
        raise ValueError(f"blob {desc['digest']} does not match its descriptor")
    return data


def write_blob(layout: pathlib.Path, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    if not path.exists():
        atomic_write(path, data)
    return digest


def atomic_write(path: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def load_index(layout: pathlib.Path) -> dict:
    return json.loads((layout / "index.json").read_text())


def tagged(index: dict, tag: str) -> dict | None:
    for desc in index["manifests"]:
        if desc.get("annotations", {}).get(REF) == tag:
            return desc
    return None


def make(layout: pathlib.Path, tag: str) -> None:
    index = load_index(layout)
    entries = []
    for arch, variant in PLATFORMS:
        name = f"{tag}-{arch}" + (f"-{variant}" if variant else "")
        desc = tagged(index, name)
        if desc is None:
            raise SystemExit(f"make_index: {layout} has no image tagged {name}")
        manifest = json.loads(read_blob(layout, desc))
        config = json.loads(read_blob(layout, manifest["config"]))
        if config.get("architecture") != arch or config.get("os") != "linux":
            raise SystemExit(f"make_index: {name} has platform "
                             f"{config.get('os')}/{config.get('architecture')}")
        if variant and config.get("variant") != variant:
            config["variant"] = variant
            data = dumps(config)
            manifest["config"]["digest"] = write_blob(layout, data)
            manifest["config"]["size"] = len(data)
            data = dumps(manifest)
            desc["digest"] = write_blob(layout, data)
            desc["size"] = len(data)
        platform = {"architecture": arch, "os": "linux"}
        if variant:
            platform["variant"] = variant
        entries.append({"mediaType": MANIFEST, "digest": desc["digest"], "size": desc["size"],
                        "platform": platform})
    data = dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries})
    index["manifests"] = [d for d in index["manifests"] if d.get("annotations", {}).get(REF) != tag]
    index["manifests"].append({"mediaType": INDEX, "digest": write_blob(layout, data),
                               "size": len(data), "annotations": {REF: tag}})
    atomic_write(layout / "index.json", dumps(index))


def walk(layout: pathlib.Path, tag: str) -> tuple[dict, list[dict]]:
    """Checks every blob under TAG; returns the index descriptor and the manifests' descriptors."""
    desc = tagged(load_index(layout), tag)
    if desc is None or desc.get("mediaType") != INDEX:
        raise ValueError(f"{layout} has no index tagged {tag}")
    children = json.loads(read_blob(layout, desc))["manifests"]
    for child in children:
        manifest = json.loads(read_blob(layout, child))
        for blob in [manifest["config"], *manifest["layers"]]:
            read_blob(layout, blob)
    return desc, children


def main(argv: list[str]) -> int:
    if argv[0] == "--check":
        walk(pathlib.Path(argv[1]), argv[2])
        return 0
    if argv[0] == "--env":
        layout = pathlib.Path(argv[1]).resolve()
        desc, children = walk(layout, argv[2])
        print(f"XARCH_TEST_BUSYBOX_OCI={layout}")
        print(f"XARCH_TEST_BUSYBOX_OCI_TAG={argv[2]}")
        print("XARCH_TEST_BUSYBOX_REPO=library/busybox")
        print("XARCH_TEST_BUSYBOX_TAG=latest")
        print(f"XARCH_TEST_BUSYBOX_INDEX_DIGEST={desc['digest']}")
        print(f"XARCH_TEST_BUSYBOX_INDEX_SIZE={desc['size']}")
        for child in children:
            p = child["platform"]
            key = "_".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x).upper()
            print(f"XARCH_TEST_BUSYBOX_MANIFEST_{key}={child['digest']}")
        return 0
    make(pathlib.Path(argv[0]), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
