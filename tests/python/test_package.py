# SPDX-License-Identifier: Apache-2.0
"""The package: layout, version, exports, typing files, and the stubs against the module."""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import re
import sys
from types import ModuleType
from typing import Dict, Set

import pytest

import xarch
import xarch._core
import xarch.emulators
from conftest import source_dir

PACKAGE_DIR = pathlib.Path(xarch.__file__).resolve().parent


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", xarch.version())
    assert xarch.__version__ == xarch.version()
    assert xarch._core.__version__ == xarch.version()
    header = (source_dir() / "include" / "xarch" / "version.hpp").read_text()
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        found = re.search(rf"#define XARCH_VERSION_{part} (\d+)", header)
        assert found, part
        parts.append(found.group(1))
    assert xarch.version() == ".".join(parts)


def test_abi_version() -> None:
    assert isinstance(xarch.abi_version(), int)
    assert xarch.abi_version() >= 0


def test_all_is_complete() -> None:
    for name in xarch.__all__:
        assert hasattr(xarch, name), name
    for name in xarch.emulators.__all__:
        assert hasattr(xarch.emulators, name), name
    assert xarch.Platform is xarch._core.Platform
    assert xarch.emulators.Options is xarch._core.emulators.Options


def test_emulators_submodule_imports() -> None:
    assert importlib.import_module("xarch._core.emulators") is xarch._core.emulators
    from xarch.emulators import list as list_emulators

    assert list_emulators is xarch._core.emulators.list


def test_typing_files_are_installed_beside_the_extension() -> None:
    for name in ["py.typed", "_core.pyi", "emulators.pyi", "__init__.py", "_errors.py"]:
        assert (PACKAGE_DIR / name).is_file(), name
    assert pathlib.Path(xarch._core.__file__).parent.resolve() == PACKAGE_DIR


def _public(names: Set[str]) -> Set[str]:
    return {n for n in names if not n.startswith("_")}


def _stub_members(path: pathlib.Path) -> Dict[str, Set[str]]:
    """{"": module-level names, "Class": its members} from a stub file."""
    tree = ast.parse(path.read_text())
    members: Dict[str, Set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members[""].add(node.name)
            names = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
            members[node.name] = names
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members[""].add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members[""].add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and node.module is None:
            members[""].update(alias.asname or alias.name for alias in node.names)
    return members


def _runtime_members(cls: type) -> Set[str]:
    return _public(set(vars(cls)))


@pytest.mark.parametrize(
    ("module", "stub"),
    [(xarch._core, "_core.pyi"), (xarch._core.emulators, "emulators.pyi")],
)
def test_stubs_match_the_module(module: ModuleType, stub: str) -> None:
    members = _stub_members(PACKAGE_DIR / stub)
    runtime = _public(set(vars(module)))
    assert _public(members[""]) == runtime
    for name in runtime:
        value = getattr(module, name)
        if not isinstance(value, type):
            continue
        documented = _public(members[name])
        actual = _runtime_members(value)
        if "__members__" in vars(value):  # a pybind11 enum: its values, `name` and `value`
            assert set(value.__members__) | {"name", "value"} <= documented, name
            assert actual <= documented, name
            continue
        assert documented == actual, name


def _documented(obj: object, name: str) -> bool:
    doc = inspect.getdoc(obj) or ""
    lines = [line for line in doc.splitlines() if line.strip()]
    # pybind11 puts the signature first ("name(arg: type) -> type"); require text after it.
    if lines and lines[0].startswith(name + "("):
        lines = lines[1:]
    return bool(lines)


@pytest.mark.parametrize("module", [xarch._core, xarch._core.emulators])
def test_everything_has_a_docstring(module: ModuleType) -> None:
    assert inspect.getdoc(module)
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, ModuleType):
            continue
        assert _documented(value, name), name
        if not isinstance(value, type):
            continue
        for member, attribute in vars(value).items():
            if member.startswith("_") or member in getattr(value, "__members__", {}):
                continue
            if "__members__" in vars(value) and member in ("name", "value"):
                continue  # pybind11's own enum helpers
            assert _documented(attribute, member), f"{name}.{member}"


def test_python_modules_are_documented() -> None:
    for module in [xarch, xarch.emulators, sys.modules["xarch._errors"]]:
        assert inspect.getdoc(module)
