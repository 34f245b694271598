// SPDX-License-Identifier: Apache-2.0
// The OCI distribution spec's referrers tag schema, for registries without the referrers API
// (distribution 2.8 answers 404): the referrers of a manifest are listed in an image index
// tagged `<alg>-<hex>`, which clients read in place of the API and update when they push a
// manifest with a `subject` that the registry did not acknowledge with `OCI-Subject`.
#pragma once

#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/image_index.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace xarch::registry {

// The tag naming the referrers index of `subject`: "sha256-<hex>", the encoded part cut at 64
// characters as the spec says (so that sha512's fits the tag grammar).
std::string referrers_tag(const Digest& subject);

// A pushed manifest that has a subject: the subject's digest and the descriptor to list among
// its referrers (media type, digest, size; artifactType from the manifest, else its config's
// media type; the manifest's annotations).
struct Referrer {
    Digest subject;
    Descriptor descriptor;
};

// The referrer `content` makes, nullopt when it is no manifest or index with a subject.
std::optional<Referrer> referrer_of(const RawContent& content);

// Adds `descriptor` to `index` unless an entry has its digest; false when one had.
bool add_referrer(ImageIndex& index, const Descriptor& descriptor);

// The entries of `index` whose artifactType is `artifact_type` (all of them for "").
ImageIndex filter_referrers(ImageIndex index, std::string_view artifact_type);

}  // namespace xarch::registry
