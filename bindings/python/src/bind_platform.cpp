// SPDX-License-Identifier: Apache-2.0
// xarch.Platform and xarch.PlatformMatcher.
#include "bindings.hpp"
#include "xarch/platform.hpp"

#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace xarch::python {
namespace {

// Platform('linux/arm/v7'); the os version and features show when set.
std::string platform_repr(const Platform& platform) {
    const bool plain = platform.os_version().empty() && platform.os_features().empty();
    const std::string text = plain ? platform.to_string() : platform.to_string_all();
    return "Platform(" + py::repr(py::str(text)).cast<std::string>() + ")";
}

// Pickling goes through the constructor: (Platform, (os, architecture, variant, os_version,
// os_features)). Not py::pickle: with pickle protocols 0 and 1 its __setstate__ path makes
// pybind11 2.10 throw through copyreg and abort the interpreter.
py::tuple platform_reduce(const Platform& platform) {
    return py::make_tuple(py::type::of<Platform>(),
                          py::make_tuple(platform.os(), platform.architecture(), platform.variant(),
                                         platform.os_version(), platform.os_features()));
}

}  // namespace

void init_platform(py::module_& m) {
    py::class_<Platform> platform(
        m, "Platform",
        R"doc(An os/arch[/variant] platform, as in an OCI image index or `docker buildx
build --platform`.

Immutable and hashable; equality compares every field as stored (use
normalized() or parse() to compare spellings such as "aarch64" and "arm64").
Picklable.

Construct one from its fields (stored as given, not normalized), or with
Platform.parse().)doc");
    platform
        .def(py::init<std::string, std::string, std::string, std::string,
                      std::vector<std::string>>(),
             py::arg("os"), py::arg("architecture"), py::arg("variant") = std::string(),
             py::arg("os_version") = std::string(),
             py::arg("os_features") = std::vector<std::string>(),
             "Makes a platform from its fields, stored as given (no normalization); features "
             "keep their order.")
        .def_static("parse", &Platform::parse, py::arg("text"),
                    R"doc(Parses one --platform value the way buildx does, normalized: "local" (any
case) is the host; "arm" -> linux/arm/v7, "arm64/v8" -> linux/arm64,
"x86_64" -> linux/amd64, "armhf" -> linux/arm/v7.

Raises ParseError (a ValueError) quoting the input when it is malformed.)doc")
        .def_static("parse_unnormalized", &Platform::parse_unnormalized, py::arg("text"),
                    R"doc(Parses a platform as containerd's Parse does, without the final
normalization ("arm" stays linux/arm with no variant). A missing os or
architecture defaults to the host's.

Raises ParseError (a ValueError) when the text is malformed.)doc")
        .def_static(
            "parse_list", &Platform::parse_list, py::arg("text"),
            R"doc(Parses a comma-separated --platform list ("amd64,arm,arm64") into a list of
platforms: each element through parse(), order kept, duplicates removed.
Empty elements and surrounding spaces are errors, as in buildx.

Raises ParseError (a ValueError) naming the bad element.)doc")
        .def_static("host", &Platform::host, py::call_guard<py::gil_scoped_release>(),
                    "The platform of this process's host, normalized (on arm the variant is "
                    "read from the CPU).")
        .def("normalized", &Platform::normalized,
             "This platform with canonical os, architecture and variant names (containerd's "
             "Normalize).")
        .def_property_readonly(
            "os", [](const Platform& self) { return self.os(); },
            "The operating system, e.g. \"linux\".")
        .def_property_readonly(
            "architecture", [](const Platform& self) { return self.architecture(); },
            "The CPU architecture, e.g. \"arm64\".")
        .def_property_readonly(
            "variant", [](const Platform& self) { return self.variant(); },
            "The architecture variant, e.g. \"v7\" (\"\" when none).")
        .def_property_readonly(
            "os_version", [](const Platform& self) { return self.os_version(); },
            "The OS version, e.g. \"10.0.17763\" (\"\" when none).")
        .def_property_readonly(
            "os_features", [](const Platform& self) { return self.os_features(); },
            "The required OS features, as a new list.")
        .def("to_string", &Platform::to_string,
             "os/arch[/variant], as containerd's Format (also str(platform)).")
        .def("to_string_all", &Platform::to_string_all,
             "os[(osversion+feature+...)]/arch[/variant] with reserved characters "
             "percent-encoded (containerd's FormatAll).")
        .def("__str__", &Platform::to_string)
        .def("__repr__", &platform_repr)
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def(
            "__hash__", [](const Platform& self) { return std::hash<Platform>{}(self); },
            "A hash consistent with ==.")
        .def("__reduce__", &platform_reduce, "Pickles through the constructor.");

    py::class_<PlatformMatcher>(
        m, "PlatformMatcher",
        R"doc(Decides which platforms are acceptable and which of two is preferred
(containerd's MatchComparer). Make one with only(), only_strict(),
ordered(), any(), only_os() or for_host(). Immutable.)doc")
        .def_static(
            "only", &PlatformMatcher::only, py::arg("platform"),
            R"doc(What a host of `platform` runs natively, in order of preference: amd64 runs
386, arm64 runs arm/v8..v5, amd64/v3 runs v2 and v1, and so on (containerd's
Only).)doc")
        .def_static("only_strict", &PlatformMatcher::only_strict, py::arg("platform"),
                    "Only the platform itself, with non-canonical spellings still matching "
                    "(containerd's OnlyStrict).")
        .def_static("ordered", &PlatformMatcher::ordered, py::arg("platforms"),
                    "Any of the listed platforms, preferred in list order (containerd's "
                    "Ordered).")
        .def_static("any", &PlatformMatcher::any, py::arg("platforms"),
                    "Any of the listed platforms, with no preference between them "
                    "(containerd's Any).")
        .def_static("only_os", &PlatformMatcher::only_os, py::arg("platform"),
                    "Any architecture of the platform's OS, OS version and OS features, the "
                    "platform's own architecture preferred (containerd's OnlyOS).")
        .def_static("for_host", &PlatformMatcher::for_host, py::arg("host"),
                    "What containerd's Default() is on a host of `host`: only(host), except on "
                    "Windows, where it is the host's own platform with a compatible OS version, "
                    "the higher versions preferred.")
        .def("match", &PlatformMatcher::match, py::arg("platform"),
             "True when `platform` is acceptable.")
        .def("less", &PlatformMatcher::less, py::arg("a"), py::arg("b"),
             "True when `a` is preferred over `b` (a strict weak order: usable as a sort key "
             "through functools.cmp_to_key).")
        .def(
            "best",
            [](const PlatformMatcher& self, const std::vector<Platform>& candidates)
                -> std::optional<std::size_t> { return self.best(candidates); },
            py::arg("candidates"),
            "The index of the best matching candidate (e.g. among an image index's manifests), "
            "or None when none matches.")
        .def("__repr__", [](const PlatformMatcher&) { return std::string("<PlatformMatcher>"); });
}

}  // namespace xarch::python
