// SPDX-License-Identifier: Apache-2.0
// xarch.BuildContext and xarch.ContextEntry: a build context with its buildx settings, scanned
// (with the GIL released) into entries with digests, and COPY sources resolved against a scan.
#include "bindings.hpp"
#include "xarch/context.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace xarch::python {
namespace {

using StringMap = std::map<std::string, std::string>;
using Strings = std::vector<std::string>;

// Applies the keyword settings shared by the constructor and from_tar().
void configure(BuildContext& ctx,
               const std::optional<std::filesystem::path>& dockerfile,
               const std::optional<std::string>& dockerfile_text,
               const std::optional<StringMap>& build_args,
               const std::optional<StringMap>& labels,
               const std::optional<std::string>& target,
               const std::optional<StringMap>& named_contexts,
               const std::optional<Strings>& secrets,
               const std::optional<Strings>& ssh) {
    if (dockerfile_text) {
        ctx.set_dockerfile_text(*dockerfile_text);
    } else if (dockerfile) {
        ctx.set_dockerfile(*dockerfile);
    }
    for (const auto& [k, v] : build_args.value_or(StringMap{})) {
        ctx.set_build_arg(k, v);
    }
    for (const auto& [k, v] : labels.value_or(StringMap{})) {
        ctx.add_label(k + "=" + v);
    }
    if (target) {
        ctx.set_target(*target);
    }
    for (const auto& [name, value] : named_contexts.value_or(StringMap{})) {
        ctx.add_named_context(name + "=" + value);
    }
    for (const std::string& s : secrets.value_or(Strings{})) {
        ctx.add_secret(s);
    }
    for (const std::string& s : ssh.value_or(Strings{})) {
        ctx.add_ssh(s);
    }
}

std::string named_context_text(const NamedContext& ctx) {
    switch (ctx.kind) {
        case NamedContext::Kind::kImage:
            return "docker-image://" + ctx.value;
        case NamedContext::Kind::kOciLayout:
            return "oci-layout://" + ctx.value;
        case NamedContext::Kind::kDirectory:
        case NamedContext::Kind::kUrl:
            break;
    }
    return ctx.value;
}

std::string entry_repr(const ContextEntry& e) {
    std::string out = "ContextEntry(" + py::repr(py::str(e.path)).cast<std::string>() + ", " +
                      std::string(to_string(e.type));
    if (!e.digest.empty()) {
        out += ", " + e.digest.to_string();
    }
    if (e.type == ContextEntryType::kSymlink) {
        out += " -> " + py::repr(py::str(e.link_target)).cast<std::string>();
    }
    return out + ")";
}

constexpr const char* kSettingsDoc = R"doc(
Settings, as `docker buildx build` takes them:
  dockerfile: -f PATH, relative to the current directory (may lie outside the context; for a
      tar context, a relative path names a file inside the archive).
  dockerfile_text: the Dockerfile itself (-f -); wins over dockerfile.
  build_args: {NAME: VALUE} (--build-arg).
  labels: {NAME: VALUE} (--label).
  target: the stage to build (--target).
  named_contexts: {name: "DIR" | "docker-image://REF" | "oci-layout://PATH" | URL}
      (--build-context).
  secrets: ["id=ID,src=FILE", "id=ID,env=VAR", ...] (--secret).
  ssh: ["default", "ID=SOCKET[,SOCKET]", ...] (--ssh; no path means $SSH_AUTH_SOCK).

Raises NotFoundError for a missing directory or Dockerfile, ParseError (a ValueError) quoting a
malformed setting.)doc";

}  // namespace

void init_context(py::module_& m) {
    py::class_<ContextEntry>(m, "ContextEntry",
                             R"doc(One entry of a scanned build context, as BuildKit's file sync
records it. Read-only.)doc")
        .def_readonly("path", &ContextEntry::path,
                      "Path relative to the context root, '/'-separated.")
        .def_property_readonly(
            "type", [](const ContextEntry& e) { return std::string(to_string(e.type)); },
            "\"file\", \"dir\", \"symlink\" or \"other\" (FIFO, socket, device).")
        .def_readonly("mode", &ContextEntry::mode, "st_mode: type bits and permissions.")
        .def_readonly("uid", &ContextEntry::uid, "Owner user id.")
        .def_readonly("gid", &ContextEntry::gid, "Owner group id.")
        .def_readonly("size", &ContextEntry::size, "Size in bytes of a regular file, else 0.")
        .def_readonly("mtime_ns", &ContextEntry::mtime_ns,
                      "Modification time in nanoseconds since the epoch.")
        .def_readonly("link_target", &ContextEntry::link_target,
                      "A symlink's target as stored (never followed); \"\" otherwise.")
        .def_property_readonly(
            "digest",
            [](const ContextEntry& e) -> std::optional<std::string> {
                if (e.digest.empty()) {
                    return std::nullopt;
                }
                return e.digest.to_string();
            },
            "\"sha256:<hex>\" of a regular file's content; None for other entries.")
        .def("__eq__", [](const ContextEntry& a, const ContextEntry& b) { return a == b; })
        .def("__repr__", &entry_repr);

    py::class_<BuildContext>(
        m, "BuildContext",
        (std::string(R"doc(A build context: a directory (or a tar stream of one) and what
`docker buildx build` sends with it. scan() lists the entries a build would see — the
.dockerignore rules applied (<Dockerfile>.dockerignore beside the Dockerfile wins; the
Dockerfile and the ignore file are always kept) — with sha256 digests, reusing a stat cache
for unchanged files.

    ctx = xarch.BuildContext(".", dockerfile="docker/app.Dockerfile",
                             build_args={"VERSION": "1.2"})
    for entry in ctx.scan():
        print(entry.path, entry.digest)
)doc") + kSettingsDoc)
            .c_str())
        .def(py::init([](const std::filesystem::path& path,
                         const std::optional<std::filesystem::path>& dockerfile,
                         const std::optional<std::string>& dockerfile_text,
                         const std::optional<StringMap>& build_args,
                         const std::optional<StringMap>& labels,
                         const std::optional<std::string>& target,
                         const std::optional<StringMap>& named_contexts,
                         const std::optional<Strings>& secrets, const std::optional<Strings>& ssh) {
                 BuildContext ctx = BuildContext::from_directory(path);
                 configure(ctx, dockerfile, dockerfile_text, build_args, labels, target,
                           named_contexts, secrets, ssh);
                 return ctx;
             }),
             py::arg("path"), py::kw_only(), py::arg("dockerfile") = py::none(),
             py::arg("dockerfile_text") = py::none(), py::arg("build_args") = py::none(),
             py::arg("labels") = py::none(), py::arg("target") = py::none(),
             py::arg("named_contexts") = py::none(), py::arg("secrets") = py::none(),
             py::arg("ssh") = py::none(), "A context directory with its settings.")
        .def_static(
            "from_tar",
            [](const py::object& source, const std::optional<std::filesystem::path>& dockerfile,
               const std::optional<std::string>& dockerfile_text,
               const std::optional<StringMap>& build_args, const std::optional<StringMap>& labels,
               const std::optional<std::string>& target,
               const std::optional<StringMap>& named_contexts,
               const std::optional<Strings>& secrets, const std::optional<Strings>& ssh) {
                std::optional<BuildContext> ctx;
                if (py::isinstance<py::int_>(source) || py::hasattr(source, "fileno")) {
                    const int fd = py::isinstance<py::int_>(source)
                                       ? source.cast<int>()
                                       : source.attr("fileno")().cast<int>();
                    py::gil_scoped_release release;
                    ctx.emplace(BuildContext::from_tar_fd(fd));
                } else {
                    const auto path = source.cast<std::filesystem::path>();
                    py::gil_scoped_release release;
                    ctx.emplace(BuildContext::from_tar_file(path));
                }
                configure(*ctx, dockerfile, dockerfile_text, build_args, labels, target,
                          named_contexts, secrets, ssh);
                return std::move(*ctx);
            },
            py::arg("source"), py::kw_only(), py::arg("dockerfile") = py::none(),
            py::arg("dockerfile_text") = py::none(), py::arg("build_args") = py::none(),
            py::arg("labels") = py::none(), py::arg("target") = py::none(),
            py::arg("named_contexts") = py::none(), py::arg("secrets") = py::none(),
            py::arg("ssh") = py::none(),
            R"doc(A context from a tar stream (plain or compressed): a path, a file descriptor
or an object with fileno(), read to its end. The files are extracted into a private temporary
directory removed with the context. Raises ParseError for an unreadable archive or an entry that
would land outside the context or is a device node.)doc")
        .def_property_readonly(
            "directory", [](const BuildContext& c) { return c.directory().string(); },
            "The directory scanned (absolute): the context, or the extraction of a tar.")
        .def_property_readonly("is_tar", &BuildContext::from_tar,
                               "Whether the context was extracted from a tar stream.")
        .def_property_readonly(
            "dockerfile_path",
            [](const BuildContext& c) -> std::optional<std::string> {
                const auto p = c.dockerfile_path();
                return p ? std::optional<std::string>(p->string()) : std::nullopt;
            },
            "The Dockerfile's path (default <context>/Dockerfile); None when given as text.")
        .def("dockerfile_text", &BuildContext::dockerfile_text,
             "The Dockerfile's content. Raises NotFoundError when there is none.")
        .def_property_readonly("build_args", &BuildContext::build_args,
                               "{NAME: VALUE} of the build args.")
        .def_property_readonly("labels", &BuildContext::labels, "{NAME: VALUE} of the labels.")
        .def_property_readonly("target", &BuildContext::target,
                               "The target stage; \"\" for the last one.")
        .def_property_readonly(
            "named_contexts",
            [](const BuildContext& c) {
                StringMap out;
                for (const auto& [name, ctx] : c.named_contexts()) {
                    out.emplace(name, named_context_text(ctx));
                }
                return out;
            },
            "{name: value}, directories made absolute, names as buildx keys them.")
        .def_property_readonly(
            "secrets",
            [](const BuildContext& c) {
                std::map<std::string, std::pair<std::string, std::string>> out;
                for (const auto& [id, s] : c.secrets()) {
                    out.emplace(
                        id, std::make_pair(s.kind == SecretSource::Kind::kFile ? std::string("file")
                                                                               : std::string("env"),
                                           s.value));
                }
                return out;
            },
            "{id: (\"file\", path) or (\"env\", variable)}.")
        .def_property_readonly("ssh", &BuildContext::ssh, "{id: [socket or key path, ...]}.")
        .def_property_readonly(
            "ignore_file",
            [](const BuildContext& c) -> std::optional<std::string> {
                const auto p = c.ignore_file();
                return p ? std::optional<std::string>(p->string()) : std::nullopt;
            },
            "The ignore file in force, or None.")
        .def("ignore_patterns", &BuildContext::ignore_patterns,
             "The ignore patterns, plus the exceptions that keep the Dockerfile and the ignore "
             "file.")
        .def(
            "scan",
            [](BuildContext& c, const std::optional<std::filesystem::path>& cache_dir,
               bool use_cache, unsigned threads) {
                ScanOptions options;
                options.cache_dir = cache_dir.value_or(std::filesystem::path());
                options.use_cache = use_cache;
                options.threads = threads;
                py::gil_scoped_release release;
                return c.scan(options);
            },
            py::kw_only(), py::arg("cache_dir") = py::none(), py::arg("use_cache") = true,
            py::arg("threads") = 0u,
            R"doc(Walks the context and returns its entries (list of ContextEntry) in walk
order, a directory right before its contents. Files are hashed on `threads` threads (0: one per
core); unchanged files reuse the stat cache in `cache_dir` (default $XDG_CACHE_HOME/xarch) unless
use_cache is False. Symlinks are recorded, never followed. Raises PermissionDeniedError or Error
naming an entry that cannot be read.)doc")
        .def(
            "resolve_copy_sources",
            [](const BuildContext& c, const Strings& sources,
               const std::optional<std::string>& destination) {
                std::vector<std::pair<std::string, std::vector<ContextEntry>>> out;
                for (CopySourceMatch& match :
                     c.resolve_copy_sources(sources, destination.value_or(""))) {
                    out.emplace_back(std::move(match.source), std::move(match.entries));
                }
                return out;
            },
            py::arg("sources"), py::arg("destination") = py::none(),
            R"doc(Resolves COPY sources against the last scan as BuildKit does: relative to the
context root, filepath.Match wildcards (which may match nothing), directories with their
contents, symlinks followed inside the context. Returns [(source, [ContextEntry, ...]), ...].
Raises NotFoundError ('"/x": not found') for a missing source, ParseError for a source outside
the context ("../x"), a bad pattern, or several sources to a destination not ending in "/".)doc");
}

}  // namespace xarch::python
