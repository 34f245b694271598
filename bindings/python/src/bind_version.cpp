// SPDX-License-Identifier: Apache-2.0
// xarch.version(), xarch.abi_version() and _core.__version__.
#include "bindings.hpp"
#include "xarch/version.hpp"

#include <string>

namespace py = pybind11;

namespace xarch::python {

void init_version(py::module_& m) {
    m.def(
        "version", [] { return std::string(xarch::version()); },
        "The xarch library version, e.g. \"0.1.0\" (also xarch.__version__).");
    m.def("abi_version", &xarch::abi_version,
          "The C ABI generation of the library: the N in libxarch.so.N.");
    m.attr("__version__") = std::string(xarch::version());
}

}  // namespace xarch::python
