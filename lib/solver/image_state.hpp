// SPDX-License-Identifier: Apache-2.0
// The image a stage has after each of its steps: the config (with history and diff IDs), the
// layers, and the cache key that names this state. It is what a step's cache record stores, so
// a cached step gives back exactly the state the step once produced.
#pragma once

#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/image_index.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace xarch::solver {

struct LayerInfo {
    Descriptor blob;  // compressed, as a manifest lists it
    Digest diff_id;
    // A repository holding the blob when the content store may lack it (base image layers are
    // fetched or mounted from there only when an output needs them); "" when it is local.
    std::string source_repository;
    // When the layer was made (RFC 3339), for its history entry; "" for base image layers.
    std::string created;
    friend bool operator==(const LayerInfo&, const LayerInfo&) = default;
};

struct ImageState {
    // rootfs.diff_ids matches `layers`; history entries of steps not timed yet have created "".
    ImageConfig config;
    std::vector<LayerInfo> layers;
    Digest key;  // the cache key of the step that produced this state
    // The base image this stage started from (for annotations), when it is an image.
    std::string base_name;
    Digest base_digest;
    std::size_t base_history = 0;  // history entries that came with the base image
    friend bool operator==(const ImageState&, const ImageState&) = default;

    // Adds a layer and its history entry.
    void add_layer(LayerInfo layer, std::string created_by);
    // Adds a history entry without a layer (empty_layer).
    void add_history(std::string created_by);
};

// The cache record of a state: JSON with the config, the layers and a "blobs" array of every
// blob it needs (what the cache's prune and the registry cache read).
std::string to_record(const ImageState& state);
// Throws Error(kInvalidArgument) for a record that is not one (a corrupt cache file).
ImageState from_record(std::string_view json);

inline constexpr std::string_view kHistoryComment = "buildkit.dockerfile.v0";

}  // namespace xarch::solver
