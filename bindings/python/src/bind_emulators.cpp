// SPDX-License-Identifier: Apache-2.0
// The xarch.emulators submodule: QEMU user-mode emulators in binfmt_misc. Every function that
// touches the system runs with the GIL released.
#include "bindings.hpp"
#include "xarch/emulators.hpp"
#include "xarch/platform.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace xarch::python {
namespace {

namespace em = xarch::emulators;

using ReleaseGil = py::call_guard<py::gil_scoped_release>;

std::string py_repr(const py::object& value) {
    return py::repr(value).cast<std::string>();
}

template <typename T>
std::string field(const char* name, const T& value, bool first = false) {
    return std::string(first ? "" : ", ") + name + "=" + py_repr(py::cast(value));
}

const em::Options& or_default(const std::optional<em::Options>& options) {
    static const em::Options defaults;  // pure C++: safe without the GIL
    return options ? *options : defaults;
}

}  // namespace

void init_emulators(py::module_& m) {
    py::module_ sub = m.def_submodule(
        "emulators",
        R"doc(QEMU user-mode emulators registered in binfmt_misc, so that this host can
run (and build for) foreign platforms: the library's counterpart of `docker
run --privileged tonistiigi/binfmt --install all`. Every function releases
the GIL while it works.)doc");
    // `import xarch._core.emulators` and pickling by module path find the submodule.
    py::module_::import("sys").attr("modules")[sub.attr("__name__")] = sub;

    py::class_<em::Options>(
        sub, "Options",
        R"doc(Where binfmt_misc and the emulators are, and how handlers get registered.
Every field has a default; the constructor takes keywords only.)doc")
        .def(py::init([](std::string binfmt_mount, std::string qemu_dir, std::string qemu_suffix,
                         bool preserve_argv0) {
                 return em::Options{std::move(binfmt_mount), std::move(qemu_dir),
                                    std::move(qemu_suffix), preserve_argv0};
             }),
             py::kw_only(), py::arg("binfmt_mount") = em::Options{}.binfmt_mount,
             py::arg("qemu_dir") = em::Options{}.qemu_dir,
             py::arg("qemu_suffix") = em::Options{}.qemu_suffix,
             py::arg("preserve_argv0") = em::Options{}.preserve_argv0,
             "Makes options; omitted fields keep their defaults.")
        .def_readwrite("binfmt_mount", &em::Options::binfmt_mount,
                       "Where binfmt_misc is (or gets) mounted; default "
                       "\"/proc/sys/fs/binfmt_misc\".")
        .def_readwrite("qemu_dir", &em::Options::qemu_dir,
                       "The folder of the emulators, <qemu_dir>/qemu-<cpu><qemu_suffix>; default "
                       "\"/usr/bin\".")
        .def_readwrite("qemu_suffix", &em::Options::qemu_suffix,
                       "The emulators' file name suffix; default \"-static\" (Debian's "
                       "qemu-user-static).")
        .def_readwrite("preserve_argv0", &em::Options::preserve_argv0,
                       "Register with the P flag (preserve argv[0]); default False, as in "
                       "binfmt.")
        .def("__repr__", [](const em::Options& self) {
            return "Options(" + field("binfmt_mount", self.binfmt_mount, true) +
                   field("qemu_dir", self.qemu_dir) + field("qemu_suffix", self.qemu_suffix) +
                   field("preserve_argv0", self.preserve_argv0) + ")";
        });

    py::class_<em::Handler>(sub, "Handler",
                            "One entry of binfmt_misc (a registered handler), whoever registered "
                            "it. Read-only.")
        .def_readonly("name", &em::Handler::name,
                      "File name in binfmt_misc, e.g. \"qemu-aarch64\".")
        .def_readonly("enabled", &em::Handler::enabled, "Whether the handler is enabled.")
        .def_readonly("interpreter", &em::Handler::interpreter,
                      "The interpreter, e.g. \"/usr/bin/qemu-aarch64-static\".")
        .def_readonly("flags", &em::Handler::flags,
                      "The flags as the kernel reports them, e.g. \"OCF\".")
        .def_readonly("magic", &em::Handler::magic,
                      "The magic bytes in hex (\"\" for extension handlers).")
        .def_readonly("mask", &em::Handler::mask,
                      "The magic's mask in hex (\"\" when it has none: every bit counts).")
        .def_readonly("offset", &em::Handler::offset, "Where in the file the magic is compared.")
        .def_readonly("extension", &em::Handler::extension,
                      "The file name extension of an extension handler, e.g. \".exe\" (\"\" "
                      "for magic handlers).")
        .def_property_readonly(
            "platform", [](const em::Handler& self) { return self.platform; },
            "The Linux platform whose ELF binaries this handler runs, or None when its magic is "
            "not an ELF header of a machine xarch knows.")
        .def("__repr__", [](const em::Handler& self) {
            return "Handler(" + field("name", self.name, true) + field("enabled", self.enabled) +
                   field("interpreter", self.interpreter) + field("flags", self.flags) +
                   field("platform", self.platform) + ")";
        });

    py::class_<em::Emulator>(sub, "Emulator",
                             "A QEMU user emulator xarch knows how to register, with its state "
                             "on this host. Read-only.")
        .def_property_readonly(
            "platform", [](const em::Emulator& self) { return self.platform; },
            "The platform it emulates, normalized, e.g. linux/arm64.")
        .def_readonly("name", &em::Emulator::name, "The handler name, e.g. \"qemu-aarch64\".")
        .def_readonly("path", &em::Emulator::path, "The interpreter's path on this host.")
        .def_readonly("present", &em::Emulator::present,
                      "Whether the interpreter exists on this host.")
        .def_readonly("registered", &em::Emulator::registered,
                      "Whether an enabled handler runs this platform's binaries.")
        .def("__repr__", [](const em::Emulator& self) {
            return "Emulator(" + field("platform", self.platform, true) + field("name", self.name) +
                   field("path", self.path) + field("present", self.present) +
                   field("registered", self.registered) + ")";
        });

    py::enum_<em::Outcome>(sub, "Outcome", "What install() or uninstall() did for one platform.")
        .value("INSTALLED", em::Outcome::kInstalled, "Registered now.")
        .value("ALREADY_INSTALLED", em::Outcome::kAlreadyInstalled,
               "An enabled handler for the platform was already there.")
        .value("NATIVE", em::Outcome::kNative,
               "The host runs the platform natively: nothing to register.")
        .value("UNINSTALLED", em::Outcome::kUninstalled, "Handler removed.")
        .value("NOT_INSTALLED", em::Outcome::kNotInstalled, "Nothing to remove.");

    py::class_<em::Change>(sub, "Change",
                           "What install() or uninstall() did for one platform. Read-only.")
        .def_readonly("name", &em::Change::name, "The handler name.")
        .def_property_readonly(
            "platform", [](const em::Change& self) { return self.platform; },
            "The platform concerned.")
        .def_readonly("outcome", &em::Change::outcome, "What happened (an Outcome).")
        .def("__repr__", [](const em::Change& self) {
            return "Change(" + field("name", self.name, true) + field("platform", self.platform) +
                   ", outcome=" + py::str(py::cast(self.outcome)).cast<std::string>() + ")";
        });

    sub.def(
        "handlers",
        [](const std::optional<em::Options>& options) { return em::handlers(or_default(options)); },
        py::arg("options") = py::none(), ReleaseGil(),
        R"doc(binfmt_misc's handlers, as a list of Handler. Any folder with a `status`
file is read as binfmt_misc (tests use a fake one). Mounts binfmt_misc when
absent and allowed.

Raises PermissionDeniedError when it must be mounted and cannot be,
UnsupportedError when the kernel has no binfmt_misc.)doc");
    sub.def(
        "list",
        [](const std::optional<em::Options>& options) { return em::list(or_default(options)); },
        py::arg("options") = py::none(), ReleaseGil(),
        "Every emulator xarch knows for a platform this host does not run natively, with its "
        "state, as a list of Emulator in a fixed order. A binfmt_misc that is absent and cannot "
        "be mounted counts as having no handlers.");
    sub.def("native_platforms", &em::native_platforms, ReleaseGil(),
            "The platforms this host runs without emulation, best first (the host, then what its "
            "CPU and kernel also run, e.g. linux/386 on amd64).");
    sub.def(
        "runnable_platforms",
        [](const std::optional<em::Options>& options) {
            return em::runnable_platforms(or_default(options));
        },
        py::arg("options") = py::none(), ReleaseGil(),
        "The platforms this host can run: native ones first, then those an enabled binfmt_misc "
        "handler emulates, without duplicates.");
    sub.def(
        "install",
        [](const std::string& spec, const std::optional<em::Options>& options) {
            return em::install(spec, or_default(options));
        },
        py::arg("spec"), py::arg("options") = py::none(), ReleaseGil(),
        R"doc(Registers emulators and returns a list of Change, one per item in order.
`spec` is "all" (every present emulator for a non-native platform) or a
comma list of platforms or emulator names ("arm64,arm", "qemu-riscv64").
Validates everything before registering anything; a platform an enabled
handler already runs is ALREADY_INSTALLED. If a registration fails, those
this call made are removed.

Raises ParseError for an unknown item, NotFoundError for a missing emulator
binary, PermissionDeniedError without root.)doc");
    sub.def(
        "uninstall",
        [](const std::string& spec, const std::optional<em::Options>& options) {
            return em::uninstall(spec, or_default(options));
        },
        py::arg("spec"), py::arg("options") = py::none(), ReleaseGil(),
        R"doc(Removes the handlers that run the given platforms or carry the given names
("all": every handler for a platform xarch knows) and returns a list of
Change.

Raises ParseError for a malformed spec, PermissionDeniedError without root.)doc");
}

}  // namespace xarch::python
