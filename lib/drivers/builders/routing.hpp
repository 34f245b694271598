// SPDX-License-Identifier: Apache-2.0
// Which node of a builder builds which platform: a node that declares it, else one that runs it
// natively, else one that emulates it — as buildx picks nodes.
#pragma once

#include <xarch/builders.hpp>
#include <xarch/platform.hpp>

#include <cstddef>
#include <vector>

namespace xarch::drivers {

struct Assignment {
    Platform platform;  // normalized
    std::size_t node;   // index into BuilderSpec::nodes
    bool emulated;      // the node runs it through QEMU
};

// One Assignment per wanted platform, in `wanted` order. `statuses[i]` is what inspect_node() said
// of `builder.nodes[i]`; nodes that are not running are skipped. Each platform goes to the first
// running node that declares it (--platform at create), else the first whose native platforms have
// it, else the first that emulates it. None: Error(kUnsupported) naming the platform and every node
// with its status and platforms, and saying how to add one that builds it. Error(kInvalidArgument)
// when statuses and nodes differ in number.
std::vector<Assignment> route_platforms(const BuilderSpec& builder,
                                        const std::vector<NodeStatus>& statuses,
                                        const std::vector<Platform>& wanted);

}  // namespace xarch::drivers
