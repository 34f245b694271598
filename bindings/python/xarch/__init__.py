# SPDX-License-Identifier: Apache-2.0
"""xarch: multi-architecture container image builds, as a library.

Python bindings over the xarch C++ library::

    import xarch
    xarch.Platform.parse("arm")                 # Platform('linux/arm/v7')
    xarch.Platform.parse_list("amd64,arm64")    # [Platform('linux/amd64'), Platform('linux/arm64')]
    xarch.emulators.runnable_platforms()

    with xarch.Registry() as registry:           # credentials from ~/.docker/config.json
        registry.resolve("localhost:5000/app:1.0")  # Descriptor(...)
        registry.copy("localhost:5000/app:1.0", "localhost:5000/app:arm", platforms="arm64")

    builder = xarch.Builder()                   # cache in ~/.cache/xarch
    builder.build(xarch.BuildContext("."), platforms="amd64,arm64",
                  tags=["localhost:5000/app:1.0"], push=True)   # BuildResult(...)

Every failure is an :class:`xarch.Error`; malformed input is a :class:`xarch.ParseError`, which
is also a :class:`ValueError`.
"""

from . import _errors
from ._errors import *  # noqa: F401,F403  (the exception classes; _errors.__all__ lists them)
from ._core import (
    BuildContext,
    Builder,
    BuilderSpec,
    BuilderStore,
    BuildResult,
    ContextEntry,
    Descriptor,
    InspectResult,
    NodeSpec,
    NodeStatus,
    Platform,
    PlatformImage,
    PlatformMatcher,
    ProgressEvent,
    PruneResult,
    RawContent,
    Reference,
    Registry,
    TransferProgress,
    abi_version,
    version,
)
from . import emulators

#: The library version, e.g. "0.1.0" (the same as version()).
__version__: str = version()

__all__ = [
    "BuildContext",
    "ContextEntry",
    "Platform",
    "PlatformMatcher",
    "Reference",
    "Descriptor",
    "RawContent",
    "InspectResult",
    "TransferProgress",
    "Registry",
    "Builder",
    "BuildResult",
    "BuilderStore",
    "BuilderSpec",
    "NodeSpec",
    "NodeStatus",
    "PlatformImage",
    "ProgressEvent",
    "PruneResult",
    "version",
    "abi_version",
    "emulators",
    *_errors.__all__,
]
