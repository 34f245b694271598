// SPDX-License-Identifier: Apache-2.0
// xarch._core: the extension module behind the `xarch` Python package. The package (xarch/) re-
// exports it; user code imports `xarch`, never `xarch._core`.
#include "bindings.hpp"

#include <pybind11/pybind11.h>

PYBIND11_MODULE(_core, m) {
    m.doc() =
        "Native core of the xarch package (pybind11 bindings over the xarch C++ library). "
        "Import `xarch` instead of this module.";
    xarch::python::init_error(m);
    xarch::python::init_version(m);
    xarch::python::init_platform(m);
    xarch::python::init_context(m);
    xarch::python::init_emulators(m);
    xarch::python::init_reference(m);
    xarch::python::init_registry(m);
    xarch::python::init_builder(m);
    xarch::python::init_builders(m);
    xarch::python::init_cli(m);
}
