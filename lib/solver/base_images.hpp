// SPDX-License-Identifier: Apache-2.0
// FROM <image>: the reference resolved once per build (one request for the tag), the index read
// once, the platform's manifest picked by Platform matching, and the manifest and config kept in
// the content store, so a rebuild only asks the registry where the tag points. Layers are not
// fetched here: they stay in their repository until an output or a step needs their bytes.
#pragma once

#include "image_state.hpp"
#include "solver/memo.hpp"

#include <xarch/oci_layout.hpp>
#include <xarch/platform.hpp>
#include <xarch/reference.hpp>
#include <xarch/registry.hpp>

#include <string>
#include <string_view>

namespace xarch::solver {

class BaseImages {
public:
    BaseImages(Registry& registry, OciLayout& store) : registry_(registry), store_(store) {}

    // The state an image gives a stage built for `platform`: its config (unknown fields dropped,
    // `created` cleared, os/architecture/variant those of `platform`), its layers (source: the
    // image's repository) and the key `from` + manifest digest. Throws Error(kNotFound) listing
    // the platforms the image has when `platform` is not among them, RegistryError otherwise.
    ImageState resolve(std::string_view reference, const Platform& platform);

    // The reference as resolved (name@digest of the root) for step names.
    std::string pinned(std::string_view reference);

private:
    ImageState resolve_unchecked(std::string_view reference, const Platform& platform);
    Descriptor root(const Reference& ref);
    std::string content(const Reference& ref, const Descriptor& descriptor, bool manifest);

    Registry& registry_;
    OciLayout& store_;
    Memo<Descriptor> roots_;
};

// The state of `FROM scratch` for `platform` (BuildKit's emptyImage).
ImageState scratch_state(const Platform& platform);

}  // namespace xarch::solver
