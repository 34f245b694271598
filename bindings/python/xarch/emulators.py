# SPDX-License-Identifier: Apache-2.0
"""QEMU user-mode emulators registered in binfmt_misc.

So that this host can run (and build for) foreign platforms: the library's counterpart of
``docker run --privileged --rm tonistiigi/binfmt --install all``. Every function releases the GIL
while it works::

    import xarch.emulators
    for emulator in xarch.emulators.list():
        print(emulator.platform, emulator.registered)
"""

from ._core import emulators as _native

Options = _native.Options
Handler = _native.Handler
Emulator = _native.Emulator
Outcome = _native.Outcome
Change = _native.Change

handlers = _native.handlers
list = _native.list  # noqa: A001 - mirrors xarch::emulators::list
native_platforms = _native.native_platforms
runnable_platforms = _native.runnable_platforms
install = _native.install
uninstall = _native.uninstall

__all__ = [
    "Options",
    "Handler",
    "Emulator",
    "Outcome",
    "Change",
    "handlers",
    "list",
    "native_platforms",
    "runnable_platforms",
    "install",
    "uninstall",
]
