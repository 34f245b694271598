// SPDX-License-Identifier: Apache-2.0
// The C API over xarch::Builder: builder and build options adapted to BuilderOptions and
// BuildOptions (buildx's flag strings parsed here), progress events relayed to a C callback whose
// nonzero return cancels, and build results as immutable handles of strings.
#include "capi_internal.hpp"

#include <xarch/builder.hpp>
#include <xarch/builders.hpp>
#include <xarch/progress.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xarch::capi {
namespace {

constexpr std::uint32_t kKnownBuildFlags =
    XARCH_BUILD_PUSH | XARCH_BUILD_LOAD | XARCH_BUILD_NO_CACHE | XARCH_BUILD_PULL;

// The C enum mirrors ProgressEvent::Kind value for value.
constexpr int to_c_kind(ProgressEvent::Kind kind) noexcept {
    return static_cast<int>(kind);
}
static_assert(to_c_kind(ProgressEvent::Kind::kVertexStarted) == XARCH_PROGRESS_VERTEX_STARTED);
static_assert(to_c_kind(ProgressEvent::Kind::kVertexCached) == XARCH_PROGRESS_VERTEX_CACHED);
static_assert(to_c_kind(ProgressEvent::Kind::kVertexCompleted) == XARCH_PROGRESS_VERTEX_COMPLETED);
static_assert(to_c_kind(ProgressEvent::Kind::kVertexError) == XARCH_PROGRESS_VERTEX_ERROR);
static_assert(to_c_kind(ProgressEvent::Kind::kStatus) == XARCH_PROGRESS_STATUS);
static_assert(to_c_kind(ProgressEvent::Kind::kLog) == XARCH_PROGRESS_LOG);
static_assert(to_c_kind(ProgressEvent::Kind::kWarning) == XARCH_PROGRESS_WARNING);

BuilderOptions to_builder_options(const xarch_builder_options* options) {
    BuilderOptions result;
    if (options == nullptr) {
        return result;
    }
    check_version(options->version, "xarch_builder_options", XARCH_BUILDER_OPTIONS_VERSION);
    // Version 1 fields.
    if (options->cache_dir != nullptr) {
        // Absolute, so that xarch_builder_cache_dir() keeps meaning it after a chdir().
        result.cache_dir = std::filesystem::absolute(options->cache_dir);
    }
    result.jobs = options->jobs;
    result.registry = to_registry_options(options->registry);
    if (options->version >= 2) {
        switch (options->snapshotter) {
            case XARCH_SNAPSHOTTER_AUTO:
                result.snapshotter = Snapshotter::kAuto;
                break;
            case XARCH_SNAPSHOTTER_OVERLAYFS:
                result.snapshotter = Snapshotter::kOverlayfs;
                break;
            case XARCH_SNAPSHOTTER_NATIVE:
                result.snapshotter = Snapshotter::kNative;
                break;
            default:
                fail(ErrorCode::kInvalidArgument,
                     "xarch_builder_options.snapshotter is " +
                         std::to_string(options->snapshotter) +
                         ": use XARCH_SNAPSHOTTER_AUTO, _OVERLAYFS or _NATIVE");
        }
    }
    if (options->version >= 3 && options->builder != nullptr) {
        const BuilderStore store;
        result.builder = *options->builder == '\0' ? store.current() : store.get(options->builder);
    }
    return result;
}

// Relays the C++ progress events of one build to the C callback. A nonzero return cancels the
// builder (the C++ callback may not throw) and silences the callback for the rest of the build.
class ProgressRelay {
public:
    ProgressRelay(xarch_progress_cb callback, void* payload, Builder& builder)
        : callback_(callback), payload_(payload), builder_(builder) {}

    void operator()(const ProgressEvent& event) {
        if (stopped_.load(std::memory_order_acquire)) {
            return;
        }
        xarch_progress_event c_event{};
        c_event.version = XARCH_PROGRESS_EVENT_VERSION;
        c_event.kind = to_c_kind(event.kind);
        c_event.vertex = event.vertex.c_str();
        c_event.name = event.name.c_str();
        c_event.time_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(event.time.time_since_epoch())
                .count();
        c_event.id = event.id.c_str();
        c_event.message = event.message.c_str();
        c_event.current = event.current;
        c_event.total = event.total;
        c_event.completed = event.completed ? 1 : 0;
        const int status = callback_(&c_event, payload_);
        if (status != 0) {
            status_ = status;
            stopped_.store(true, std::memory_order_release);
            builder_.cancel();
        }
    }

    // The callback's nonzero return, once it asked to stop.
    std::optional<int> stop_status() const {
        if (!stopped_.load(std::memory_order_acquire)) {
            return std::nullopt;
        }
        return status_;
    }

private:
    xarch_progress_cb callback_;
    void* payload_;
    Builder& builder_;
    int status_ = 0;  // written before stopped_ is set, read after it is seen
    std::atomic<bool> stopped_{false};
};

BuildOptions to_build_options(const xarch_build_options* options) {
    BuildOptions result;
    if (options == nullptr) {
        return result;
    }
    check_version(options->version, "xarch_build_options", XARCH_BUILD_OPTIONS_VERSION);
    // Version 1 fields.
    result.platforms = to_platforms(options->platforms, options->platforms_count, "platforms");
    result.tags = to_strings(options->tags, options->tags_count, "tags");
    for (const std::string& text :
         to_strings(options->outputs, options->outputs_count, "outputs")) {
        result.outputs.push_back(OutputSpec::parse(text));
    }
    if ((options->flags & ~kKnownBuildFlags) != 0) {
        fail(ErrorCode::kInvalidArgument, "xarch_build_options.flags has unknown bits " +
                                              std::to_string(options->flags & ~kKnownBuildFlags));
    }
    // As buildx: --push is `--output type=registry`, --load `--output type=docker`.
    if ((options->flags & XARCH_BUILD_PUSH) != 0) {
        OutputSpec push;
        push.type = OutputSpec::Type::kRegistry;
        result.outputs.push_back(std::move(push));
    }
    if ((options->flags & XARCH_BUILD_LOAD) != 0) {
        OutputSpec load;
        load.type = OutputSpec::Type::kDocker;
        result.outputs.push_back(std::move(load));
    }
    result.no_cache = (options->flags & XARCH_BUILD_NO_CACHE) != 0;
    result.pull = (options->flags & XARCH_BUILD_PULL) != 0;
    result.annotations =
        to_strings(options->annotations, options->annotations_count, "annotations");
    for (const std::string& text :
         to_strings(options->cache_from, options->cache_from_count, "cache_from")) {
        result.cache_from.push_back(CacheSpec::parse(text));
    }
    for (const std::string& text :
         to_strings(options->cache_to, options->cache_to_count, "cache_to")) {
        result.cache_to.push_back(CacheSpec::parse(text));
    }
    if (options->has_source_date_epoch != 0) {
        result.source_date_epoch = options->source_date_epoch;
    }
    if (options->metadata_file != nullptr) {
        result.metadata_file = options->metadata_file;
    }
    if (options->iid_file != nullptr) {
        result.iid_file = options->iid_file;
    }
    if (options->docker_host != nullptr) {
        result.docker_host = options->docker_host;
    }
    if (options->version >= 2) {
        result.allow = to_strings(options->allow, options->allow_count, "allow");
        for (const std::string& entitlement : result.allow) {
            if (entitlement != "network.host" && entitlement != "security.insecure") {
                fail(ErrorCode::kInvalidArgument, "invalid entitlement \"" + entitlement +
                                                      "\": use network.host or security.insecure");
            }
        }
    }
    if (options->version >= 3 && options->network != nullptr) {
        result.network = options->network;
    }
    return result;
}

xarch_build_result* new_result(const BuildResult& built) {
    auto result = std::make_unique<xarch_build_result>();
    result->descriptor = built.descriptor.serialize();
    result->digest = built.descriptor.digest.to_string();
    result->metadata_json = built.metadata_json;
    result->items.reserve(built.images.size());
    for (const PlatformImage& image : built.images) {
        result->items.push_back({image.platform.to_string(), image.manifest.digest.to_string(),
                                 image.config.to_string()});
    }
    result->warnings = built.warnings;
    return result.release();
}

const xarch_build_result& result_of(const xarch_build_result* result) {
    return *require(result, "result");
}

}  // namespace
}  // namespace xarch::capi

namespace capi = xarch::capi;

extern "C" {

// ---- Options ------------------------------------------------------------------------------------

int xarch_builder_options_init(xarch_builder_options* out, unsigned int version) {
    return capi::guard([&] {
        capi::require(out, "out");
        capi::check_version(version, "xarch_builder_options", XARCH_BUILDER_OPTIONS_VERSION);
        // Only the fields of `version` are written: the caller's struct may be that small.
        out->version = version;
        out->cache_dir = nullptr;
        out->jobs = 0;
        out->registry = nullptr;
        if (version >= 2) {
            out->snapshotter = XARCH_SNAPSHOTTER_AUTO;
        }
        if (version >= 3) {
            out->builder = nullptr;
        }
    });
}

int xarch_build_options_init(xarch_build_options* out, unsigned int version) {
    return capi::guard([&] {
        capi::require(out, "out");
        capi::check_version(version, "xarch_build_options", XARCH_BUILD_OPTIONS_VERSION);
        const xarch_build_options defaults = XARCH_BUILD_OPTIONS_INIT;
        // Only the fields of `version` are written: the caller's struct may be that small.
        const std::size_t size = version >= 3   ? sizeof defaults
                                 : version >= 2 ? offsetof(xarch_build_options, network)
                                                : offsetof(xarch_build_options, allow);
        std::memcpy(out, &defaults, size);
        out->version = version;
    });
}

// ---- xarch_builder ------------------------------------------------------------------------------

int xarch_builder_new(xarch_builder** out, const xarch_builder_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_builder(capi::to_builder_options(options));
    });
}

void xarch_builder_free(xarch_builder* builder) {
    capi::guard(capi::no_result, [builder] { delete builder; });
}

int xarch_builder_cancel(xarch_builder* builder) {
    return capi::guard([&] { capi::require(builder, "builder")->value.cancel(); });
}

int xarch_builder_prune(xarch_builder* builder, int64_t keep_storage, int64_t* freed_bytes) {
    return capi::guard([&] {
        if (freed_bytes != nullptr) {
            *freed_bytes = 0;
        }
        xarch::Builder& value = capi::require(builder, "builder")->value;
        xarch::PruneOptions options;
        if (keep_storage >= 0) {
            options.keep_storage = keep_storage;
        }
        const xarch::PruneResult pruned = value.prune(options);
        if (freed_bytes != nullptr) {
            *freed_bytes = pruned.freed_bytes;
        }
    });
}

const char* xarch_builder_cache_dir(const xarch_builder* builder) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [builder] { return capi::require(builder, "builder")->cache_dir.c_str(); });
}

// ---- Building -----------------------------------------------------------------------------------

int xarch_builder_build(xarch_build_result** out,
                        xarch_builder* builder,
                        xarch_context* ctx,
                        const xarch_build_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        xarch::Builder& value = capi::require(builder, "builder")->value;
        capi::require(ctx, "ctx");
        // Parsed before the context is locked: a malformed option fails without waiting.
        xarch::BuildOptions build_options = capi::to_build_options(options);
        std::optional<capi::ProgressRelay> relay;
        if (options != nullptr && options->progress_cb != nullptr) {
            relay.emplace(options->progress_cb, options->payload, value);
            build_options.progress = [&relay](const xarch::ProgressEvent& event) {
                (*relay)(event);
            };
        }
        const std::lock_guard<std::mutex> lock(ctx->mutex);
        try {
            *out = capi::new_result(value.build(ctx->value, build_options));
        } catch (const xarch::Error& error) {
            const std::optional<int> status = relay ? relay->stop_status() : std::nullopt;
            if (error.code() == xarch::ErrorCode::kCancelled && status) {
                capi::fail(xarch::ErrorCode::kCancelled, "the progress callback returned " +
                                                             std::to_string(*status) +
                                                             ": the build was cancelled");
            }
            throw;
        }
    });
}

const char* xarch_build_result_descriptor(const xarch_build_result* result) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [result] { return capi::result_of(result).descriptor.c_str(); });
}

const char* xarch_build_result_digest(const xarch_build_result* result) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [result] { return capi::result_of(result).digest.c_str(); });
}

const char* xarch_build_result_metadata(const xarch_build_result* result) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [result] { return capi::result_of(result).metadata_json.c_str(); });
}

size_t xarch_build_result_image_count(const xarch_build_result* result) {
    return capi::guard(std::size_t{0}, [result] { return capi::result_of(result).items.size(); });
}

const char* xarch_build_result_image_platform(const xarch_build_result* result, size_t index) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::item(result, index).platform.c_str(); });
}

const char* xarch_build_result_image_manifest_digest(const xarch_build_result* result,
                                                     size_t index) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::item(result, index).manifest_digest.c_str(); });
}

const char* xarch_build_result_image_config_digest(const xarch_build_result* result, size_t index) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::item(result, index).config_digest.c_str(); });
}

size_t xarch_build_result_warning_count(const xarch_build_result* result) {
    return capi::guard(std::size_t{0},
                       [result] { return capi::result_of(result).warnings.size(); });
}

const char* xarch_build_result_warning(const xarch_build_result* result, size_t index) {
    return capi::guard(static_cast<const char*>(nullptr), [&]() -> const char* {
        const std::vector<std::string>& warnings = capi::result_of(result).warnings;
        if (index >= warnings.size()) {
            capi::fail(xarch::ErrorCode::kInvalidArgument,
                       "index " + std::to_string(index) + " is out of range (the result has " +
                           std::to_string(warnings.size()) + " warnings)");
        }
        return warnings[index].c_str();
    });
}

void xarch_build_result_free(xarch_build_result* result) {
    capi::guard(capi::no_result, [result] { delete result; });
}

}  // extern "C"
