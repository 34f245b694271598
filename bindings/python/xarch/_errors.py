# SPDX-License-Identifier: Apache-2.0
"""The exceptions xarch raises: the one place they are defined.

Every failure of the library is an :class:`Error`; its ``code`` names the cause and selects the
subclass (the mapping is :data:`_CLASS_BY_CODE`, used by the extension's one translator).
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class Error(Exception):
    """Root of every exception xarch raises.

    ``code`` is the stable name of the cause: ``"invalid_argument"``, ``"not_found"``,
    ``"permission_denied"``, ``"unsupported"``, ``"io"``, ``"already_exists"``, ``"cancelled"``,
    ``"internal"``, ``"authentication"``, ``"digest_mismatch"``, ``"registry"``, ``"network"`` or
    ``"build_failed"``.
    """

    #: The code an instance gets when none is given.
    default_code = "internal"

    code: str

    def __init__(self, message: str = "", *, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code if code is not None else self.default_code


class ParseError(Error, ValueError):
    """Malformed input: a platform string, a list of platforms, an emulator spec, a Dockerfile.

    For a Dockerfile, ``file`` is its name and ``line`` (``end_line``) the 1-based first (last)
    line of the problem; they are ``None`` (``line`` 0 when not tied to a line) otherwise.
    """

    default_code = "invalid_argument"

    file: Optional[str] = None
    line: Optional[int] = None
    end_line: Optional[int] = None


class NotFoundError(Error, LookupError):
    """A named thing does not exist (an emulator, a handler, a file)."""

    default_code = "not_found"


class PermissionDeniedError(Error, PermissionError):
    """The operation needs privileges the process lacks (root for binfmt_misc)."""

    default_code = "permission_denied"


class UnsupportedError(Error):
    """The host or kernel cannot do this (no binfmt_misc, a foreign OS)."""

    default_code = "unsupported"


class AlreadyExistsError(Error):
    """The thing to create is there already."""

    default_code = "already_exists"


class CancelledError(Error):
    """The caller cancelled the operation."""

    default_code = "cancelled"


class RegistryError(Error):
    """A registry answered with an error, or could not be reached."""

    default_code = "registry"


class AuthError(RegistryError):
    """Credentials are missing or were refused."""

    default_code = "authentication"


#: The former name of :class:`AuthError` (the same class).
AuthenticationError = AuthError


class NetworkError(RegistryError, ConnectionError):
    """A connection failed, was reset or timed out."""

    default_code = "network"


class DigestMismatchError(Error):
    """Content does not match its digest or size."""

    default_code = "digest_mismatch"


class BuildError(Error):
    """A build step ran and failed: a ``RUN`` exited non-zero or was killed.

    ``step`` is the step's name as the progress events show it (``"[linux/arm64 2/2] RUN exit
    3"``), ``platform`` the platform it ran for (``"linux/arm64"``, ``""`` when not known),
    ``exit_code`` the process's exit status (128 + signal when killed, -1 when not known).
    ``file``, ``line`` and ``end_line`` place the instruction in the Dockerfile (``line`` is 0
    when the builder does not know it, e.g. on a Docker Engine node).
    """

    default_code = "build_failed"

    step: str = ""
    platform: str = ""
    exit_code: int = -1
    file: Optional[str] = None
    line: Optional[int] = None
    end_line: Optional[int] = None


# Error codes without a class of their own ("io", "internal") raise Error itself.
_CLASS_BY_CODE: Dict[str, Type[Error]] = {
    "invalid_argument": ParseError,
    "not_found": NotFoundError,
    "permission_denied": PermissionDeniedError,
    "unsupported": UnsupportedError,
    "already_exists": AlreadyExistsError,
    "cancelled": CancelledError,
    "authentication": AuthError,
    "digest_mismatch": DigestMismatchError,
    "registry": RegistryError,
    "network": NetworkError,
    "build_failed": BuildError,
}


def _from_code(code: str, message: str) -> Error:
    """The exception for a library error (called by the extension's translator)."""
    return _CLASS_BY_CODE.get(code, Error)(message, code=code)


__all__ = [
    "Error",
    "ParseError",
    "NotFoundError",
    "PermissionDeniedError",
    "UnsupportedError",
    "AlreadyExistsError",
    "CancelledError",
    "RegistryError",
    "AuthError",
    "AuthenticationError",
    "NetworkError",
    "DigestMismatchError",
    "BuildError",
]
