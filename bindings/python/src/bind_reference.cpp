// SPDX-License-Identifier: Apache-2.0
// xarch.Reference.
#include "bindings.hpp"
#include "xarch/reference.hpp"

#include <pybind11/operators.h>
#include <pybind11/pybind11.h>

#include <functional>
#include <string>
#include <string_view>

namespace py = pybind11;

namespace xarch::python {

void init_reference(py::module_& m) {
    py::class_<Reference>(
        m, "Reference",
        R"doc(An image reference, registry/repository[:tag][@digest], parsed and normalized
the way `docker pull` reads it: "busybox" is docker.io/library/busybox:latest.

Immutable, hashable and picklable; equal references name the same image.
Reference(text) is Reference.parse(text).)doc")
        .def(py::init([](std::string_view text, bool repository) {
                 return repository ? Reference::parse_repository(text) : Reference::parse(text);
             }),
             py::arg("text"), py::arg("repository") = false,
             "Reference.parse(text), or Reference.parse_repository(text) with repository=True.")
        .def_static("parse", &Reference::parse, py::arg("text"),
                    R"doc(Parses a reference as `docker pull` and `buildx build -t` accept it:
"busybox" -> docker.io/library/busybox:latest, "localhost:5000/a/b:tag",
"host/name@sha256:...". Without tag and digest the tag is "latest"; with a
digest and no tag it stays "".

Raises ParseError (a ValueError) quoting the text and saying what is wrong.)doc")
        .def_static("parse_repository", &Reference::parse_repository, py::arg("text"),
                    R"doc(Parses a repository without tag or digest ("busybox" ->
docker.io/library/busybox, tag ""), as `imagetools tags REPO` takes it.

Raises ParseError (a ValueError), also when the text has a tag or digest.)doc")
        .def_property_readonly(
            "registry", [](const Reference& self) { return self.registry(); },
            "The registry as written in references: \"docker.io\", \"localhost:5000\".")
        .def_property_readonly(
            "repository", [](const Reference& self) { return self.repository(); },
            "The repository path in the registry: \"library/busybox\".")
        .def_property_readonly(
            "tag", [](const Reference& self) { return self.tag(); },
            "The tag, \"\" when there is none.")
        .def_property_readonly(
            "digest", [](const Reference& self) { return self.digest(); },
            "The digest, \"sha256:...\", \"\" when there is none.")
        .def_property_readonly("name", &Reference::name,
                               "registry/repository: \"docker.io/library/busybox\".")
        .def_property_readonly("familiar", &Reference::familiar,
                               "Docker's short form: \"busybox:latest\", \"localhost:5000/a:b\".")
        .def_property_readonly("familiar_name", &Reference::familiar_name,
                               "The short form without tag and digest: \"busybox\".")
        .def("with_tag", &Reference::with_tag, py::arg("tag"),
             "A copy with the tag replaced. Raises ParseError quoting a bad tag.")
        .def("with_digest", &Reference::with_digest, py::arg("digest"),
             "A copy with the digest replaced. Raises ParseError quoting a bad digest.")
        .def("without_tag", &Reference::without_tag, "A copy without the tag.")
        .def("without_digest", &Reference::without_digest, "A copy without the digest.")
        .def("to_string", &Reference::to_string,
             "The canonical form name[:tag][@digest] (also str(reference)).")
        .def("__str__", &Reference::to_string)
        .def("__repr__",
             [](const Reference& self) {
                 return "Reference(" + py::repr(py::str(self.to_string())).cast<std::string>() +
                        ")";
             })
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def(
            "__hash__", [](const Reference& self) { return std::hash<Reference>{}(self); },
            "A hash consistent with ==.")
        .def(
            "__reduce__",
            [](const Reference& self) {
                // A repository (no tag, no digest) would come back from parse() with "latest".
                const bool repository = !self.has_tag() && !self.has_digest();
                return py::make_tuple(py::type::of<Reference>(),
                                      py::make_tuple(self.to_string(), repository));
            },
            "Pickles through the constructor.");
}

}  // namespace xarch::python
