# SPDX-License-Identifier: Apache-2.0
"""xarch.Platform: parsing, normalization, formatting, equality, hashing, pickling."""

from __future__ import annotations

import copy
import pickle

import pytest

import xarch
from xarch import Platform


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amd64", "linux/amd64"),
        ("linux/amd64", "linux/amd64"),
        ("x86_64", "linux/amd64"),
        ("x86-64", "linux/amd64"),
        ("arm", "linux/arm/v7"),
        ("armhf", "linux/arm/v7"),
        ("armel", "linux/arm/v6"),
        ("linux/arm/v5", "linux/arm/v5"),
        ("arm64", "linux/arm64"),
        ("arm64/v8", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("aarch64", "linux/arm64"),
        ("i386", "linux/386"),
        ("386", "linux/386"),
        ("riscv64", "linux/riscv64"),
        ("ppc64le", "linux/ppc64le"),
        ("s390x", "linux/s390x"),
        ("windows/amd64", "windows/amd64"),
    ],
)
def test_parse_normalizes_like_buildx(text: str, expected: str) -> None:
    platform = Platform.parse(text)
    assert str(platform) == expected
    assert platform.to_string() == expected


def test_parse_fields() -> None:
    platform = Platform.parse("arm")
    assert platform.os == "linux"
    assert platform.architecture == "arm"
    assert platform.variant == "v7"
    assert platform.os_version == ""
    assert platform.os_features == []


@pytest.mark.parametrize("text", ["local", "LOCAL", "Local"])
def test_parse_local_is_the_host(text: str) -> None:
    assert Platform.parse(text) == Platform.host()


def test_host() -> None:
    host = Platform.host()
    assert isinstance(host, Platform)
    assert host.os == "linux"
    assert host.architecture
    assert host == host.normalized()


def test_parse_unnormalized_keeps_spelling() -> None:
    arm = Platform.parse_unnormalized("linux/arm")
    assert (arm.os, arm.architecture, arm.variant) == ("linux", "arm", "")
    assert Platform.parse_unnormalized("linux/arm64/v8").variant == "v8"
    assert Platform.parse_unnormalized("linux/arm64/v8").normalized() == Platform.parse("arm64")


def test_parse_list_keeps_order_and_drops_duplicates() -> None:
    platforms = Platform.parse_list("amd64,arm,arm64")
    assert isinstance(platforms, list)
    assert [str(p) for p in platforms] == ["linux/amd64", "linux/arm/v7", "linux/arm64"]
    assert [str(p) for p in Platform.parse_list("arm64,aarch64,x86_64,amd64")] == [
        "linux/arm64",
        "linux/amd64",
    ]


@pytest.mark.parametrize("text", ["", "amd64,,arm64", "amd64, arm64", "amd64,"])
def test_parse_list_rejects_empty_elements_and_spaces(text: str) -> None:
    with pytest.raises(xarch.ParseError):
        Platform.parse_list(text)


@pytest.mark.parametrize(
    "text", ["linux/arm64/v8/extra", "linux//arm64", "lin ux/amd64", "linux/amd64!", "/"]
)
def test_parse_errors_are_parse_and_value_errors_quoting_the_input(text: str) -> None:
    with pytest.raises(xarch.ParseError) as raised:
        Platform.parse(text)
    error = raised.value
    assert isinstance(error, ValueError)
    assert isinstance(error, xarch.Error)
    assert error.code == "invalid_argument"
    assert f'"{text}"' in str(error)


def test_parse_error_is_caught_as_value_error() -> None:
    with pytest.raises(ValueError, match='"linux/arm64/v8/extra"'):
        Platform.parse("linux/arm64/v8/extra")
    with pytest.raises(ValueError):
        Platform.parse_unnormalized("linux/arm64/v8/extra")


def test_parse_list_error_names_the_element() -> None:
    with pytest.raises(xarch.ParseError, match='"linux/arm64/v8/extra"'):
        Platform.parse_list("amd64,linux/arm64/v8/extra")


def test_constructor_stores_fields_as_given() -> None:
    platform = Platform("linux", "aarch64")
    assert (platform.os, platform.architecture, platform.variant) == ("linux", "aarch64", "")
    assert platform != Platform.parse("arm64")
    assert platform.normalized() == Platform.parse("arm64")
    assert Platform("linux", "x86_64").normalized() == Platform("linux", "amd64")


def test_constructor_keywords_and_defaults() -> None:
    platform = Platform(
        os="windows",
        architecture="amd64",
        variant="",
        os_version="10.0.17763",
        os_features=["win32k", "b"],
    )
    assert platform.os_version == "10.0.17763"
    assert platform.os_features == ["win32k", "b"]
    assert Platform("linux", "arm", "v7") == Platform.parse("arm")
    assert Platform("windows", "amd64", os_features=("a",)).os_features == ["a"]


def test_constructor_rejects_wrong_types() -> None:
    with pytest.raises(TypeError):
        Platform("linux")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Platform("linux", 64)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Platform("linux", "amd64", os_features="abc")  # type: ignore[arg-type]


def test_fields_are_read_only() -> None:
    platform = Platform.parse("arm")
    with pytest.raises(AttributeError):
        platform.os = "windows"  # type: ignore[misc]
    features = Platform("windows", "amd64", os_features=["a"]).os_features
    features.append("b")
    assert Platform("windows", "amd64", os_features=["a"]).os_features == ["a"]


def test_to_string_all_and_repr() -> None:
    plain = Platform.parse("arm")
    assert repr(plain) == "Platform('linux/arm/v7')"
    assert plain.to_string_all() == "linux/arm/v7"
    windows = Platform("windows", "amd64", os_version="10.0.17763")
    assert str(windows) == "windows/amd64"
    assert windows.to_string_all() == "windows(10.0.17763)/amd64"
    assert repr(windows) == "Platform('windows(10.0.17763)/amd64')"


def test_equality() -> None:
    assert Platform.parse("arm") == Platform("linux", "arm", "v7")
    assert not (Platform.parse("arm") != Platform("linux", "arm", "v7"))
    assert Platform.parse("arm") != Platform.parse("arm64")
    assert Platform("windows", "amd64", os_version="1") != Platform("windows", "amd64")
    assert Platform("windows", "amd64", os_features=["a"]) != Platform("windows", "amd64")
    assert Platform.parse("amd64") != "linux/amd64"
    assert not (Platform.parse("amd64") == "linux/amd64")
    assert Platform.parse("amd64") != None  # noqa: E711


def test_hash_is_consistent_with_equality() -> None:
    a = Platform.parse("aarch64")
    b = Platform("linux", "arm64")
    assert a == b and a is not b
    assert hash(a) == hash(b)
    assert len({a, b, Platform.parse("arm64/v8")}) == 1
    assert len({Platform.parse(t) for t in ["amd64", "arm", "arm64", "x86_64", "armhf"]}) == 3
    table = {Platform.parse("arm"): "armhf"}
    assert table[Platform("linux", "arm", "v7")] == "armhf"
    assert Platform.parse("arm64") not in table


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(protocol: int) -> None:
    for platform in [
        Platform.parse("arm"),
        Platform("windows", "amd64", "", "10.0.17763", ["win32k", "x"]),
        Platform("", ""),
    ]:
        restored = pickle.loads(pickle.dumps(platform, protocol=protocol))
        assert restored == platform
        assert restored.os_features == platform.os_features
        assert hash(restored) == hash(platform)


def test_copy() -> None:
    platform = Platform("windows", "amd64", os_features=["a"])
    assert copy.copy(platform) == platform
    assert copy.deepcopy(platform) == platform
