// SPDX-License-Identifier: Apache-2.0
// One platform built on one Docker Engine: POST /build (the classic builder) with the context
// tar, the build's settings in the query, the automatic platform args, and its answer read into
// progress events and the image id.
#pragma once

#include "drivers/docker/context_tar.hpp"
#include "drivers/docker/pin_bases.hpp"
#include "engine/client.hpp"

#include <xarch/context.hpp>
#include <xarch/platform.hpp>
#include <xarch/progress.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::drivers::docker {

struct EngineBuild {
    Platform platform;              // normalized
    std::vector<std::string> tags;  // t= (repeated)
    bool no_cache = false;
    bool pull = false;
    std::string network;                     // networkmode: "" (default), "none", "host"
    std::string node;                        // node name, for step names/errors
    std::optional<Platform> build_platform;  // the engine's native one (BUILDPLATFORM args)
    // Pins each stage's base image to this platform's manifest digest (pin_bases.hpp); null:
    // the bases go as written (safe only when the engine builds one platform of a base at a
    // time and has no other platform's image under its tag).
    ResolveBase resolve_base;
    // kWalked (the default): the context is walked while it is sent, as `docker build` does;
    // kScanned: its scan is used (made first when it has none).
    ContextEntries context_entries = ContextEntries::kWalked;
};

struct EngineBuildResult {
    std::string image_id;  // "sha256:..."
};

// The build args BuildKit would set by itself, which the classic builder does not:
// TARGETPLATFORM ("linux/arm/v7"), TARGETOS, TARGETARCH, TARGETVARIANT and the BUILD* four for
// `build_platform` (the host's when nullopt).
std::map<std::string, std::string> automatic_platform_args(
    const Platform& platform, const std::optional<Platform>& build_platform);

// The names ARG declares anywhere in `dockerfile_text` (before the first FROM and in every
// stage). Throws DockerfileError as the parser does.
std::vector<std::string> declared_args(std::string_view dockerfile_text,
                                       std::string_view file_name = "Dockerfile");

// The build args sent: the automatic platform args the Dockerfile declares, then the context's
// own (`--build-arg`, which win). Only declared automatic args are sent: an unused build arg
// makes the classic builder print a warning.
std::map<std::string, std::string> engine_build_args(const BuildContext& context,
                                                     std::string_view dockerfile_text,
                                                     const EngineBuild& build);

// The query string of POST /build (without '?'): t (repeated), platform, dockerfile, target,
// buildargs (a JSON object), labels (a JSON object), nocache=1, pull=1, networkmode, rm=1,
// forcerm=1, version=1 (the classic builder); values percent-encoded, keys in a fixed order.
std::string build_query(const BuildContext& context,
                        const EngineBuild& build,
                        std::string_view dockerfile_name,
                        const std::map<std::string, std::string>& build_args);

// Builds `build.platform` on the engine (see BuildProgress for the events; the callback is
// called from this thread only). Throws Error(kIo) "<node> (linux/arm64): step N/M `RUN ...`
// failed: <engine text>" with the step's last output lines when a step fails, the client's
// errors (prefixed with the node and platform) when the engine refuses the request or goes
// away, and Error(kCancelled) when `cancelled` returns true. With kScanned, `context` is scanned
// first when it has not been; when several builds share one context, scan it before they start
// (kWalked builds may share a context as they are).
EngineBuildResult build(engine::Client& client,
                        BuildContext& context,
                        const EngineBuild& build,
                        const ProgressCallback& progress,
                        const std::function<bool()>& cancelled);

}  // namespace xarch::drivers::docker
