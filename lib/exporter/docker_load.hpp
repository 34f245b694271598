// SPDX-License-Identifier: Apache-2.0
// `docker load` over the Engine API: POST /images/load with a docker archive, over a unix
// socket or TCP (with TLS), the engine's JSON message stream read back.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace xarch::exporter {

// The engine to talk to: `configured` when set, else what docker/cli would use
// (engine::resolve_endpoint: $DOCKER_HOST, else the current Docker context, else
// unix:///var/run/docker.sock).
std::string docker_host(std::string_view configured);

// Streams `archive` to the engine at `host` ("unix:///path", "tcp://host:port", or a Docker
// context name; TLS as docker/cli sets it up for that engine) through engine::Client; each message
// of its answer ("Loaded image: name:tag") goes to `log`. Throws Error(kNetwork) when the engine
// cannot be reached, Error(kIo) with the engine's text when it refuses the archive
// ({"error": ...} in the stream or an HTTP error), Error(kUnsupported) for another scheme,
// Error(kCancelled) when `cancelled` says so.
void docker_load(const std::string& host,
                 const std::filesystem::path& archive,
                 const std::function<void(std::string_view)>& log,
                 const std::function<bool()>& cancelled);

}  // namespace xarch::exporter
