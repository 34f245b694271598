# SPDX-License-Identifier: Apache-2.0
"""xarch.Reference, xarch.Descriptor and xarch.RawContent: parsing, properties, equality, JSON."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle

import pytest

import xarch
from xarch import Descriptor, Platform, RawContent, Reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "canonical", "familiar"),
    [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("user/app:1.0", "docker.io/user/app:1.0", "user/app:1.0"),
        ("localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag"),
        ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest"),
    ],
)
def test_parse_normalizes_like_docker(text: str, canonical: str, familiar: str) -> None:
    reference = Reference.parse(text)
    assert str(reference) == canonical
    assert reference.to_string() == canonical
    assert reference.familiar == familiar
    assert Reference(text) == reference
    assert Reference.parse(familiar) == reference


def test_properties() -> None:
    reference = Reference.parse(f"localhost:5000/team/app:1.0@{DIGEST}")
    assert reference.registry == "localhost:5000"
    assert reference.repository == "team/app"
    assert reference.tag == "1.0"
    assert reference.digest == DIGEST
    assert reference.name == "localhost:5000/team/app"
    assert reference.familiar_name == "localhost:5000/team/app"
    assert repr(reference) == f"Reference('localhost:5000/team/app:1.0@{DIGEST}')"
    pinned = Reference.parse(f"busybox@{DIGEST}")
    assert pinned.tag == "", "a digest without a tag keeps no tag"


def test_derived_copies() -> None:
    reference = Reference.parse("localhost:5000/app:1.0")
    assert str(reference.with_tag("2.0")) == "localhost:5000/app:2.0"
    assert str(reference.with_digest(DIGEST)) == f"localhost:5000/app:1.0@{DIGEST}"
    assert str(reference.with_digest(DIGEST).without_tag()) == f"localhost:5000/app@{DIGEST}"
    assert reference.with_digest(DIGEST).without_digest() == reference
    assert str(reference) == "localhost:5000/app:1.0", "the original is unchanged"
    with pytest.raises(xarch.ParseError, match="bad tag!"):
        reference.with_tag("bad tag!")


def test_parse_repository() -> None:
    repository = Reference.parse_repository("busybox")
    assert str(repository) == "docker.io/library/busybox"
    assert repository.tag == ""
    assert Reference("busybox", repository=True) == repository
    with pytest.raises(xarch.ParseError, match="busybox:1"):
        Reference.parse_repository("busybox:1")


@pytest.mark.parametrize("text", ["", "Upper/Case", "a b", "name:bad tag", "x@sha256:short"])
def test_bad_input_is_a_value_error_quoting_it(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        Reference.parse(text)
    assert isinstance(caught.value, xarch.ParseError)
    assert caught.value.code == "invalid_argument"
    if text:
        assert text in str(caught.value)


def test_equality_hash_pickle_copy() -> None:
    a = Reference.parse("busybox")
    b = Reference.parse("docker.io/library/busybox:latest")
    assert a == b and not (a != b)
    assert hash(a) == hash(b)
    assert len({a, b, Reference.parse("busybox:1")}) == 2
    for value in (a, Reference.parse_repository("localhost:5000/x"), Reference(f"x@{DIGEST}")):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(value, protocol)) == value
        assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(Reference.parse_repository("x"))).tag == ""


def test_descriptor_of_and_json_round_trip() -> None:
    data = b"hello, registry"
    descriptor = Descriptor.of("application/octet-stream", data)
    assert descriptor.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert descriptor.size == len(data)
    assert descriptor.data is None
    assert Descriptor.from_json(descriptor.to_json()) == descriptor
    assert Descriptor.from_json(descriptor.to_json().encode()) == descriptor
    assert json.loads(descriptor.to_json()) == {
        "mediaType": "application/octet-stream",
        "digest": descriptor.digest,
        "size": len(data),
    }


def test_descriptor_fields() -> None:
    descriptor = Descriptor(
        "application/vnd.oci.image.manifest.v1+json",
        DIGEST,
        7,
        annotations={"org.opencontainers.image.ref.name": "latest"},
        platform="linux/arm64",
        artifact_type="application/x.test",
        urls=["https://example.com/blob"],
    )
    assert descriptor.platform == Platform("linux", "arm64")
    assert descriptor.annotations == {"org.opencontainers.image.ref.name": "latest"}
    assert descriptor.urls == ["https://example.com/blob"]
    assert descriptor.artifact_type == "application/x.test"
    parsed = json.loads(descriptor.to_json())
    assert parsed["platform"] == {"architecture": "arm64", "os": "linux"}
    assert Descriptor.from_json(descriptor.to_json()) == descriptor
    assert "size=7" in repr(descriptor)

    embedded = Descriptor("application/json", "sha256:" + hashlib.sha256(b"{}").hexdigest(), 2,
                          data=b"{}")
    assert Descriptor.from_json(embedded.to_json()).data == b"{}"


def test_descriptor_bad_json_says_which_field() -> None:
    with pytest.raises(xarch.ParseError, match="digest"):
        Descriptor.from_json('{"mediaType":"a/b","digest":"nope","size":1}')
    with pytest.raises(xarch.ParseError):
        Descriptor("a/b", "sha256:NOTHEX", 1)


def test_raw_content() -> None:
    raw = RawContent(b'{"schemaVersion":2}', "application/vnd.oci.image.index.v1+json")
    assert raw.bytes == b'{"schemaVersion":2}'
    assert raw.digest == "sha256:" + hashlib.sha256(raw.bytes).hexdigest()
    assert raw.descriptor() == Descriptor(raw.media_type, raw.digest, len(raw.bytes))
    assert raw.json() == {"schemaVersion": 2}
    assert raw == RawContent(bytearray(raw.bytes), raw.media_type)
