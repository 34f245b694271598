// SPDX-License-Identifier: Apache-2.0
// The parts of the xarch._core extension module: one init_<module>(m) per bind_<module>.cpp,
// called in this order by module.cpp (a class is registered before any signature names it).
#pragma once

#include <pybind11/pybind11.h>

namespace xarch::python {

// xarch::Error -> the exception classes of xarch._errors (one translator).
void init_error(pybind11::module_& m);
// xarch.version(), xarch.abi_version().
void init_version(pybind11::module_& m);
// xarch.Platform, xarch.PlatformMatcher.
void init_platform(pybind11::module_& m);
// xarch.BuildContext, xarch.ContextEntry.
void init_context(pybind11::module_& m);
// The xarch._core.emulators submodule.
void init_emulators(pybind11::module_& m);
// xarch.Reference.
void init_reference(pybind11::module_& m);
// xarch.Registry and its values: Descriptor, RawContent, InspectResult, TransferProgress.
void init_registry(pybind11::module_& m);
// xarch.Builder and its values: ProgressEvent, BuildResult, PlatformImage, PruneResult.
void init_builder(pybind11::module_& m);
// xarch.BuilderStore and its values: BuilderSpec, NodeSpec, NodeStatus.
void init_builders(pybind11::module_& m);
// _core._run_cli: the command-line tool, for `python3 -m xarch`.
void init_cli(pybind11::module_& m);

}  // namespace xarch::python
