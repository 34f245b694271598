// SPDX-License-Identifier: Apache-2.0
// A build over a builder's nodes: each platform routed to a node, all nodes at once, and only
// when every platform is built, the pushes and the index — so that a node failing leaves no tag
// moved.
#pragma once

#include "solver/cancel.hpp"

#include <xarch/builder.hpp>
#include <xarch/builders.hpp>
#include <xarch/registry.hpp>

#include <functional>

namespace xarch::drivers {

// Builds on this process's embedded driver (the Builder's cache and registry client);
// `context_scanned`: use the context's entries as scanned, do not scan it again.
using EmbeddedBuild = std::function<BuildResult(
    BuildContext&, const BuildOptions&, const solver::CancelToken&, bool context_scanned)>;

// Builds `context` for options.platforms (else the first running node's platform) on
// `builder`'s nodes. Pushes (type=registry, type=image,push=true) go to the registry from the
// node that built each platform: an engine pushes its image under a per-platform tag
// ("TAG-linux-arm64"), the embedded node by digest; then the index over the pushed manifests'
// digests is written under every -t. One platform: the engine pushes it under the tags
// themselves, as `docker build` + `docker push` would. --load (one platform) leaves the image
// tagged in the engine that built it. Other output types, caches and annotations need an
// embedded node for every platform: Error(kUnsupported) saying so. A node failing cancels the
// others and throws its error prefixed with the node and platform. The context is scanned once
// (with `scan`) for all nodes.
BuildResult build_on_nodes(const BuilderSpec& builder,
                           BuildContext& context,
                           const BuildOptions& options,
                           Registry& registry,
                           const CredentialsLookup& credentials,
                           const solver::CancelToken& token,
                           const ScanOptions& scan,
                           const EmbeddedBuild& embedded);

// True when `builder` is one embedded node (builds run as without a builder).
bool is_embedded_only(const BuilderSpec& builder);

// "1.0" for linux/arm/v7 -> "1.0-linux-arm-v7": where an engine pushes one platform of a
// multi-platform build before the index is written.
std::string platform_tag(std::string_view tag, const Platform& platform);

}  // namespace xarch::drivers
