// SPDX-License-Identifier: Apache-2.0
// Python arguments shared by the bindings (arguments.hpp).
#include "arguments.hpp"

namespace py = pybind11;

namespace xarch::python {

std::string type_name(py::handle value) {
    return py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>();
}

Platform to_platform(py::handle value) {
    if (py::isinstance<py::str>(value)) {
        return Platform::parse(value.cast<std::string>());
    }
    if (py::isinstance<Platform>(value)) {
        return value.cast<Platform>();
    }
    throw py::type_error("a platform must be a str or xarch.Platform, not " + type_name(value));
}

std::vector<Platform> to_platforms(const py::object& value) {
    if (value.is_none()) {
        return {};
    }
    if (py::isinstance<py::str>(value)) {
        return Platform::parse_list(value.cast<std::string>());
    }
    std::vector<Platform> result;
    for (py::handle item : py::iter(value)) {
        result.push_back(to_platform(item));
    }
    return result;
}

}  // namespace xarch::python
