# SPDX-License-Identifier: Apache-2.0
"""``python3 -m xarch ARGS``: the xarch command-line tool, the same as the ``xarch`` program."""

import signal
import sys

from . import _core


def main() -> int:
    # Behave as the native tool does: Python ignores SIGPIPE (so `... | head` would end in write
    # errors) and turns SIGINT into KeyboardInterrupt, which no Python code would see while the
    # tool runs; the tool handles Ctrl-C itself during a build and otherwise stops at once.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # The tool writes to the file descriptors directly: anything Python buffered goes first.
    sys.stdout.flush()
    sys.stderr.flush()
    return _core._run_cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
