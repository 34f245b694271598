# SPDX-License-Identifier: Apache-2.0
"""The exception hierarchy (xarch.Error and its subclasses) and the translation of C++ errors."""

from __future__ import annotations

import pickle

import pytest

import xarch

CLASSES = [
    (xarch.ParseError, "invalid_argument", ValueError),
    (xarch.NotFoundError, "not_found", LookupError),
    (xarch.PermissionDeniedError, "permission_denied", PermissionError),
    (xarch.UnsupportedError, "unsupported", None),
    (xarch.AlreadyExistsError, "already_exists", None),
    (xarch.CancelledError, "cancelled", None),
    (xarch.RegistryError, "registry", None),
    (xarch.AuthenticationError, "authentication", None),
    (xarch.NetworkError, "network", ConnectionError),
    (xarch.DigestMismatchError, "digest_mismatch", None),
    (xarch.BuildError, "build_failed", None),
]


def test_root() -> None:
    assert issubclass(xarch.Error, Exception)
    error = xarch.Error("boom")
    assert str(error) == "boom"
    assert error.code == "internal"
    assert xarch.Error("io failed", code="io").code == "io"


@pytest.mark.parametrize(("cls", "code", "builtin"), CLASSES)
def test_hierarchy(cls: type, code: str, builtin: type | None) -> None:
    assert issubclass(cls, xarch.Error)
    if builtin is not None:
        assert issubclass(cls, builtin)
    error = cls("message")
    assert error.code == code
    assert str(error) == "message"
    assert error.args == ("message",)


def test_permission_denied_is_an_os_error_without_errno() -> None:
    error = xarch.PermissionDeniedError("needs root")
    assert isinstance(error, OSError)
    assert str(error) == "needs root"
    assert error.errno is None


@pytest.mark.parametrize(("cls", "code", "builtin"), CLASSES)
def test_pickle(cls: type, code: str, builtin: type | None) -> None:
    restored = pickle.loads(pickle.dumps(cls("message")))
    assert type(restored) is cls
    assert restored.code == code
    assert str(restored) == "message"


def test_translated_error_from_the_library() -> None:
    with pytest.raises(xarch.Error) as raised:
        xarch.Platform.parse("linux/arm64/v8/extra")
    error = raised.value
    assert type(error) is xarch.ParseError
    assert error.code == "invalid_argument"
    assert "linux/arm64/v8/extra" in str(error)
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is xarch.ParseError
    assert restored.code == "invalid_argument"
    assert str(restored) == str(error)


def test_every_class_is_exported() -> None:
    for name in ["Error", *(cls.__name__ for cls, _, _ in CLASSES)]:
        cls = getattr(xarch, name)
        assert cls.__module__ == "xarch._errors"
        assert name in xarch.__all__


def test_registry_errors_share_a_root() -> None:
    assert issubclass(xarch.AuthenticationError, xarch.RegistryError)
    assert issubclass(xarch.NetworkError, xarch.RegistryError)


def test_auth_error_is_the_class_and_authentication_error_its_alias() -> None:
    assert xarch.AuthError is xarch.AuthenticationError
    assert xarch.AuthError.__name__ == "AuthError"
    assert issubclass(xarch.AuthError, xarch.RegistryError)
    assert {"AuthError", "AuthenticationError"} <= set(xarch.__all__)
    assert type(xarch._errors._from_code("authentication", "refused")) is xarch.AuthError


def test_build_failed_maps_to_build_error_with_its_step_attributes() -> None:
    error = xarch._errors._from_code("build_failed", "Dockerfile:2: process ... exit code: 3")
    assert type(error) is xarch.BuildError
    assert isinstance(error, xarch.Error)
    assert not isinstance(error, xarch.ParseError)
    # The defaults until the translator sets them from the C++ error.
    assert (error.step, error.platform, error.exit_code) == ("", "", -1)
    assert error.file is None and error.line is None and error.end_line is None
    assert "BuildError" in xarch.__all__
