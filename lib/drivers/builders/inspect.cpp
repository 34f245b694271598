// SPDX-License-Identifier: Apache-2.0
// inspect_node: what a node builds now. The embedded node is this host (its native platforms,
// binfmt_misc's emulators); a Docker Engine is asked over its API (/_ping, /version, /info).
#include "drivers/builders/inspect.hpp"

#include "engine/endpoint.hpp"

#include <xarch/error.hpp>
#include <xarch/version.hpp>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace xarch::drivers {

namespace {

// Adds `platform` (normalized) unless a platform of the same os/arch[/variant] is there already.
void add(std::vector<Platform>& platforms, const Platform& platform) {
    const Platform normalized = platform.normalized();
    const std::string key = normalized.to_string();
    if (std::none_of(platforms.begin(), platforms.end(),
                     [&](const Platform& p) { return p.to_string() == key; })) {
        platforms.push_back(normalized);
    }
}

// What binfmt_misc adds to `native`. A host whose binfmt_misc cannot be read still builds its
// native platforms: the node stays running, with nothing emulated.
std::vector<Platform> emulated_here(const std::vector<Platform>& native,
                                    const emulators::Options& options) {
    std::vector<Platform> out;
    try {
        for (const Platform& p : emulators::runnable_platforms(options)) {
            const std::string key = p.to_string();
            if (std::none_of(native.begin(), native.end(),
                             [&](const Platform& n) { return n.to_string() == key; })) {
                add(out, p);
            }
        }
    } catch (const Error&) {
        out.clear();
    }
    return out;
}

NodeStatus inspect_embedded(NodeStatus status, const InspectOptions& options) {
    status.status = "running";
    status.version = std::string(xarch::version());
    for (const Platform& p : emulators::native_platforms()) {
        add(status.native, p);
    }
    status.emulated = emulated_here(status.native, options.emulators);
    return status;
}

NodeStatus inspect_engine(const NodeSpec& node, NodeStatus status, const InspectOptions& options) {
    const std::size_t declared = status.native.size();
    try {
        engine::Client client(engine::resolve_endpoint(node.endpoint), options.client);
        client.api_version();
        const engine::EngineInfo info = client.info();
        status.version = info.server_version;
        // "arm" from the engine is linux/arm/v7 once normalized, as buildx shows it.
        add(status.native, Platform::parse((info.os.empty() ? std::string("linux") : info.os) +
                                           "/" + info.architecture));
        // An engine on a unix socket runs on this kernel: it runs what this host runs natively
        // and through binfmt_misc (its RUN steps use the same handlers). A remote engine's
        // emulators are not known.
        if (client.host().starts_with("unix://")) {
            for (const Platform& p : emulators::native_platforms()) {
                add(status.native, p);
            }
            status.emulated = emulated_here(status.native, options.emulators);
        }
        status.status = "running";
    } catch (const std::exception& e) {
        status.status = "error";
        status.error = e.what();
        status.version.clear();
        status.emulated.clear();
        status.native.resize(declared);
    }
    return status;
}

}  // namespace

NodeStatus inspect_node(const NodeSpec& node, const InspectOptions& options) {
    NodeStatus status;
    for (const Platform& p : node.platforms) {
        add(status.native, p);
    }
    switch (node.driver) {
        case Driver::kEmbedded:
            return inspect_embedded(std::move(status), options);
        case Driver::kDocker:
            return inspect_engine(node, std::move(status), options);
    }
    status.status = "error";
    status.error = "unknown driver";
    return status;
}

}  // namespace xarch::drivers

namespace xarch {

NodeStatus inspect_node(const NodeSpec& node) {
    return drivers::inspect_node(node, drivers::InspectOptions{});
}

}  // namespace xarch
