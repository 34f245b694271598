// SPDX-License-Identifier: Apache-2.0
// route_platforms: each wanted platform to a declaring, then a native, then an emulating node.
#include "drivers/builders/routing.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <optional>
#include <string>

namespace xarch::drivers {

namespace {

// Platforms compare by their normalized os/arch[/variant]: "arm" declared at create and
// "linux/arm/v7" asked for at build are one platform.
std::string key(const Platform& platform) {
    return platform.normalized().to_string();
}

bool contains(const std::vector<Platform>& platforms, const std::string& wanted) {
    return std::any_of(platforms.begin(), platforms.end(),
                       [&](const Platform& p) { return key(p) == wanted; });
}

std::string join(const std::vector<Platform>& platforms) {
    std::string out;
    for (const Platform& p : platforms) {
        out += (out.empty() ? "" : ", ") + p.to_string();
    }
    return out;
}

// "NAME0 (running): linux/amd64, linux/386, emulated: linux/arm64"; "NAME1 (error: why)".
std::string describe(const NodeSpec& node, const NodeStatus& status) {
    if (!status.running()) {
        std::string why =
            status.error.empty() ? status.status : status.status + ": " + status.error;
        return node.name + " (" + why + ")";
    }
    std::string out = node.name + " (running): ";
    out += status.native.empty() ? "no native platforms" : join(status.native);
    if (!status.emulated.empty()) {
        out += ", emulated: " + join(status.emulated);
    }
    return out;
}

}  // namespace

std::vector<Assignment> route_platforms(const BuilderSpec& builder,
                                        const std::vector<NodeStatus>& statuses,
                                        const std::vector<Platform>& wanted) {
    if (statuses.size() != builder.nodes.size()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "routing builder " + util::quote(builder.name) + ": " +
                        std::to_string(statuses.size()) + " node statuses for " +
                        std::to_string(builder.nodes.size()) + " nodes");
    }
    // The first running node for which `has` holds.
    const auto first = [&](auto has) -> std::optional<std::size_t> {
        for (std::size_t i = 0; i < builder.nodes.size(); ++i) {
            if (statuses[i].running() && has(i)) {
                return i;
            }
        }
        return std::nullopt;
    };
    std::vector<Assignment> out;
    out.reserve(wanted.size());
    for (const Platform& platform : wanted) {
        const std::string k = key(platform);
        const Platform normalized = platform.normalized();
        if (auto i =
                first([&](std::size_t n) { return contains(builder.nodes[n].platforms, k); })) {
            out.push_back({normalized, *i, false});
        } else if (auto j = first([&](std::size_t n) { return contains(statuses[n].native, k); })) {
            out.push_back({normalized, *j, false});
        } else if (auto e =
                       first([&](std::size_t n) { return contains(statuses[n].emulated, k); })) {
            out.push_back({normalized, *e, true});
        } else {
            std::string nodes;
            for (std::size_t n = 0; n < builder.nodes.size(); ++n) {
                nodes += (nodes.empty() ? "" : "; ") + describe(builder.nodes[n], statuses[n]);
            }
            throw Error(ErrorCode::kUnsupported,
                        "no node of builder " + util::quote(builder.name) + " builds " + k +
                            "; nodes: " + nodes + ". Add a node that runs it (`xarch create " +
                            "--append --name " + builder.name + " ENDPOINT`) or register an " +
                            "emulator for it (`xarch emulators install " + k + "`)");
        }
    }
    return out;
}

}  // namespace xarch::drivers
