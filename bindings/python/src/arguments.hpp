// SPDX-License-Identifier: Apache-2.0
// Python arguments the bindings accept in several places: a platform as str or xarch.Platform,
// platform lists ("amd64,arm64" or an iterable), and the type name error messages quote.
#pragma once

#include "xarch/platform.hpp"

#include <pybind11/pybind11.h>

#include <string>
#include <vector>

namespace xarch::python {

// The Python type name of `value`, for TypeError messages.
std::string type_name(pybind11::handle value);

// A str (parsed as --platform) or an xarch.Platform; TypeError otherwise.
Platform to_platform(pybind11::handle value);

// None: no platforms (the caller's default); "amd64,arm64": a --platform list; else an iterable
// of str or Platform.
std::vector<Platform> to_platforms(const pybind11::object& value);

}  // namespace xarch::python
