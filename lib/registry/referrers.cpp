// SPDX-License-Identifier: Apache-2.0
#include "registry/referrers.hpp"

#include <algorithm>
#include <exception>

namespace xarch::registry {

std::string referrers_tag(const Digest& subject) {
    return std::string(subject.algorithm()) + "-" + std::string(subject.hex().substr(0, 64));
}

std::optional<Referrer> referrer_of(const RawContent& content) {
    // Most manifests have no subject: spare them a parse.
    if (content.bytes.find("\"subject\"") == std::string::npos) {
        return std::nullopt;
    }
    Referrer r;
    r.descriptor = content.descriptor();
    try {
        if (media_type::is_index(content.media_type)) {
            auto index = parse_index(content.bytes, content.media_type);
            if (!index.subject) {
                return std::nullopt;
            }
            r.subject = index.subject->digest;
            r.descriptor.artifact_type = index.artifact_type;
            r.descriptor.annotations = std::move(index.annotations);
        } else if (media_type::is_manifest(content.media_type)) {
            auto manifest = parse_manifest(content.bytes, content.media_type);
            if (!manifest.subject) {
                return std::nullopt;
            }
            r.subject = manifest.subject->digest;
            r.descriptor.artifact_type = manifest.artifact_type.empty() ? manifest.config.media_type
                                                                        : manifest.artifact_type;
            r.descriptor.annotations = std::move(manifest.annotations);
        } else {
            return std::nullopt;
        }
    } catch (const std::exception&) {
        // Not a document xarch reads: the registry judges it when it is pushed.
        return std::nullopt;
    }
    return r;
}

bool add_referrer(ImageIndex& index, const Descriptor& descriptor) {
    const bool present =
        std::any_of(index.manifests.begin(), index.manifests.end(),
                    [&](const Descriptor& d) { return d.digest == descriptor.digest; });
    if (!present) {
        index.manifests.push_back(descriptor);
    }
    return !present;
}

ImageIndex filter_referrers(ImageIndex index, std::string_view artifact_type) {
    if (!artifact_type.empty()) {
        std::erase_if(index.manifests,
                      [&](const Descriptor& d) { return d.artifact_type != artifact_type; });
    }
    return index;
}

}  // namespace xarch::registry
