// SPDX-License-Identifier: Apache-2.0
// Resolving FROM images for each platform, with the documents cached in the content store.
#include "base_images.hpp"

#include "cache_key.hpp"
#include "metadata.hpp"

#include <xarch/error.hpp>

namespace xarch::solver {

Descriptor BaseImages::root(const Reference& ref) {
    return roots_.get(ref.to_string(), [&] {
        if (ref.has_digest()) {
            // A pinned reference needs no request when its document is cached.
            const Digest d = Digest::parse(ref.digest());
            if (store_.has_blob(d)) {
                const std::string bytes = store_.read_blob(d);
                const bool index = bytes.find("\"manifests\"") != std::string::npos;
                std::string type;
                try {
                    type = index ? parse_index(bytes).media_type : parse_manifest(bytes).media_type;
                } catch (const Error&) {
                    type.clear();
                }
                if (type.empty()) {
                    type = index ? media_type::kOciIndex : media_type::kOciManifest;
                }
                return Descriptor::of(std::move(type), bytes);
            }
        }
        return registry_.resolve(ref);
    });
}

std::string BaseImages::content(const Reference& ref, const Descriptor& descriptor, bool manifest) {
    if (store_.has_blob(descriptor.digest)) {
        return store_.read_blob(descriptor.digest);
    }
    std::string bytes;
    if (manifest) {
        bytes = registry_.fetch_manifest(ref.with_digest(descriptor.digest.to_string())).bytes;
    } else {
        bytes = registry_.fetch_blob(ref, descriptor);
    }
    Descriptor expected = descriptor;
    expected.size = static_cast<std::int64_t>(bytes.size());
    store_.write_blob(expected, bytes);
    return bytes;
}

namespace {

// BuildKit's wording for any failure to read a base image, naming it in full.
template <typename F>
auto naming_the_image(std::string_view reference, F&& body) {
    try {
        return body();
    } catch (const Error& e) {
        std::string name(reference);
        try {
            name = Reference::parse(reference).to_string();
        } catch (const Error&) {
            // The reference itself is bad: the message says so.
        }
        throw Error(e.code(), "failed to resolve source metadata for " + name + ": " + e.what());
    }
}

}  // namespace

std::string BaseImages::pinned(std::string_view reference) {
    return naming_the_image(reference, [&] {
        const Reference ref = Reference::parse(reference);
        return ref.without_digest().to_string() + "@" + root(ref).digest.to_string();
    });
}

ImageState BaseImages::resolve(std::string_view reference, const Platform& platform) {
    return naming_the_image(reference, [&] { return resolve_unchecked(reference, platform); });
}

ImageState BaseImages::resolve_unchecked(std::string_view reference, const Platform& platform) {
    const Reference ref = Reference::parse(reference);
    const Descriptor top = root(ref);
    const std::string top_bytes = content(ref, top, true);
    Descriptor manifest_desc = top;
    std::string manifest_bytes = top_bytes;
    const bool is_index = top.media_type == media_type::kOciIndex ||
                          top.media_type == media_type::kDockerManifestList;
    if (is_index) {
        const ImageIndex index = parse_index(top_bytes, top.media_type);
        manifest_desc = index.find(platform, ref.to_string());
        manifest_bytes = content(ref, manifest_desc, true);
    }
    const Manifest manifest = parse_manifest(manifest_bytes, manifest_desc.media_type);
    ImageConfig config = parse_config(content(ref, manifest.config, false));
    if (!is_index) {
        const Platform has(config.os, config.architecture, config.variant);
        if (!PlatformMatcher::only(platform).match(has)) {
            throw Error(ErrorCode::kNotFound,
                        "image " + ref.to_string() + " is for " + has.to_string() + ", not " +
                            platform.to_string() +
                            "; build for its platform or use a multi-platform base image");
        }
    }
    if (config.rootfs.diff_ids.size() != manifest.layers.size()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "image " + ref.to_string() + " has " + std::to_string(manifest.layers.size()) +
                        " layers but its config lists " +
                        std::to_string(config.rootfs.diff_ids.size()) + " diff IDs");
    }

    ImageState state;
    // BuildKit reads the base config into its own image type: fields it does not know are
    // dropped, and the image gets a new creation time.
    config.extra.clear();
    config.config.extra.clear();
    config.rootfs.extra.clear();
    config.created.clear();
    const Platform target = platform.normalized();
    config.os = target.os();
    config.architecture = target.architecture();
    config.variant = target.variant();
    bool has_path = false;
    for (const std::string& e : config.config.env) {
        has_path = has_path || e.starts_with("PATH=");
    }
    if (!has_path && target.os() != "windows") {
        config.config.env.push_back("PATH=" + std::string(kDefaultPath));
    }
    state.config = std::move(config);
    const std::string repository = ref.name();
    for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
        LayerInfo layer;
        layer.blob = manifest.layers[i];
        layer.diff_id = state.config.rootfs.diff_ids[i];
        layer.source_repository = repository;
        state.layers.push_back(std::move(layer));
    }
    state.base_name = ref.to_string();
    state.base_digest = top.digest;
    state.base_history = state.config.history.size();
    state.key = KeyBuilder("from").add(manifest_desc.digest).add(target.to_string()).finish();
    return state;
}

ImageState scratch_state(const Platform& platform) {
    const Platform target = platform.normalized();
    ImageState state;
    state.config.os = target.os();
    state.config.architecture = target.architecture();
    state.config.variant = target.variant();
    state.config.config.working_dir = "/";
    if (target.os() != "windows") {
        state.config.config.env.push_back("PATH=" + std::string(kDefaultPath));
    }
    state.key = KeyBuilder("scratch").add(target.to_string()).finish();
    return state;
}

}  // namespace xarch::solver
