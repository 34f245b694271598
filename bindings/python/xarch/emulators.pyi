# SPDX-License-Identifier: Apache-2.0
"""QEMU user-mode emulators registered in binfmt_misc (xarch._core.emulators).

Every function releases the GIL while it works.
"""

import builtins
from typing import ClassVar, Dict, Optional

from ._core import Platform

class Options:
    """Where binfmt_misc and the emulators are, and how handlers get registered."""

    binfmt_mount: str
    """Where binfmt_misc is (or gets) mounted; default "/proc/sys/fs/binfmt_misc"."""
    qemu_dir: str
    """The folder of the emulators, <qemu_dir>/qemu-<cpu><qemu_suffix>; default "/usr/bin"."""
    qemu_suffix: str
    """The emulators' file name suffix; default "-static"."""
    preserve_argv0: bool
    """Register with the P flag (preserve argv[0]); default False."""

    def __init__(
        self,
        *,
        binfmt_mount: str = "/proc/sys/fs/binfmt_misc",
        qemu_dir: str = "/usr/bin",
        qemu_suffix: str = "-static",
        preserve_argv0: bool = False,
    ) -> None:
        """Makes options; omitted fields keep their defaults."""

class Handler:
    """One entry of binfmt_misc (a registered handler), whoever registered it. Read-only."""

    @property
    def name(self) -> str:
        """File name in binfmt_misc, e.g. "qemu-aarch64"."""
    @property
    def enabled(self) -> bool:
        """Whether the handler is enabled."""
    @property
    def interpreter(self) -> str:
        """The interpreter, e.g. "/usr/bin/qemu-aarch64-static"."""
    @property
    def flags(self) -> str:
        """The flags as the kernel reports them, e.g. "OCF"."""
    @property
    def magic(self) -> str:
        """The magic bytes in hex ("" for extension handlers)."""
    @property
    def mask(self) -> str:
        """The magic's mask in hex ("" when it has none: every bit counts)."""
    @property
    def offset(self) -> int:
        """Where in the file the magic is compared."""
    @property
    def extension(self) -> str:
        """The file name extension of an extension handler, e.g. ".exe"."""
    @property
    def platform(self) -> Optional[Platform]:
        """The Linux platform whose ELF binaries this handler runs, or None."""

class Emulator:
    """A QEMU user emulator xarch knows how to register, with its state. Read-only."""

    @property
    def platform(self) -> Platform:
        """The platform it emulates, normalized, e.g. linux/arm64."""
    @property
    def name(self) -> str:
        """The handler name, e.g. "qemu-aarch64"."""
    @property
    def path(self) -> str:
        """The interpreter's path on this host."""
    @property
    def present(self) -> bool:
        """Whether the interpreter exists on this host."""
    @property
    def registered(self) -> bool:
        """Whether an enabled handler runs this platform's binaries."""

class Outcome:
    """What install() or uninstall() did for one platform (a pybind11 enum)."""

    INSTALLED: ClassVar[Outcome]
    ALREADY_INSTALLED: ClassVar[Outcome]
    NATIVE: ClassVar[Outcome]
    UNINSTALLED: ClassVar[Outcome]
    NOT_INSTALLED: ClassVar[Outcome]
    __members__: ClassVar[Dict[str, Outcome]]

    def __init__(self, value: int) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Change:
    """What install() or uninstall() did for one platform. Read-only."""

    @property
    def name(self) -> str:
        """The handler name."""
    @property
    def platform(self) -> Platform:
        """The platform concerned."""
    @property
    def outcome(self) -> Outcome:
        """What happened."""

def handlers(options: Optional[Options] = None) -> builtins.list[Handler]:
    """binfmt_misc's handlers (any folder with a `status` file is read as binfmt_misc).

    Raises PermissionDeniedError when it must be mounted and cannot be, UnsupportedError when the
    kernel has no binfmt_misc.
    """

def list(options: Optional[Options] = None) -> builtins.list[Emulator]:
    """Every emulator xarch knows for a platform this host does not run natively, with its state."""

def native_platforms() -> builtins.list[Platform]:
    """The platforms this host runs without emulation, best first."""

def runnable_platforms(options: Optional[Options] = None) -> builtins.list[Platform]:
    """Native platforms first, then those an enabled binfmt_misc handler emulates, no duplicates."""

def install(spec: str, options: Optional[Options] = None) -> builtins.list[Change]:
    """Registers emulators ("all" or a comma list of platforms or emulator names).

    Raises ParseError for an unknown item, NotFoundError for a missing emulator binary,
    PermissionDeniedError without root.
    """

def uninstall(spec: str, options: Optional[Options] = None) -> builtins.list[Change]:
    """Removes the handlers that run the given platforms or carry the given names ("all").

    Raises ParseError for a malformed spec, PermissionDeniedError without root.
    """
