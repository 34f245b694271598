// SPDX-License-Identifier: Apache-2.0
// From the final state of each platform to the documents an exporter writes: history times
// filled in as BuildKit's exporter fills them (normalizeLayersAndHistory, patchImageConfig with
// SOURCE_DATE_EPOCH), the config, the manifest per platform, the index over them, and buildx's
// build --annotation rules for where each annotation goes.
#pragma once

#include "image_state.hpp"

#include <xarch/oci_layout.hpp>
#include <xarch/platform.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::solver {

// One `--annotation` of `buildx build`: "[TYPE[,TYPE...][\[PLATFORM\]]:]KEY=VALUE" with TYPE one
// of manifest (the default), index, manifest-descriptor, index-descriptor.
struct BuildAnnotation {
    enum class Target { kManifest, kIndex, kManifestDescriptor, kIndexDescriptor };
    Target target = Target::kManifest;
    std::optional<Platform> platform;
    std::string key;
    std::string value;
    // Throws Error(kInvalidArgument) quoting the text.
    static std::vector<BuildAnnotation> parse(std::string_view text);
};

struct FinalImage {
    Platform platform;
    RawContent config;
    RawContent manifest;
    std::vector<LayerInfo> layers;
};

// Go's time.Time JSON form (RFC 3339 with nanoseconds, trailing zeros cut), in UTC.
std::string format_time(std::chrono::system_clock::time_point time);
std::string format_epoch(std::int64_t seconds);

// Writes the config and manifest of `state` into `store`. `epoch`: SOURCE_DATE_EPOCH;
// `oci_media_types` false: Docker's schema 2 types (oci-mediatypes=false), layers included.
FinalImage finalize_image(const ImageState& state,
                          const Platform& platform,
                          std::optional<std::int64_t> epoch,
                          const std::vector<BuildAnnotation>& annotations,
                          bool oci_media_types,
                          OciLayout& store);

// The index over `images` (in their order), written into `store`: an OCI index, or a Docker
// manifest list without `oci_media_types`.
RawContent make_index(const std::vector<FinalImage>& images,
                      const std::vector<BuildAnnotation>& annotations,
                      bool oci_media_types,
                      OciLayout& store);

}  // namespace xarch::solver
