// SPDX-License-Identifier: Apache-2.0
// _core._run_cli(argv): the xarch command-line tool inside the Python process (`python3 -m xarch`).
#include "bindings.hpp"

#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <vector>

#ifdef XARCH_PYTHON_HAS_CLI
#include "command.hpp"
#endif

namespace py = pybind11;

namespace xarch::python {

namespace {

int run_cli(const std::vector<std::string>& args) {
#ifdef XARCH_PYTHON_HAS_CLI
    // The tool takes Ctrl-C itself (a sigwait thread cancels the build) and can run for minutes:
    // no Python code runs meanwhile, so other Python threads keep going.
    py::gil_scoped_release release;
    return xarch::cli::run(args);
#else
    (void)args;
    throw std::runtime_error(
        "this xarch extension was built without the command-line tool (XARCH_BUILD_EXAMPLES=OFF): "
        "rebuild it with -DXARCH_BUILD_EXAMPLES=ON, or install the package with pip, to use "
        "`python3 -m xarch`");
#endif
}

}  // namespace

void init_cli(py::module_& m) {
    m.def("_run_cli", &run_cli, py::arg("argv"),
          "Runs the xarch command-line tool with ARGV (without the program name) on the process's "
          "stdout and stderr; returns its exit code (0 ok, 1 error, 2 usage).");
}

}  // namespace xarch::python
