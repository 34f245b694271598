// SPDX-License-Identifier: Apache-2.0
// xarch.Builder and its values (ProgressEvent, BuildResult, PlatformImage, PruneResult). A build
// runs on a thread of its own while the calling thread, GIL released, waits in steps of 100 ms to
// notice Ctrl-C; the progress callable takes the GIL back, and an exception it raises (or Ctrl-C)
// cancels the build and is re-raised to the caller in place of the library's error.
#include "arguments.hpp"
#include "bindings.hpp"
#include "xarch/builder.hpp"
#include "xarch/builders.hpp"
#include "xarch/context.hpp"
#include "xarch/credentials.hpp"
#include "xarch/descriptor.hpp"
#include "xarch/error.hpp"
#include "xarch/platform.hpp"
#include "xarch/progress.hpp"
#include "xarch/registry.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace xarch::python {
namespace {

using Strings = std::vector<std::string>;

// How often a waiting build checks for Ctrl-C.
constexpr std::chrono::milliseconds kSignalPoll{100};

// ---- Python callables and the exception they raised ---------------------------------------------

// A Python callable called from library threads, and the first exception it raised. Shared with
// the C++ callbacks, which may outlive the call briefly; the destructor takes the GIL to release
// the callable.
class Hook {
public:
    explicit Hook(py::object callable) : callable_(std::move(callable)) {}
    Hook(const Hook&) = delete;
    Hook& operator=(const Hook&) = delete;
    ~Hook() {
        py::gil_scoped_acquire gil;
        callable_ = py::object();
        pending_ = nullptr;
    }

    // Call with the GIL held.
    const py::object& callable() const { return callable_; }

    // Keeps `raised` (the first one wins). Call with the GIL held.
    void keep(std::exception_ptr raised) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!pending_) {
            pending_ = std::move(raised);
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
    py::object callable_;
    std::mutex mutex_;
    std::exception_ptr pending_;
};

// Calls the progress callable; once it raised, it is not called again and the builder is
// cancelled (the C++ callback may not throw).
ProgressCallback progress_hook(std::shared_ptr<Hook> hook, Builder& builder) {
    return [hook = std::move(hook), &builder](const ProgressEvent& event) {
        py::gil_scoped_acquire gil;
        if (hook->raised()) {
            return;
        }
        try {
            hook->callable()(event);
        } catch (...) {
            hook->keep(std::current_exception());
            builder.cancel();
        }
    };
}

// ---- Builder ------------------------------------------------------------------------------------

class PyBuilder {
public:
    PyBuilder(BuilderOptions options, std::shared_ptr<Hook> credentials)
        : credentials_(std::move(credentials)),
          builder_(std::make_shared<Builder>(std::move(options))) {}
    PyBuilder(const PyBuilder&) = delete;
    PyBuilder& operator=(const PyBuilder&) = delete;
    // The Builder joins its threads, which may need the GIL to drop a callable.
    ~PyBuilder() {
        py::gil_scoped_release release;
        builder_.reset();
    }

    // Runs the build on a thread of its own and waits for it with the GIL released, polling for
    // Ctrl-C, which cancels it. An exception of a callable (or KeyboardInterrupt) is re-raised in
    // place of the library's error it caused, and also when the build finished anyway.
    BuildResult build(BuildContext& context, BuildOptions options, const py::object& progress) {
        std::shared_ptr<Builder> builder = open();  // close() may run meanwhile
        auto hook = std::make_shared<Hook>(progress);
        if (!progress.is_none()) {
            options.progress = progress_hook(hook, *builder);
        }
        if (credentials_) {
            credentials_->take();
        }
        struct Outcome {
            std::mutex mutex;
            std::condition_variable done_changed;
            bool done = false;
            std::optional<BuildResult> result;
            std::exception_ptr error;
        } outcome;
        {
            py::gil_scoped_release release;
            std::thread worker([&] {
                try {
                    outcome.result = builder->build(context, options);
                } catch (...) {
                    outcome.error = std::current_exception();
                }
                const std::lock_guard<std::mutex> lock(outcome.mutex);
                outcome.done = true;
                outcome.done_changed.notify_all();
            });
            std::unique_lock<std::mutex> lock(outcome.mutex);
            while (
                !outcome.done_changed.wait_for(lock, kSignalPoll, [&] { return outcome.done; })) {
                lock.unlock();
                if (interrupted(*hook)) {
                    builder->cancel();
                }
                lock.lock();
            }
            lock.unlock();
            worker.join();
        }
        if (std::exception_ptr raised = hook->take()) {
            std::rethrow_exception(raised);
        }
        if (outcome.error) {
            if (std::exception_ptr raised = credentials_ ? credentials_->take() : nullptr) {
                std::rethrow_exception(raised);
            }
            std::rethrow_exception(outcome.error);
        }
        return std::move(*outcome.result);
    }

    void cancel() { open()->cancel(); }
    PruneResult prune(const PruneOptions& options) { return open()->prune(options); }
    std::string cache_dir() const { return open()->cache_dir().string(); }

    // Cancels the builds in progress and lets go of the cache (its lock and open files) once they
    // have ended; later calls raise ValueError. The GIL is released by the caller.
    void close() {
        std::shared_ptr<Builder> builder;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            builder = std::move(builder_);
        }
        if (builder) {
            builder->cancel();
        }
    }
    bool closed() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return !builder_;
    }

private:
    std::shared_ptr<Builder> open() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!builder_) {
            throw py::value_error("the Builder is closed");
        }
        return builder_;
    }

    // True when a signal handler raised (Ctrl-C: KeyboardInterrupt), which `hook` keeps.
    static bool interrupted(Hook& hook) {
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() == 0) {
            return false;
        }
        hook.keep(std::make_exception_ptr(py::error_already_set()));
        return true;
    }

    std::shared_ptr<Hook> credentials_;  // null without a credentials callable
    mutable std::mutex mutex_;           // guards builder_ against close() on another thread
    std::shared_ptr<Builder> builder_;   // null once closed
};

std::unique_ptr<PyBuilder> make_builder(const std::optional<std::filesystem::path>& cache_dir,
                                        unsigned jobs,
                                        const Strings& insecure_registries,
                                        const std::optional<std::string>& ca_bundle,
                                        const std::optional<std::string>& certs_dir,
                                        std::size_t transfer_jobs,
                                        int retry_attempts,
                                        const std::optional<std::string>& user_agent,
                                        const py::object& credentials,
                                        bool anonymous,
                                        std::optional<std::int64_t> chunk_threshold,
                                        std::optional<std::int64_t> chunk_size,
                                        const std::optional<std::string>& builder) {
    if (!credentials.is_none() && !PyCallable_Check(credentials.ptr())) {
        throw py::type_error("credentials must be callable(registry) -> (username, secret) | None");
    }
    if (anonymous && !credentials.is_none()) {
        throw py::value_error("give credentials or anonymous=True, not both");
    }
    BuilderOptions options;
    if (cache_dir) {
        // Absolute, so that Builder.cache_dir keeps meaning it after os.chdir().
        options.cache_dir = std::filesystem::absolute(*cache_dir);
    }
    options.jobs = jobs;
    if (builder) {
        // A builder of `xarch create`; "" is the current one (`xarch use`).
        const BuilderStore store;
        options.builder = builder->empty() ? store.current() : store.get(*builder);
    }
    options.registry = registry_options(insecure_registries, ca_bundle, certs_dir, transfer_jobs,
                                        retry_attempts, user_agent, chunk_threshold, chunk_size);
    RegistryOptions& registry = options.registry;
    std::shared_ptr<Hook> hook;
    if (!credentials.is_none()) {
        hook = std::make_shared<Hook>(credentials);
        registry.credentials =
            credentials_lookup([hook](const std::string& host) { return hook->callable()(host); },
                               [hook] { hook->keep(std::current_exception()); });
    } else if (anonymous) {
        registry.credentials = nullptr;
    }
    py::gil_scoped_release release;  // making the cache directory touches the disk
    return std::make_unique<PyBuilder>(std::move(options), std::move(hook));
}

BuildResult build(PyBuilder& self,
                  BuildContext& context,
                  const py::object& platforms,
                  const Strings& tags,
                  const Strings& outputs,
                  bool push,
                  bool load,
                  const Strings& annotations,
                  bool no_cache,
                  bool pull,
                  const Strings& cache_from,
                  const Strings& cache_to,
                  std::optional<std::int64_t> source_date_epoch,
                  const std::optional<std::filesystem::path>& metadata_file,
                  const std::optional<std::filesystem::path>& iid_file,
                  const std::optional<std::string>& docker_host,
                  const Strings& allow,
                  const std::string& network,
                  const py::object& progress) {
    if (!progress.is_none() && !PyCallable_Check(progress.ptr())) {
        throw py::type_error("progress must be callable(ProgressEvent)");
    }
    BuildOptions options;
    options.platforms = to_platforms(platforms);
    options.tags = tags;
    for (const std::string& output : outputs) {
        options.outputs.push_back(OutputSpec::parse(output));
    }
    // As buildx: --push is `--output type=registry`, --load `--output type=docker`.
    if (push) {
        OutputSpec spec;
        spec.type = OutputSpec::Type::kRegistry;
        options.outputs.push_back(std::move(spec));
    }
    if (load) {
        OutputSpec spec;
        spec.type = OutputSpec::Type::kDocker;
        options.outputs.push_back(std::move(spec));
    }
    options.annotations = annotations;
    options.allow = allow;
    options.network = network;
    options.no_cache = no_cache;
    options.pull = pull;
    for (const std::string& spec : cache_from) {
        options.cache_from.push_back(CacheSpec::parse(spec));
    }
    for (const std::string& spec : cache_to) {
        options.cache_to.push_back(CacheSpec::parse(spec));
    }
    options.source_date_epoch = source_date_epoch;
    if (metadata_file) {
        options.metadata_file = *metadata_file;
    }
    if (iid_file) {
        options.iid_file = *iid_file;
    }
    if (docker_host) {
        options.docker_host = *docker_host;
    }
    return self.build(context, std::move(options), progress);
}

py::object json_object(const std::string& json) {
    if (json.empty()) {
        return py::dict();
    }
    return py::module_::import("json").attr("loads")(json);
}

std::int64_t time_ns(const ProgressEvent& event) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(event.time.time_since_epoch())
        .count();
}

void init_values(py::module_& m) {
    py::class_<ProgressEvent> event(m, "ProgressEvent",
                                    R"doc(One build progress event, shaped like BuildKit's
SolveStatus: what the progress callable of Builder.build() receives.
Several events share one `vertex` (a step). Read-only.)doc");
    py::enum_<ProgressEvent::Kind>(event, "Kind", "What a ProgressEvent reports.")
        .value("VERTEX_STARTED", ProgressEvent::Kind::kVertexStarted, "A step began work.")
        .value("VERTEX_CACHED", ProgressEvent::Kind::kVertexCached,
               "A step's result came from the cache (no start before it).")
        .value("VERTEX_COMPLETED", ProgressEvent::Kind::kVertexCompleted, "A step finished.")
        .value("VERTEX_ERROR", ProgressEvent::Kind::kVertexError,
               "A step failed; `message` says why.")
        .value("STATUS", ProgressEvent::Kind::kStatus,
               "Bytes moved for one item of a step (a blob pushed, a layer written).")
        .value("LOG", ProgressEvent::Kind::kLog, "A line of output of a step, in `message`.")
        .value("WARNING", ProgressEvent::Kind::kWarning,
               "A build warning (not tied to a step when `vertex` is \"\").");
    event.def_readonly("kind", &ProgressEvent::kind, "What happened (a ProgressEvent.Kind).")
        .def_readonly("vertex", &ProgressEvent::vertex,
                      "Stable id of the step: its cache key (\"sha256:...\") or a fixed name "
                      "(\"internal:load-dockerfile\").")
        .def_readonly("name", &ProgressEvent::name,
                      "What buildx prints for the step: \"[linux/arm64 2/3] COPY . /app\".")
        .def_property_readonly("time_ns", &time_ns,
                               "When it happened, in nanoseconds since the Unix epoch.")
        .def_property_readonly(
            "time",
            [](const ProgressEvent& self) {
                py::module_ datetime = py::module_::import("datetime");
                return datetime.attr("datetime")
                    .attr("fromtimestamp")(static_cast<double>(time_ns(self)) / 1e9,
                                           datetime.attr("timezone").attr("utc"));
            },
            "When it happened, as an aware datetime in UTC.")
        .def_readonly("id", &ProgressEvent::id,
                      "STATUS: what is moved (\"sha256:3f2a...\", \"pushing layers\").")
        .def_readonly("message", &ProgressEvent::message, "LOG, VERTEX_ERROR, WARNING: the text.")
        .def_readonly("current", &ProgressEvent::current, "STATUS: bytes (or items) done.")
        .def_readonly("total", &ProgressEvent::total, "STATUS: the total; 0 when unknown.")
        .def_readonly("completed", &ProgressEvent::completed,
                      "STATUS: whether this item is finished.")
        .def("__repr__", [](const ProgressEvent& self) {
            return "ProgressEvent(kind=" + py::str(py::cast(self.kind)).cast<std::string>() +
                   ", name=" + py::repr(py::str(self.name)).cast<std::string>() + ")";
        });

    py::class_<PlatformImage>(m, "PlatformImage",
                              "What a build made for one platform: (platform, manifest, config). "
                              "Unpacks as that tuple. Read-only.")
        .def_readonly("platform", &PlatformImage::platform, "The Platform.")
        .def_readonly("manifest", &PlatformImage::manifest, "The Descriptor of its manifest.")
        .def_property_readonly(
            "config", [](const PlatformImage& self) { return self.config.to_string(); },
            "The digest of its image config, \"sha256:...\".")
        .def("__iter__",
             [](const PlatformImage& self) {
                 return py::iter(
                     py::make_tuple(self.platform, self.manifest, self.config.to_string()));
             })
        .def("__repr__", [](const PlatformImage& self) {
            return "PlatformImage(platform=" +
                   py::repr(py::cast(self.platform)).cast<std::string>() +
                   ", manifest=" + py::repr(py::cast(self.manifest)).cast<std::string>() +
                   ", config=" + py::repr(py::str(self.config.to_string())).cast<std::string>() +
                   ")";
        });

    py::class_<BuildResult>(m, "BuildResult", "What Builder.build() made. Read-only.")
        .def_readonly("descriptor", &BuildResult::descriptor,
                      "The Descriptor of the index over all platforms (of an image manifest when "
                      "one platform was built and an output asked for a single manifest).")
        .def_property_readonly(
            "digest", [](const BuildResult& self) { return self.descriptor.digest.to_string(); },
            "Its digest, \"sha256:...\".")
        .def_readonly("images", &BuildResult::images, "A PlatformImage per platform built.")
        .def_property_readonly(
            "metadata", [](const BuildResult& self) { return json_object(self.metadata_json); },
            "What buildx writes with --metadata-file (containerimage.digest, "
            "containerimage.descriptor, image.name, buildx.build.ref), as a dict.")
        .def_readonly("warnings", &BuildResult::warnings, "The build warnings, one line each.")
        .def("__repr__", [](const BuildResult& self) {
            return "BuildResult(digest=" +
                   py::repr(py::str(self.descriptor.digest.to_string())).cast<std::string>() +
                   ", images=" + std::to_string(self.images.size()) + ")";
        });

    py::class_<PruneResult>(m, "PruneResult", "What Builder.prune() removed. Read-only.")
        .def_readonly("freed_bytes", &PruneResult::freed_bytes, "Bytes freed.")
        .def_readonly("removed_entries", &PruneResult::removed_entries, "Cache entries removed.")
        .def("__repr__", [](const PruneResult& self) {
            return "PruneResult(freed_bytes=" + std::to_string(self.freed_bytes) +
                   ", removed_entries=" + std::to_string(self.removed_entries) + ")";
        });
}

}  // namespace

void init_builder(py::module_& m) {
    init_values(m);

    const RegistryOptions registry_defaults;
    py::class_<PyBuilder>(m, "Builder",
                          R"doc(Runs `docker buildx build` in this process (the embedded driver):
builds the Dockerfile of a BuildContext for every platform asked for, with a
persistent cache, and exports the result as buildx's --output types do.

Registries (base images, pushes, registry caches) are reached as
xarch.Registry reaches them, with the same keyword options (`transfer_jobs`
is Registry's `jobs`).

build() releases the GIL and may run on several threads at once; Ctrl-C
cancels it (KeyboardInterrupt). The progress callable runs with the GIL held,
maybe on a library thread; an exception it raises cancels the build and is
re-raised. cancel() may be called from any thread, also from the progress
callable.

A context manager: leaving the `with` block calls close(), which cancels the
builds in progress and releases the cache directory (its lock and open files).

    with xarch.Builder(cache_dir="/tmp/cache") as builder:
        builder.build(xarch.BuildContext("."), platforms="amd64,arm64",
                      outputs=["type=oci,dest=out,tar=false"]))doc")
        .def(py::init(&make_builder), py::arg("cache_dir") = py::none(), py::arg("jobs") = 0u,
             py::kw_only(), py::arg("insecure_registries") = Strings(),
             py::arg("ca_bundle") = py::none(), py::arg("certs_dir") = py::none(),
             py::arg("transfer_jobs") = registry_defaults.jobs,
             py::arg("retry_attempts") = registry_defaults.retry_attempts,
             py::arg("user_agent") = py::none(), py::arg("credentials") = py::none(),
             py::arg("anonymous") = false, py::arg("chunk_threshold") = py::none(),
             py::arg("chunk_size") = py::none(), py::arg("builder") = py::none(),
             R"doc(Makes a builder. cache_dir: the cache (default $XDG_CACHE_HOME/xarch, else
~/.cache/xarch); jobs: steps run at once (0: one per core); builder: a builder
made with `xarch create` to build on (its Docker Engine and embedded nodes,
each platform on the node that runs it natively), "" for the current one
(`xarch use`), None to build in this process. The other options are
xarch.Registry's. Raises Error when the cache directory cannot be made, NotFound
for an unknown builder.)doc")
        .def("build", &build, py::arg("context"), py::kw_only(), py::arg("platforms") = py::none(),
             py::arg("tags") = Strings(), py::arg("outputs") = Strings(), py::arg("push") = false,
             py::arg("load") = false, py::arg("annotations") = Strings(),
             py::arg("no_cache") = false, py::arg("pull") = false,
             py::arg("cache_from") = Strings(), py::arg("cache_to") = Strings(),
             py::arg("source_date_epoch") = py::none(), py::arg("metadata_file") = py::none(),
             py::arg("iid_file") = py::none(), py::arg("docker_host") = py::none(),
             py::arg("allow") = Strings(), py::arg("network") = "default",
             py::arg("progress") = py::none(),
             R"doc(Builds `context` and returns a BuildResult.

platforms: "amd64,arm64", a list of str or Platform, or None (the host's).
tags: -t names. outputs: --output strings ("type=registry",
"type=oci,dest=DIR,tar=false", "type=local,dest=DIR", a bare path, ...);
push/load add type=registry/type=docker as buildx does. annotations:
--annotation strings. cache_from/cache_to: --cache-from/--cache-to strings.
source_date_epoch: seconds (None: the build arg or environment).
metadata_file, iid_file: written after a successful build. docker_host: the
Engine --load talks to. allow: entitlements RUN may use ("network.host",
"security.insecure"). network: the network of RUN steps without their own
--network: "default", "none" (loopback only) or "host" (which also allows
"network.host"). progress: callable(ProgressEvent).

Raises ParseError quoting a malformed option or for a Dockerfile BuildKit
rejects, BuildError (with step, platform, exit_code, line) for a RUN that
exits non-zero or is killed, NotFoundError for a missing COPY source or base
image platform,
RegistryError and its kin, CancelledError after cancel(); KeyboardInterrupt
on Ctrl-C and the progress callable's own exception are re-raised. Do not use
`context` from other threads during the build.)doc")
        .def("cancel", &PyBuilder::cancel, py::call_guard<py::gil_scoped_release>(),
             "Stops every build in progress on this Builder promptly (they raise "
             "CancelledError). Callable from any thread, also from a progress callable.")
        .def(
            "prune",
            [](PyBuilder& self, std::optional<std::int64_t> keep_storage) {
                PruneOptions options;
                options.keep_storage = keep_storage;
                py::gil_scoped_release release;
                return self.prune(options);
            },
            py::arg("keep_storage") = py::none(),
            "Removes cached results and content, least recently used first, keeping at most "
            "`keep_storage` bytes (None: removes everything). Returns a PruneResult.")
        .def_property_readonly("cache_dir", &PyBuilder::cache_dir,
                               "The cache directory in use (absolute).")
        .def("close", &PyBuilder::close, py::call_guard<py::gil_scoped_release>(),
             "Cancels the builds in progress (they raise CancelledError) and releases the cache "
             "once they have ended; later calls raise ValueError. Closing twice is harmless.")
        .def_property_readonly("closed", &PyBuilder::closed, "True after close().")
        .def(
            "__enter__", [](py::object self) { return self; }, "Returns the Builder itself.")
        .def(
            "__exit__",
            [](PyBuilder& self, const py::args&) {
                py::gil_scoped_release release;
                self.close();
            },
            "Calls close(); exceptions propagate.");
}

}  // namespace xarch::python
