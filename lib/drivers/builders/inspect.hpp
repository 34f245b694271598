// SPDX-License-Identifier: Apache-2.0
// inspect_node with the caller's binfmt_misc settings (`xarch ls --binfmt-mount`) and engine
// timeouts; the public inspect_node() uses the defaults.
#pragma once

#include "engine/client.hpp"

#include <xarch/builders.hpp>
#include <xarch/emulators.hpp>

namespace xarch::drivers {

struct InspectOptions {
    // Where the host's emulators are registered: an embedded node, or an engine on a local unix
    // socket (same kernel), emulates what they run.
    emulators::Options emulators;
    engine::ClientOptions client;
};

// Never throws for a node that cannot be reached or asked: its status is "error" and `error`
// says why. Declared platforms come first in `native` whatever the status.
NodeStatus inspect_node(const NodeSpec& node, const InspectOptions& options);

}  // namespace xarch::drivers
