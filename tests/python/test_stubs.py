# SPDX-License-Identifier: Apache-2.0
"""The typing stubs match the runtime: every public name of `xarch` (and of each class of the
extension) has a stub entry in xarch/_core.pyi and vice versa, read with `ast`; every public
class and method has a docstring."""

from __future__ import annotations

import ast
import inspect
import pathlib
from typing import Dict, Set

import pytest

import xarch
import xarch._core

PACKAGE = pathlib.Path(xarch.__file__).parent


def stub_tree(name: str) -> ast.Module:
    return ast.parse((PACKAGE / name).read_text(), filename=name)


def public(name: str) -> bool:
    return not name.startswith("_")


def members(body: list) -> Set[str]:
    """The names a stub body defines: functions, properties, annotated attributes, classes."""
    names: Set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if public(n)}


def stub_classes(tree: ast.Module) -> Dict[str, ast.ClassDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


CORE = stub_tree("_core.pyi")
ERRORS = stub_tree("_errors.py")


def test_every_public_name_of_xarch_has_a_stub_and_every_stub_a_name() -> None:
    stubbed = members(CORE.body) | members(ERRORS.body) | {"emulators"}
    exported = set(xarch.__all__)
    assert exported - stubbed == set(), "exported without a stub entry"
    # The stubs of the extension name nothing the extension lacks.
    runtime_core = {n for n in dir(xarch._core) if public(n)}
    assert members(CORE.body) - runtime_core == set(), "stubbed but not in xarch._core"
    # And everything public of the extension is exported by the package (or is a helper).
    classes_and_functions = {
        n for n in runtime_core if not inspect.ismodule(getattr(xarch._core, n))
    }
    assert classes_and_functions - exported == set()


@pytest.mark.parametrize("name", sorted(stub_classes(CORE)))
def test_each_class_stub_matches_its_runtime_members(name: str) -> None:
    if not hasattr(xarch._core, name):
        pytest.skip(f"{name} is a typing helper of the stubs only")
    cls = getattr(xarch._core, name)
    stubbed = members(stub_classes(CORE)[name].body)
    runtime = {n for n in vars(cls) if public(n)}
    assert stubbed - runtime == set(), f"stubbed but missing on {name}"
    assert runtime - stubbed == set(), f"{name} has members without a stub entry"


def test_the_emulators_stub_matches_the_module() -> None:
    stubbed = members(stub_tree("emulators.pyi").body)
    runtime = set(getattr(xarch.emulators, "__all__", [])) or {
        n
        for n in dir(xarch.emulators)
        if public(n) and not inspect.ismodule(getattr(xarch.emulators, n))
    }
    assert runtime - stubbed == set()


def public_classes() -> list:
    return [getattr(xarch, n) for n in xarch.__all__ if inspect.isclass(getattr(xarch, n))]


@pytest.mark.parametrize("cls", public_classes(), ids=lambda c: c.__name__)
def test_every_public_class_and_method_has_a_docstring(cls: type) -> None:
    assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring"
    if issubclass(cls, BaseException):
        return  # their methods are Exception's
    missing = []
    for name, member in vars(cls).items():
        if not public(name) or not (callable(member) or isinstance(member, property)):
            continue
        if inspect.isclass(member):
            continue  # nested enums are documented as classes
        if not (getattr(member, "__doc__", None) or "").strip():
            missing.append(name)
    assert missing == [], f"{cls.__name__}: no docstring on {missing}"
