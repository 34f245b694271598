# SPDX-License-Identifier: Apache-2.0
"""Native core of the xarch package (pybind11 bindings over the xarch C++ library)."""

from typing import List, Optional, Sequence, Tuple, Type

from . import emulators as emulators

__version__: str

def version() -> str:
    """The xarch library version, e.g. "0.1.0" (also xarch.__version__)."""

def abi_version() -> int:
    """The C ABI generation of the library: the N in libxarch.so.N."""

class Platform:
    """An os/arch[/variant] platform, as in an OCI image index or `buildx --platform`.

    Immutable and hashable; equality compares every field as stored. Picklable.
    """

    def __init__(
        self,
        os: str,
        architecture: str,
        variant: str = "",
        os_version: str = "",
        os_features: Sequence[str] = [],
    ) -> None:
        """Makes a platform from its fields, stored as given (no normalization)."""
    @staticmethod
    def parse(text: str) -> Platform:
        """Parses one --platform value the way buildx does, normalized ("local" is the host).

        Raises ParseError (a ValueError) quoting the input when it is malformed.
        """
    @staticmethod
    def parse_unnormalized(text: str) -> Platform:
        """Parses a platform as containerd's Parse does, without the final normalization.

        Raises ParseError (a ValueError) when the text is malformed.
        """
    @staticmethod
    def parse_list(text: str) -> List[Platform]:
        """Parses a comma-separated --platform list: order kept, duplicates removed.

        Raises ParseError (a ValueError) naming the bad element.
        """
    @staticmethod
    def host() -> Platform:
        """The platform of this process's host, normalized."""
    def normalized(self) -> Platform:
        """This platform with canonical os, architecture and variant names."""
    @property
    def os(self) -> str:
        """The operating system, e.g. "linux"."""
    @property
    def architecture(self) -> str:
        """The CPU architecture, e.g. "arm64"."""
    @property
    def variant(self) -> str:
        """The architecture variant, e.g. "v7" ("" when none)."""
    @property
    def os_version(self) -> str:
        """The OS version, e.g. "10.0.17763" ("" when none)."""
    @property
    def os_features(self) -> List[str]:
        """The required OS features, as a new list."""
    def to_string(self) -> str:
        """os/arch[/variant] (containerd's Format); also str(platform)."""
    def to_string_all(self) -> str:
        """os[(osversion+feature+...)]/arch[/variant], percent-encoded (containerd's FormatAll)."""
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(
        self,
    ) -> Tuple[Type[Platform], Tuple[str, str, str, str, List[str]]]: ...

class PlatformMatcher:
    """Decides which platforms are acceptable and which of two is preferred.

    Made by only(), only_strict(), ordered(), any(), only_os() or for_host(); no public constructor.
    """

    @staticmethod
    def only(platform: Platform) -> PlatformMatcher:
        """What a host of `platform` runs natively, in order of preference (containerd's Only)."""
    @staticmethod
    def only_strict(platform: Platform) -> PlatformMatcher:
        """Only the platform itself (containerd's OnlyStrict)."""
    @staticmethod
    def ordered(platforms: Sequence[Platform]) -> PlatformMatcher:
        """Any of the listed platforms, preferred in list order (containerd's Ordered)."""
    @staticmethod
    def any(platforms: Sequence[Platform]) -> PlatformMatcher:
        """Any of the listed platforms, with no preference between them (containerd's Any)."""
    @staticmethod
    def only_os(platform: Platform) -> PlatformMatcher:
        """Any architecture of the platform's OS, its own preferred (containerd's OnlyOS)."""
    @staticmethod
    def for_host(host: Platform) -> PlatformMatcher:
        """What containerd's Default() is on a host of `host`."""
    def match(self, platform: Platform) -> bool:
        """True when `platform` is acceptable."""
    def less(self, a: Platform, b: Platform) -> bool:
        """True when `a` is preferred over `b` (a strict weak order)."""
    def best(self, candidates: Sequence[Platform]) -> Optional[int]:
        """The index of the best matching candidate, or None when none matches."""
