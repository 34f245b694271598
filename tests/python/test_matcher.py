# SPDX-License-Identifier: Apache-2.0
"""xarch.PlatformMatcher: matching and ranking platforms (containerd's MatchComparer)."""

from __future__ import annotations

import functools

import pytest

import xarch
from xarch import Platform, PlatformMatcher

P = Platform.parse


def test_no_public_constructor() -> None:
    with pytest.raises(TypeError):
        PlatformMatcher()  # type: ignore[call-arg]


def test_only_amd64_runs_386_but_prefers_amd64() -> None:
    matcher = PlatformMatcher.only(P("amd64"))
    assert matcher.match(P("amd64"))
    assert matcher.match(P("386"))
    assert not matcher.match(P("arm64"))
    assert matcher.less(P("amd64"), P("386"))
    assert not matcher.less(P("386"), P("amd64"))


def test_only_arm64_runs_arm_variants_in_order() -> None:
    matcher = PlatformMatcher.only(P("arm64"))
    assert matcher.match(P("arm64"))
    assert matcher.match(P("linux/arm/v7"))
    assert matcher.match(P("linux/arm/v5"))
    assert not matcher.match(P("amd64"))
    assert matcher.less(P("arm64"), P("linux/arm/v7"))
    assert matcher.less(P("linux/arm/v7"), P("linux/arm/v6"))


def test_only_arm_v7_does_not_run_v8() -> None:
    matcher = PlatformMatcher.only(P("linux/arm/v7"))
    assert matcher.match(P("linux/arm/v6"))
    assert not matcher.match(P("linux/arm/v8"))


def test_only_strict() -> None:
    matcher = PlatformMatcher.only_strict(P("arm64"))
    assert matcher.match(P("arm64"))
    assert matcher.match(Platform("linux", "aarch64"))
    assert not matcher.match(P("linux/arm/v7"))


def test_ordered_prefers_list_order() -> None:
    matcher = PlatformMatcher.ordered([P("arm64"), P("amd64")])
    assert matcher.match(P("amd64"))
    assert not matcher.match(P("s390x"))
    assert matcher.less(P("arm64"), P("amd64"))
    assert not matcher.less(P("amd64"), P("arm64"))
    candidates = [P("s390x"), P("amd64"), P("arm64")]
    assert matcher.best(candidates) == 2
    assert PlatformMatcher.ordered([P("amd64"), P("arm64")]).best(candidates) == 1
    assert PlatformMatcher.ordered((P("amd64"),)).best((P("amd64"),)) == 0


def test_any_has_no_preference() -> None:
    matcher = PlatformMatcher.any([P("arm64"), P("amd64")])
    assert matcher.match(P("arm64"))
    assert matcher.match(P("amd64"))
    assert not matcher.match(P("riscv64"))
    assert not matcher.less(P("arm64"), P("amd64"))
    assert not matcher.less(P("amd64"), P("arm64"))
    assert matcher.best([P("riscv64"), P("amd64"), P("arm64")]) in (1, 2)


def test_only_os() -> None:
    matcher = PlatformMatcher.only_os(P("amd64"))
    assert matcher.match(P("arm64"))
    assert matcher.match(P("amd64"))
    assert not matcher.match(P("windows/amd64"))
    assert matcher.less(P("amd64"), P("arm64"))


def test_for_host_on_linux_is_only() -> None:
    matcher = PlatformMatcher.for_host(P("amd64"))
    assert matcher.match(P("386"))
    assert not matcher.match(P("arm64"))


def test_best_is_an_index_or_none() -> None:
    matcher = PlatformMatcher.only(P("arm64"))
    index = [P("amd64"), P("linux/arm/v7"), P("arm64"), P("s390x")]
    assert matcher.best(index) == 2
    assert matcher.best([P("amd64"), P("linux/arm/v6"), P("linux/arm/v7")]) == 2
    assert matcher.best([P("amd64"), P("s390x")]) is None
    assert matcher.best([]) is None


def test_less_sorts_by_preference() -> None:
    matcher = PlatformMatcher.only(P("arm64"))
    platforms = [P("linux/arm/v5"), P("linux/arm/v7"), P("arm64"), P("linux/arm/v6")]

    def compare(a: Platform, b: Platform) -> int:
        return -1 if matcher.less(a, b) else (1 if matcher.less(b, a) else 0)

    ordered = sorted(platforms, key=functools.cmp_to_key(compare))
    assert [str(p) for p in ordered] == [
        "linux/arm64",
        "linux/arm/v7",
        "linux/arm/v6",
        "linux/arm/v5",
    ]


def test_host_matcher_matches_host() -> None:
    host = Platform.host()
    assert PlatformMatcher.only(host).match(host)
    assert PlatformMatcher.only(host).best([P("riscv64"), host]) in (0, 1)


def test_wrong_argument_types() -> None:
    with pytest.raises(TypeError):
        PlatformMatcher.only("linux/amd64")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PlatformMatcher.ordered([P("amd64"), "arm64"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        PlatformMatcher.only(P("amd64")).best(None)  # type: ignore[arg-type]


def test_repr() -> None:
    assert repr(PlatformMatcher.only(P("amd64"))) == "<PlatformMatcher>"
    assert isinstance(PlatformMatcher.only(P("amd64")), xarch.PlatformMatcher)
