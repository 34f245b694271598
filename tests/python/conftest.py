# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the xarch Python suite."""

from __future__ import annotations

import os
import pathlib
import stat

import pytest

import xarch

# A handler as the kernel shows it in /proc/sys/fs/binfmt_misc/qemu-aarch64 (Debian's
# qemu-user-static registration): runs 64-bit little-endian ELF files of machine 183 (AArch64).
AARCH64_HANDLER = (
    "enabled\n"
    "interpreter /usr/bin/qemu-aarch64-static\n"
    "flags: OCF\n"
    "offset 0\n"
    "magic 7f454c460201010000000000000000000200b700\n"
    "mask ffffffffffffff00fffffffffffffffffeffffff\n"
)

ARM64 = xarch.Platform("linux", "arm64")


@pytest.fixture
def binfmt_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A fake binfmt_misc: a `status` file, a `register` file and one enabled aarch64 handler."""
    root = tmp_path / "binfmt_misc"
    root.mkdir()
    (root / "status").write_text("enabled\n")
    (root / "register").write_text("")
    (root / "qemu-aarch64").write_text(AARCH64_HANDLER)
    return root


@pytest.fixture
def qemu_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A folder holding an executable (fake) qemu-aarch64-static."""
    root = tmp_path / "qemu"
    root.mkdir()
    emulator = root / "qemu-aarch64-static"
    emulator.write_text("#!/bin/sh\nexit 0\n")
    emulator.chmod(emulator.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return root


@pytest.fixture
def fake_options(binfmt_dir: pathlib.Path, qemu_dir: pathlib.Path) -> xarch.emulators.Options:
    """Options that point xarch.emulators at the fake binfmt_misc and emulator folder."""
    return xarch.emulators.Options(binfmt_mount=str(binfmt_dir), qemu_dir=str(qemu_dir))


@pytest.fixture
def arm64_is_foreign() -> None:
    """Skips a test on hosts that run arm64 natively (the fake handler would not count)."""
    if any(p.architecture == "arm64" for p in xarch.emulators.native_platforms()):
        pytest.skip("this host runs linux/arm64 natively")


def source_dir() -> pathlib.Path:
    """The source tree (ctest passes XARCH_SOURCE_DIR; otherwise relative to this file)."""
    env = os.environ.get("XARCH_SOURCE_DIR")
    return pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[2]
