// SPDX-License-Identifier: Apache-2.0
// The one translator from xarch::Error to Python. The exception classes themselves are defined in
// one place, xarch/_errors.py, which also maps each code to its class; this file only names the
// codes.
#include "bindings.hpp"
#include "xarch/error.hpp"

#include <exception>
#include <string>

namespace py = pybind11;

namespace xarch::python {
namespace {

// Raises the Python exception for `error` (the GIL is held: translators run in the dispatcher).
void raise(const Error& error) {
    try {
        py::object exception = py::module_::import("xarch._errors")
                                   .attr("_from_code")(to_string(error.code()), error.what());
        if (const auto* located = dynamic_cast<const DockerfileError*>(&error)) {
            exception.attr("file") = located->file();
            exception.attr("line") = located->start_line();
            exception.attr("end_line") = located->end_line();
        }
        if (const auto* failed = dynamic_cast<const BuildError*>(&error)) {
            exception.attr("step") = failed->step();
            exception.attr("platform") = failed->platform();
            exception.attr("exit_code") = failed->exit_code();
        }
        PyErr_SetObject(py::type::handle_of(exception).ptr(), exception.ptr());
    } catch (py::error_already_set& failure) {
        // xarch._errors is not importable (the extension was loaded outside its package): the
        // import error is the clearest thing to report.
        failure.restore();
    }
}

}  // namespace

void init_error(py::module_& /*m*/) {
    py::register_exception_translator([](std::exception_ptr pending) {
        try {
            if (pending) {
                std::rethrow_exception(pending);
            }
        } catch (const Error& error) {
            raise(error);
        }
    });
}

}  // namespace xarch::python
