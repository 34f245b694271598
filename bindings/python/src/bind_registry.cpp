// SPDX-License-Identifier: Apache-2.0
// xarch.Registry and the values it deals in (Descriptor, RawContent, InspectResult,
// TransferProgress). Network work runs with the GIL released; the Python callbacks (credentials,
// progress) take it back, and an exception they raise stops the operation and is re-raised to the
// caller in place of the library's error.
#include "arguments.hpp"
#include "bindings.hpp"
#include "xarch/credentials.hpp"
#include "xarch/descriptor.hpp"
#include "xarch/digest.hpp"
#include "xarch/error.hpp"
#include "xarch/image_index.hpp"
#include "xarch/oci_layout.hpp"
#include "xarch/platform.hpp"
#include "xarch/reference.hpp"
#include "xarch/registry.hpp"

#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace xarch::python {
namespace {

// ---- Arguments: str or the xarch type ---------------------------------------------------------

Reference to_reference(py::handle value, const char* name) {
    if (py::isinstance<py::str>(value)) {
        return Reference::parse(value.cast<std::string>());
    }
    if (py::isinstance<Reference>(value)) {
        return value.cast<Reference>();
    }
    throw py::type_error(std::string(name) + " must be a str or xarch.Reference, not " +
                         type_name(value));
}

// A str or os.PathLike, as a str.
std::string to_path(py::handle value, const char* name) {
    if (!py::isinstance<py::str>(value) && !py::hasattr(value, "__fspath__")) {
        throw py::type_error(std::string(name) + " must be a str or os.PathLike, not " +
                             type_name(value));
    }
    return py::module_::import("os").attr("fspath")(value).cast<std::string>();
}

bool is_bytes_like(py::handle value) {
    return py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value) ||
           py::isinstance<py::memoryview>(value);
}

// bytes, bytearray, memoryview or any other buffer, copied.
std::string to_bytes(py::handle value) {
    PyObject* bytes = PyBytes_FromObject(value.ptr());
    if (bytes == nullptr) {
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::bytes>(bytes).cast<std::string>();
}

py::object json_object(const std::string& json) {
    return py::module_::import("json").attr("loads")(json);
}

std::string system_message(int error) {
    return std::error_code(error, std::generic_category()).message();
}

// ---- Files --------------------------------------------------------------------------------------

// A temporary file beside `target`, renamed over it by commit() and removed otherwise, so that a
// failed fetch leaves `target` untouched and nothing behind.
class TempFile {
public:
    explicit TempFile(std::string target)
        : target_(std::move(target)), path_(target_ + ".xarch-XXXXXX") {
        const int fd = ::mkstemp(path_.data());
        if (fd < 0) {
            const int error = errno;
            throw Error(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                        "cannot create a file beside '" + target_ + "': " + system_message(error) +
                            "; check that its folder exists");
        }
        file_ = ::fdopen(fd, "wb");
        if (file_ == nullptr) {
            ::close(fd);
            fail("fdopen");
        }
    }
    ~TempFile() {
        if (file_ != nullptr) {
            std::fclose(file_);
        }
        if (!committed_) {
            ::unlink(path_.c_str());
        }
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    void write(std::span<const std::byte> bytes) {
        if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
            fail("write");
        }
    }
    void commit() {
        if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
            fail("write");
        }
        std::FILE* file = std::exchange(file_, nullptr);
        if (std::fclose(file) != 0) {
            fail("close");
        }
        if (std::rename(path_.c_str(), target_.c_str()) != 0) {
            fail("rename");
        }
        committed_ = true;
    }

private:
    [[noreturn]] void fail(const char* what) const {
        throw Error(ErrorCode::kIo, std::string(what) + " of '" + path_ + "' (for '" + target_ +
                                        "') failed: " + system_message(errno));
    }

    std::string target_;
    std::string path_;
    std::FILE* file_ = nullptr;
    bool committed_ = false;
};

std::shared_ptr<std::FILE> open_for_reading(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        const int error = errno;
        throw Error(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                    "cannot open the blob file '" + path + "': " + system_message(error));
    }
    return {file, [](std::FILE* f) { std::fclose(f); }};
}

BlobReader file_reader(std::shared_ptr<std::FILE> file, std::string path) {
    return [file = std::move(file), path = std::move(path)](std::span<std::byte> buffer) {
        const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), file.get());
        if (read == 0 && std::ferror(file.get()) != 0) {
            throw Error(ErrorCode::kIo,
                        "cannot read the blob file '" + path + "': " + system_message(errno));
        }
        return read;
    };
}

// A file whose size is not the descriptor's cannot be the blob: said before any upload (a wrong
// digest of the right size is refused by the registry, also as a digest mismatch).
void check_file_size(const std::string& path, const Descriptor& blob) {
    std::error_code error;
    const std::uintmax_t size = std::filesystem::file_size(path, error);
    if (!error && size != static_cast<std::uintmax_t>(blob.size)) {
        throw Error(ErrorCode::kDigestMismatch,
                    "the file '" + path + "' has " + std::to_string(size) +
                        " bytes but the descriptor says " + std::to_string(blob.size) + " (" +
                        blob.digest.to_string() + "): pass the descriptor of this file");
    }
}

// The descriptor of the file's content (sha256), read once.
Descriptor describe_file(const std::string& path, std::string media_type) {
    auto file = open_for_reading(path);
    const BlobReader read = file_reader(file, path);
    Hasher hasher;
    std::vector<std::byte> buffer(std::size_t{1} << 16);
    for (std::size_t n = read(buffer); n > 0; n = read(buffer)) {
        hasher.update(std::span<const std::byte>(buffer.data(), n));
    }
    Descriptor descriptor;
    descriptor.media_type = std::move(media_type);
    descriptor.size = hasher.size();
    descriptor.digest = hasher.finish();
    return descriptor;
}

// The entry of the layout's index.json that `root` names: by ref name first, then by digest.
Descriptor layout_root(const OciLayout& layout, const std::string& root) {
    if (auto named = layout.resolve(root)) {
        return *named;
    }
    const ImageIndex index = layout.index();
    std::string names;
    for (const Descriptor& entry : index.manifests) {
        if (entry.digest.to_string() == root) {
            return entry;
        }
        auto name = entry.annotations.find(std::string(annotation::kRefName));
        names += names.empty() ? "" : ", ";
        names += name != entry.annotations.end() ? name->second : entry.digest.to_string();
    }
    throw Error(ErrorCode::kNotFound, "'" + root + "' names no entry of " +
                                          (layout.path() / "index.json").string() +
                                          ": give an org.opencontainers.image.ref.name or a "
                                          "digest it lists (it has: " +
                                          (names.empty() ? "nothing" : names) + ")");
}

// ---- Callbacks ----------------------------------------------------------------------------------

// The Python callables of one Registry and the first exception one of them raised during the
// running operation. Shared with the C++ callbacks, which may outlive the Python object briefly;
// the destructor takes the GIL to release the callables.
struct Callbacks {
    py::object credentials;  // None or callable(host) -> (username, secret) | None
    py::object progress;     // None or callable(TransferProgress) -> bool | None

    Callbacks() = default;
    Callbacks(const Callbacks&) = delete;
    Callbacks& operator=(const Callbacks&) = delete;
    ~Callbacks() {
        py::gil_scoped_acquire gil;
        credentials = py::object();
        progress = py::object();
        pending_ = nullptr;
    }

    // Keeps the exception being handled (the first one wins). Call with the GIL held.
    void keep_current_exception() {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!pending_) {
            pending_ = std::current_exception();
        }
    }
    std::exception_ptr take() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return std::exchange(pending_, nullptr);
    }
    bool raised() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return pending_ != nullptr;
    }

private:
    std::mutex mutex_;
    std::exception_ptr pending_;
};

// Calls the Python progress callable (when there is one) and checks for Ctrl-C: false, which
// cancels the operation, when it returned False, raised, or a signal handler raised.
TransferProgressCallback progress_hook(std::shared_ptr<Callbacks> callbacks) {
    return [callbacks = std::move(callbacks)](const TransferProgress& progress) {
        py::gil_scoped_acquire gil;
        // Transfers running in parallel may still report after the operation was cancelled; the
        // callable is not called again once it raised.
        if (callbacks->raised()) {
            return false;
        }
        try {
            if (PyErr_CheckSignals() != 0) {
                throw py::error_already_set();
            }
            if (callbacks->progress.is_none()) {
                return true;
            }
            py::object result = callbacks->progress(progress);
            return result.is_none() || PyObject_IsTrue(result.ptr()) != 0;
        } catch (...) {
            callbacks->keep_current_exception();
            return false;
        }
    };
}

// ---- Registry -----------------------------------------------------------------------------------

class PyRegistry {
public:
    PyRegistry(RegistryOptions options, std::shared_ptr<Callbacks> callbacks)
        : callbacks_(std::move(callbacks)),
          registry_(std::make_shared<Registry>(std::move(options))) {}

    // Runs `body` on the registry with the GIL released. An exception a callback raised during
    // it is re-raised in place of the library's error it caused.
    template <class Body>
    auto run(Body&& body) {
        std::shared_ptr<Registry> registry = registry_;  // close() may run meanwhile
        if (!registry) {
            throw py::value_error("the Registry is closed");
        }
        callbacks_->take();
        try {
            py::gil_scoped_release release;
            return body(*registry);
        } catch (...) {
            if (std::exception_ptr raised = callbacks_->take()) {
                std::rethrow_exception(raised);
            }
            throw;
        }
    }

    void close() { registry_.reset(); }
    bool closed() const { return !registry_; }

private:
    std::shared_ptr<Callbacks> callbacks_;
    std::shared_ptr<Registry> registry_;
};

std::unique_ptr<PyRegistry> make_registry(const std::vector<std::string>& insecure_registries,
                                          const std::optional<std::string>& ca_bundle,
                                          const std::optional<std::string>& certs_dir,
                                          std::size_t jobs,
                                          int retry_attempts,
                                          const std::optional<std::string>& user_agent,
                                          const py::object& credentials,
                                          bool anonymous,
                                          const py::object& progress,
                                          std::optional<std::int64_t> chunk_threshold,
                                          std::optional<std::int64_t> chunk_size) {
    if (!credentials.is_none() && !PyCallable_Check(credentials.ptr())) {
        throw py::type_error("credentials must be callable(registry) -> (username, secret) | None");
    }
    if (!progress.is_none() && !PyCallable_Check(progress.ptr())) {
        throw py::type_error("progress must be callable(TransferProgress) -> bool | None");
    }
    if (anonymous && !credentials.is_none()) {
        throw py::value_error("give credentials or anonymous=True, not both");
    }
    auto callbacks = std::make_shared<Callbacks>();
    callbacks->credentials = credentials;
    callbacks->progress = progress;

    RegistryOptions options =
        registry_options(insecure_registries, ca_bundle, certs_dir, jobs, retry_attempts,
                         user_agent, chunk_threshold, chunk_size);
    if (!credentials.is_none()) {
        options.credentials = credentials_lookup(
            [callbacks](const std::string& host) { return callbacks->credentials(host); },
            [callbacks] { callbacks->keep_current_exception(); });
    } else if (anonymous) {
        options.credentials = nullptr;
    }
    options.progress = progress_hook(callbacks);
    return std::make_unique<PyRegistry>(std::move(options), std::move(callbacks));
}

std::string descriptor_repr(const Descriptor& self) {
    return "Descriptor(media_type=" + py::repr(py::str(self.media_type)).cast<std::string>() +
           ", digest=" + py::repr(py::str(self.digest.to_string())).cast<std::string>() +
           ", size=" + std::to_string(self.size) + ")";
}

void init_values(py::module_& m) {
    py::class_<TransferProgress>(m, "TransferProgress",
                                 "Bytes moved for one blob or manifest: what the progress "
                                 "callback of a Registry receives. Read-only.")
        .def_property_readonly(
            "digest", [](const TransferProgress& self) { return self.digest.to_string(); },
            "The content moved, \"sha256:...\".")
        .def_readonly("done", &TransferProgress::done, "Bytes so far.")
        .def_readonly("total", &TransferProgress::total, "The size, or None when unknown.")
        .def("__repr__", [](const TransferProgress& self) {
            return "TransferProgress(digest=" +
                   py::repr(py::str(self.digest.to_string())).cast<std::string>() +
                   ", done=" + std::to_string(self.done) +
                   ", total=" + (self.total ? std::to_string(*self.total) : std::string("None")) +
                   ")";
        });

    py::class_<Descriptor>(
        m, "Descriptor",
        R"doc(What an OCI document says about a piece of content: media type, digest,
size, and optionally urls, annotations, platform, artifact type and the
embedded data. Read-only; compares by value.)doc")
        .def(py::init([](std::string media_type, const std::string& digest, std::int64_t size,
                         std::vector<std::string> urls,
                         std::map<std::string, std::string> annotations, const py::object& platform,
                         std::string artifact_type, const py::object& data) {
                 Descriptor d;
                 d.media_type = std::move(media_type);
                 d.digest = Digest::parse_any_algorithm(digest);
                 d.size = size;
                 d.urls = std::move(urls);
                 d.annotations = std::move(annotations);
                 if (!platform.is_none()) {
                     d.platform = to_platform(platform);
                 }
                 d.artifact_type = std::move(artifact_type);
                 if (!data.is_none()) {
                     d.data = to_bytes(data);
                 }
                 return d;
             }),
             py::arg("media_type"), py::arg("digest"), py::arg("size"), py::kw_only(),
             py::arg("urls") = std::vector<std::string>(),
             py::arg("annotations") = std::map<std::string, std::string>(),
             py::arg("platform") = py::none(), py::arg("artifact_type") = std::string(),
             py::arg("data") = py::none(),
             "Makes a descriptor; `digest` is \"algorithm:encoded\" (ParseError when "
             "malformed), `platform` a str or Platform.")
        .def_static(
            "of",
            [](std::string media_type, const py::object& data) {
                return Descriptor::of(std::move(media_type), to_bytes(data));
            },
            py::arg("media_type"), py::arg("data"),
            "The descriptor of `data` (bytes): its sha256 digest and size; not embedded.")
        .def_static(
            "from_json",
            [](const py::object& json) {
                const std::string text =
                    py::isinstance<py::str>(json) ? json.cast<std::string>() : to_bytes(json);
                return parse_descriptor(text);
            },
            py::arg("json"),
            "Parses descriptor JSON (str or bytes), checking the required fields and their "
            "formats. Raises ParseError saying which field is wrong.")
        .def("to_json", &Descriptor::serialize,
             "Compact JSON in image-spec's field order; the same descriptor always gives the "
             "same text.")
        .def_readonly("media_type", &Descriptor::media_type, "The media type.")
        .def_property_readonly(
            "digest", [](const Descriptor& self) { return self.digest.to_string(); },
            "The digest, \"sha256:...\".")
        .def_readonly("size", &Descriptor::size, "The size in bytes.")
        .def_readonly("urls", &Descriptor::urls, "Other places to fetch the content from.")
        .def_readonly("annotations", &Descriptor::annotations, "The annotations, as a dict.")
        .def_readonly("platform", &Descriptor::platform,
                      "In an index, the platform of the manifest (a Platform), else None.")
        .def_readonly("artifact_type", &Descriptor::artifact_type,
                      "The artifact type, \"\" when none.")
        .def_property_readonly(
            "data",
            [](const Descriptor& self) -> py::object {
                if (!self.data) {
                    return py::none();
                }
                return py::bytes(*self.data);
            },
            "The embedded content (bytes), or None.")
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def("__repr__", &descriptor_repr);

    py::class_<RawContent>(m, "RawContent",
                           R"doc(A document exactly as fetched or to be pushed: its bytes, media
type and digest (over exactly these bytes). Read-only.)doc")
        .def(py::init([](const py::object& data, std::string media_type) {
                 return RawContent::of(to_bytes(data), std::move(media_type));
             }),
             py::arg("data"), py::arg("media_type"),
             "Content of `media_type` with the sha256 digest of `data` (bytes).")
        .def_property_readonly(
            "bytes", [](const RawContent& self) { return py::bytes(self.bytes); },
            "The exact bytes.")
        .def_readonly("media_type", &RawContent::media_type, "The media type.")
        .def_property_readonly(
            "digest", [](const RawContent& self) { return self.digest.to_string(); },
            "The digest of the bytes, \"sha256:...\".")
        .def("descriptor", &RawContent::descriptor, "Its Descriptor: media type, digest, size.")
        .def(
            "json", [](const RawContent& self) { return json_object(self.bytes); },
            "The bytes parsed as JSON (a dict).")
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def("__repr__", [](const RawContent& self) {
            return "RawContent(media_type=" +
                   py::repr(py::str(self.media_type)).cast<std::string>() +
                   ", digest=" + py::repr(py::str(self.digest.to_string())).cast<std::string>() +
                   ", size=" + std::to_string(self.bytes.size()) + ")";
        });

    py::class_<InspectResult>(m, "InspectResult",
                              "What Registry.inspect() found: the document as served and its "
                              "parsed form. Read-only.")
        .def_readonly("descriptor", &InspectResult::descriptor, "Its Descriptor.")
        .def_readonly("raw", &InspectResult::raw, "The document exactly as served (RawContent).")
        .def_property_readonly(
            "index",
            [](const InspectResult& self) -> py::object {
                return self.index ? json_object(self.index->serialize()) : py::none();
            },
            "When it is an index, the index as a dict (OCI JSON), else None.")
        .def_property_readonly(
            "manifest",
            [](const InspectResult& self) -> py::object {
                return self.manifest ? json_object(self.manifest->serialize()) : py::none();
            },
            "When it is an image manifest, the manifest as a dict (OCI JSON), else None.")
        .def_property_readonly(
            "config",
            [](const InspectResult& self) -> py::object {
                return self.config ? json_object(self.config->serialize()) : py::none();
            },
            "When it is an image manifest, its image config as a dict, else None.")
        .def_property_readonly(
            "platform",
            [](const InspectResult& self) -> std::optional<Platform> {
                if (self.config) {
                    return self.config->platform();
                }
                return std::nullopt;
            },
            "The image's platform (from its config), or None for an index.")
        .def("__repr__", [](const InspectResult& self) {
            return "InspectResult(descriptor=" + descriptor_repr(self.descriptor) + ")";
        });
}

}  // namespace

void init_registry(py::module_& m) {
    init_values(m);

    py::class_<PyRegistry>(m, "Registry",
                           R"doc(A client for OCI distribution registries (the operations of
go-containerregistry's `remote` and skopeo). References and repositories are
given as str or Reference; platforms as str ("linux/arm64", "amd64,arm64") or
Platform.

Credentials: `credentials(registry)` returning (username, secret) or None
(username "<token>" makes the secret an identity token); else
anonymous=True; else docker's ~/.docker/config.json and its credential
helpers. Secrets never appear in error messages.

`progress(TransferProgress)` is called as bytes move, with the GIL held, maybe
from a library thread; returning False cancels (CancelledError), and an
exception it raises cancels the operation and is re-raised to the caller.

Network work releases the GIL, and Ctrl-C stops a transfer. One Registry may
be used from several threads. Use it as a context manager, or call close().)doc")
        .def(py::init(&make_registry), py::kw_only(),
             py::arg("insecure_registries") = std::vector<std::string>(),
             py::arg("ca_bundle") = py::none(), py::arg("certs_dir") = py::none(),
             py::arg("jobs") = RegistryOptions{}.jobs,
             py::arg("retry_attempts") = RegistryOptions{}.retry_attempts,
             py::arg("user_agent") = py::none(), py::arg("credentials") = py::none(),
             py::arg("anonymous") = false, py::arg("progress") = py::none(),
             py::arg("chunk_threshold") = py::none(), py::arg("chunk_size") = py::none(),
             R"doc(Makes a client. insecure_registries: "host:port" reached over plain HTTP
(loopback always is); ca_bundle: a PEM file of extra CAs; certs_dir: docker's
certs.d (default /etc/docker/certs.d); jobs: transfers at once;
retry_attempts: attempts per request; chunk_threshold/chunk_size: chunked
uploads. Raises ParseError when the CA bundle cannot be read.)doc")
        .def("close", &PyRegistry::close,
             "Releases connections and callbacks; later calls raise ValueError.")
        .def_property_readonly("closed", &PyRegistry::closed, "True after close().")
        .def("__enter__", [](py::object self) { return self; })
        .def(
            "__exit__",
            [](PyRegistry& self, const py::object&, const py::object&, const py::object&) {
                self.close();
                return false;
            },
            py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"))
        // ---- manifests ----
        .def(
            "resolve",
            [](PyRegistry& self, const py::object& reference) {
                const Reference ref = to_reference(reference, "reference");
                return self.run([&](Registry& r) { return r.resolve(ref); });
            },
            py::arg("reference"), "The Descriptor of the manifest or index `reference` names.")
        .def(
            "fetch_manifest",
            [](PyRegistry& self, const py::object& reference) {
                const Reference ref = to_reference(reference, "reference");
                return self.run([&](Registry& r) { return r.fetch_manifest(ref); });
            },
            py::arg("reference"),
            "The manifest or index exactly as served (RawContent), its digest verified.")
        .def(
            "resolve_platform",
            [](PyRegistry& self, const py::object& reference, const py::object& platform) {
                const Reference ref = to_reference(reference, "reference");
                const Platform chosen = to_platform(platform);
                return self.run([&](Registry& r) { return r.resolve_platform(ref, chosen); });
            },
            py::arg("reference"), py::arg("platform"),
            "The Descriptor of the manifest for `platform` in the index `reference` names (or "
            "the reference itself when it is that platform's manifest). Raises NotFoundError "
            "listing the platforms the index has.")
        .def(
            "push_manifest",
            [](PyRegistry& self, const py::object& reference, const py::object& content,
               const std::optional<std::string>& media_type) {
                const Reference ref = to_reference(reference, "reference");
                RawContent raw;
                if (py::isinstance<RawContent>(content)) {
                    raw = content.cast<RawContent>();
                } else if (is_bytes_like(content) && media_type) {
                    raw = RawContent::of(to_bytes(content), *media_type);
                } else {
                    throw py::type_error(
                        "content must be a RawContent, or bytes with media_type given");
                }
                return self.run([&](Registry& r) { return r.push_manifest(ref, raw); });
            },
            py::arg("reference"), py::arg("content"), py::arg("media_type") = py::none(),
            "Stores a manifest or index (RawContent, or bytes with media_type) under the "
            "reference's tag or digest; returns its Descriptor.")
        .def(
            "delete_manifest",
            [](PyRegistry& self, const py::object& reference) {
                const Reference ref = to_reference(reference, "reference");
                self.run([&](Registry& r) { r.delete_manifest(ref); });
            },
            py::arg("reference"), "Deletes the manifest (a tag is resolved to its digest first).")
        // ---- blobs ----
        .def(
            "fetch_blob",
            [](PyRegistry& self, const py::object& repository, const Descriptor& descriptor,
               const py::object& path) -> py::object {
                const Reference repo = to_reference(repository, "repository");
                if (path.is_none()) {
                    return py::bytes(
                        self.run([&](Registry& r) { return r.fetch_blob(repo, descriptor); }));
                }
                const std::string target = to_path(path, "path");
                self.run([&](Registry& r) {
                    TempFile file(target);
                    r.fetch_blob(repo, descriptor,
                                 [&](std::span<const std::byte> bytes) { file.write(bytes); });
                    file.commit();
                });
                return py::none();
            },
            py::arg("repository"), py::arg("descriptor"), py::arg("path") = py::none(),
            R"doc(The blob `descriptor` describes, size and digest verified: as bytes, or
written to `path` (through a temporary file renamed into place, so that a
failed fetch leaves nothing) and None returned. Raises DigestMismatchError.)doc")
        .def(
            "blob_exists",
            [](PyRegistry& self, const py::object& repository, const std::string& digest) {
                const Reference repo = to_reference(repository, "repository");
                const Digest d = Digest::parse(digest);
                return self.run([&](Registry& r) { return r.blob_exists(repo, d); });
            },
            py::arg("repository"), py::arg("digest"),
            "True when the repository has the blob \"sha256:...\".")
        .def(
            "push_blob",
            [](PyRegistry& self, const py::object& repository, const py::object& source,
               const std::optional<Descriptor>& descriptor, const std::string& media_type) {
                const Reference repo = to_reference(repository, "repository");
                if (is_bytes_like(source)) {
                    const std::string bytes = to_bytes(source);
                    const Descriptor actual = Descriptor::of(media_type, bytes);
                    // Checked here, before any upload, so that a wrong descriptor costs no
                    // traffic.
                    if (descriptor &&
                        (descriptor->digest != actual.digest || descriptor->size != actual.size)) {
                        throw Error(ErrorCode::kDigestMismatch,
                                    "the data is " + actual.digest.to_string() + " (" +
                                        std::to_string(actual.size) +
                                        " bytes) but the descriptor says " +
                                        descriptor->digest.to_string() + " (" +
                                        std::to_string(descriptor->size) +
                                        " bytes): pass the descriptor of this data");
                    }
                    const Descriptor blob = descriptor ? *descriptor : actual;
                    self.run([&](Registry& r) { r.push_blob(repo, blob, bytes); });
                    return blob;
                }
                const std::string path = to_path(source, "source");
                return self.run([&](Registry& r) {
                    const Descriptor blob =
                        descriptor ? *descriptor : describe_file(path, media_type);
                    check_file_size(path, blob);
                    r.push_blob(repo, blob, file_reader(open_for_reading(path), path));
                    return blob;
                });
            },
            py::arg("repository"), py::arg("source"), py::arg("descriptor") = py::none(),
            py::arg("media_type") = "application/octet-stream",
            R"doc(Uploads a blob from bytes or from a file path, unless the registry has it.
Without `descriptor` it is computed (sha256) with `media_type`. Returns the
Descriptor. Raises DigestMismatchError when the content does not match.)doc")
        .def(
            "mount_blob",
            [](PyRegistry& self, const py::object& repository, const std::string& digest,
               const py::object& source) {
                const Reference repo = to_reference(repository, "repository");
                const Reference from = to_reference(source, "from_");
                const Digest d = Digest::parse(digest);
                return self.run([&](Registry& r) { return r.mount_blob(repo, d, from); });
            },
            py::arg("repository"), py::arg("digest"), py::arg("from_"),
            "Mounts the blob from repository `from_` of the same registry; False when the "
            "registry did not (upload it then).")
        // ---- listing ----
        .def(
            "list_tags",
            [](PyRegistry& self, const py::object& repository, std::size_t page_size) {
                const Reference repo = to_reference(repository, "repository");
                return self.run([&](Registry& r) { return r.list_tags(repo, page_size); });
            },
            py::arg("repository"), py::arg("page_size") = 0,
            "Every tag of the repository, following pagination.")
        .def(
            "catalog",
            [](PyRegistry& self, const std::string& registry, std::size_t page_size) {
                return self.run([&](Registry& r) { return r.catalog(registry, page_size); });
            },
            py::arg("registry"), py::arg("page_size") = 0,
            "Every repository of the registry (\"localhost:5000\"), following pagination.")
        .def(
            "referrers",
            [](PyRegistry& self, const py::object& repository, const std::string& digest) {
                const Reference repo = to_reference(repository, "repository");
                const Digest d = Digest::parse(digest);
                return self.run([&](Registry& r) { return r.referrers(repo, d).manifests; });
            },
            py::arg("repository"), py::arg("digest"),
            "The Descriptors of the manifests that refer to `digest`; empty when the registry "
            "has no referrers API.")
        // ---- high level ----
        .def(
            "push",
            [](PyRegistry& self, const py::object& layout_dir, const std::string& root,
               const py::object& destination) {
                const std::string dir = to_path(layout_dir, "layout");
                const Reference dst = to_reference(destination, "destination");
                return self.run([&](Registry& r) {
                    const OciLayout layout = OciLayout::open(dir);
                    return r.push(layout, layout_root(layout, root), dst);
                });
            },
            py::arg("layout"), py::arg("root"), py::arg("destination"),
            R"doc(Pushes the image or index `root` of the OCI layout directory `layout` with
everything it reaches; `root` is a name in its index.json (the
org.opencontainers.image.ref.name) or a digest. Blobs the registry has are
skipped. Returns the root's Descriptor.)doc")
        .def(
            "pull",
            [](PyRegistry& self, const py::object& reference, const py::object& layout_dir,
               const py::object& platforms) {
                const Reference ref = to_reference(reference, "reference");
                const std::string dir = to_path(layout_dir, "layout");
                const std::vector<Platform> chosen = to_platforms(platforms);
                return self.run([&](Registry& r) {
                    OciLayout layout = OciLayout::create(dir);
                    return r.pull(ref, layout, chosen);
                });
            },
            py::arg("reference"), py::arg("layout"), py::arg("platforms") = py::none(),
            R"doc(Stores the image or index and everything it reaches in the OCI layout
directory `layout` (created when missing), named by the reference's tag in
index.json. With `platforms`, only those manifests of an index, under a new
index. Returns the root's Descriptor.)doc")
        .def(
            "copy",
            [](PyRegistry& self, const py::object& source, const py::object& destination,
               const py::object& platforms) {
                const Reference src = to_reference(source, "source");
                const Reference dst = to_reference(destination, "destination");
                CopyOptions options;
                options.platforms = to_platforms(platforms);
                return self.run([&](Registry& r) { return r.copy(src, dst, options); });
            },
            py::arg("source"), py::arg("destination"), py::arg("platforms") = py::none(),
            "Copies an image or index registry to registry (blobs present are skipped, mounted "
            "within one registry). With `platforms`, only those manifests, under a new index. "
            "Returns the destination root's Descriptor.")
        .def(
            "create_index",
            [](PyRegistry& self, const py::object& destination, const py::object& sources,
               const std::map<std::string, std::string>& annotations) {
                const Reference dst = to_reference(destination, "destination");
                std::vector<Reference> refs;
                for (py::handle source : py::iter(sources)) {
                    refs.push_back(to_reference(source, "sources[]"));
                }
                return self.run(
                    [&](Registry& r) { return r.create_index(dst, refs, annotations); });
            },
            py::arg("destination"), py::arg("sources"),
            py::arg("annotations") = std::map<std::string, std::string>(),
            "Pushes a new index of the sources' manifests (an index contributes all of its "
            "manifests) with `annotations` under the destination's tag, copying sources from "
            "other repositories first (like `buildx imagetools create`). Returns its "
            "Descriptor.")
        .def(
            "inspect",
            [](PyRegistry& self, const py::object& reference) {
                const Reference ref = to_reference(reference, "reference");
                return self.run([&](Registry& r) { return r.inspect(ref); });
            },
            py::arg("reference"),
            "What the reference names: an InspectResult with the raw document and its parsed "
            "form (and the image config for a manifest).")
        .def("__repr__", [](const PyRegistry& self) {
            return std::string(self.closed() ? "<Registry closed>" : "<Registry>");
        });
}

}  // namespace xarch::python
