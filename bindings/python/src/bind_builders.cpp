// SPDX-License-Identifier: Apache-2.0
// xarch.BuilderStore and its values (BuilderSpec, NodeSpec, NodeStatus): the builders of
// `xarch create/use/rm/ls`. Calls that read or write builders.json, or ask an engine, release
// the GIL.
#include "arguments.hpp"
#include "bindings.hpp"
#include "xarch/builders.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace xarch::python {
namespace {

using ReleaseGil = py::call_guard<py::gil_scoped_release>;

std::string repr_platforms(const std::vector<Platform>& platforms) {
    std::string out = "[";
    for (const Platform& p : platforms) {
        out += (out.size() > 1 ? ", '" : "'") + p.to_string() + "'";
    }
    return out + "]";
}

}  // namespace

void init_builders(py::module_& m) {
    py::class_<NodeStatus>(m, "NodeStatus",
                           "What a node can do now, as `xarch ls` shows it. Read-only.")
        .def_readonly("status", &NodeStatus::status, "\"running\" or \"error\".")
        .def_readonly("error", &NodeStatus::error, "Why it is not running (\"\" when it is).")
        .def_readonly("version", &NodeStatus::version,
                      "The engine's version, or xarch's for an embedded node.")
        .def_readonly("native", &NodeStatus::native,
                      "Declared platforms first, then what it runs without emulation.")
        .def_readonly("emulated", &NodeStatus::emulated,
                      "What it runs through QEMU (the host's binfmt_misc handlers for an "
                      "embedded node or an engine on a local unix socket; [] for a remote "
                      "engine).")
        .def_property_readonly("running", &NodeStatus::running, "status == \"running\".")
        .def("__repr__", [](const NodeStatus& s) {
            return "NodeStatus(status='" + s.status + "', version='" + s.version +
                   "', native=" + repr_platforms(s.native) + ")";
        });

    py::class_<NodeSpec>(m, "NodeSpec", "One node of a builder, as stored. Read-only.")
        .def_readonly("name", &NodeSpec::name, "Unique within its builder (NAME0, NAME1, ...).")
        .def_property_readonly(
            "driver", [](const NodeSpec& n) { return std::string(to_string(n.driver)); },
            "\"docker\" or \"embedded\".")
        .def_readonly("endpoint", &NodeSpec::endpoint,
                      "A docker node's engine (\"unix:///...\", \"tcp://...\", a Docker "
                      "context; \"\": the environment's); \"\" for an embedded node.")
        .def_readonly("platforms", &NodeSpec::platforms,
                      "The platforms declared with --platform at create.")
        .def("inspect", &inspect_node, ReleaseGil(),
             "Asks the node what it can do now (an engine: /_ping, /version, /info). An "
             "unreachable engine is not an exception: the NodeStatus says why.")
        .def("__eq__", [](const NodeSpec& a, const NodeSpec& b) { return a == b; })
        .def("__repr__", [](const NodeSpec& n) {
            return "NodeSpec(name='" + n.name + "', driver='" + std::string(to_string(n.driver)) +
                   "', endpoint='" + n.endpoint + "', platforms=" + repr_platforms(n.platforms) +
                   ")";
        });

    py::class_<BuilderSpec>(m, "BuilderSpec", "A builder as stored: its name and nodes. Read-only.")
        .def_readonly("name", &BuilderSpec::name, "The builder's name.")
        .def_readonly("nodes", &BuilderSpec::nodes, "Its nodes (NodeSpec), in order.")
        .def_property_readonly(
            "driver", [](const BuilderSpec& b) { return std::string(to_string(b.driver())); },
            "Its first node's driver (what `xarch ls` shows).")
        .def("__eq__", [](const BuilderSpec& a, const BuilderSpec& b) { return a == b; })
        .def("__repr__", [](const BuilderSpec& b) {
            return "BuilderSpec(name='" + b.name + "', nodes=" + std::to_string(b.nodes.size()) +
                   ")";
        });

    py::class_<BuilderStore>(m, "BuilderStore",
                             R"doc(The builders `xarch create` made, in builders.json (as buildx
keeps its own): `dir` None means $XDG_CONFIG_HOME/xarch, else ~/.config/xarch.
"default" always exists (one embedded node, never stored). Every call reads
the file again and changes are written atomically under a lock, so several
processes and threads may use one store. Builder(builder=NAME) builds on one.)doc")
        .def(py::init([](const std::optional<std::filesystem::path>& dir) {
                 return BuilderStore(dir.value_or(std::filesystem::path()));
             }),
             py::arg("dir") = py::none())
        .def_property_readonly(
            "file", [](const BuilderStore& s) { return s.file().string(); },
            "The path of builders.json.")
        .def("list", &BuilderStore::list, ReleaseGil(),
             "Every builder: \"default\" first, then the stored ones by name.")
        .def("get", &BuilderStore::get, ReleaseGil(), py::arg("name"),
             "The builder named `name`; NotFoundError listing those that exist.")
        .def_property_readonly("current_name", &BuilderStore::current_name,
                               "The builder `use` chose (\"default\" until then).")
        .def("current", &BuilderStore::current, ReleaseGil(), "The current builder (BuilderSpec).")
        .def(
            "create",
            [](BuilderStore& store, std::string name, const std::string& driver,
               std::string endpoint, const py::object& platforms, std::string node_name,
               bool append, bool use) {
                BuilderStore::CreateOptions options;
                options.name = std::move(name);
                options.driver = parse_driver(driver);
                options.endpoint = std::move(endpoint);
                options.platforms = to_platforms(platforms);
                options.node_name = std::move(node_name);
                options.append = append;
                options.use = use;
                py::gil_scoped_release release;
                return store.create(options);
            },
            py::kw_only(), py::arg("name") = "", py::arg("driver") = "docker",
            py::arg("endpoint") = "", py::arg("platforms") = py::none(), py::arg("node_name") = "",
            py::arg("append") = false, py::arg("use") = false,
            R"doc(`xarch create`: a builder with one node, or (append=True) one more node for an
existing builder; returns it as stored. name "" makes one ("xarch0", ...);
driver "docker" (endpoint: "unix:///path", "tcp://host:port", a Docker context,
"" the environment's engine) or "embedded" (this process, no endpoint);
platforms: what the node is meant to build (str or a sequence). Nothing is
contacted. ParseError for a bad name, driver or a second node with the same
name or endpoint; AlreadyExistsError for an existing name without append;
NotFoundError for append to a builder that does not exist.)doc")
        .def("remove_node", &BuilderStore::remove_node, ReleaseGil(), py::arg("builder"),
             py::arg("node"),
             "Removes one node (`xarch create --leave --node`); its last node removes the "
             "builder. Returns the builder as left.")
        .def("use", &BuilderStore::use, ReleaseGil(), py::arg("name"),
             "Makes `name` the current builder (`xarch use`).")
        .def("remove", &BuilderStore::remove, ReleaseGil(), py::arg("name"),
             "Removes a builder (`xarch rm`); ParseError for \"default\".");
}

}  // namespace xarch::python
