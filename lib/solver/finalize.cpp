// SPDX-License-Identifier: Apache-2.0
// Image documents from final states: history times, config, manifest, index, annotations.
#include "finalize.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <ctime>

namespace xarch::solver {

namespace {

void apply(std::map<std::string, std::string>& to,
           const std::vector<BuildAnnotation>& annotations,
           BuildAnnotation::Target target,
           const Platform* platform) {
    for (const BuildAnnotation& a : annotations) {
        if (a.target != target) {
            continue;
        }
        if (a.platform && (platform == nullptr || a.platform->normalized().to_string() !=
                                                      platform->normalized().to_string())) {
            continue;
        }
        to[a.key] = a.value;
    }
}

// normalizeLayersAndHistory: a history entry without a time takes the time of the first new
// layer after it, or failing that the last time before it.
void fill_history_times(std::vector<History>& history) {
    std::string created;
    bool missing = false;
    for (const History& h : history) {
        if (!h.created.empty()) {
            created = h.created;
            if (missing) {
                break;
            }
        } else {
            missing = true;
        }
    }
    missing = false;
    for (History& h : history) {
        if (!h.created.empty()) {
            if (missing) {
                created = h.created;
            }
        } else {
            missing = true;
            h.created = created;
        }
    }
}

// A base image's layer keeps its bytes; only the type names change between OCI and Docker
// (BuildKit's ConvertAllLayerMediaTypes).
Descriptor with_layer_media_type(Descriptor layer, bool oci) {
    static const std::pair<std::string_view, std::string_view> kPairs[] = {
        {media_type::kOciLayerGzip, media_type::kDockerLayerGzip},
        {media_type::kOciLayerZstd, media_type::kDockerLayerZstd},
        {media_type::kOciLayer, media_type::kDockerLayer},
    };
    for (const auto& [oci_type, docker_type] : kPairs) {
        if (oci && layer.media_type == docker_type) {
            layer.media_type = std::string(oci_type);
        } else if (!oci && layer.media_type == oci_type) {
            layer.media_type = std::string(docker_type);
        }
    }
    return layer;
}

}  // namespace

std::vector<BuildAnnotation> BuildAnnotation::parse(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid annotation " + util::quote(text) + ": expected KEY=VALUE");
    }
    std::string_view left = text.substr(0, eq);
    const std::string value(text.substr(eq + 1));
    std::string_view types;
    std::string_view key = left;
    // The type part ends at the last ':' outside a [platform] (keys may hold ':' themselves
    // only after a type, as buildx splits).
    if (const auto colon = left.find(':'); colon != std::string_view::npos) {
        const std::string_view head = left.substr(0, colon);
        const std::string_view bare = head.substr(0, head.find('['));
        std::size_t start = 0;
        bool known = !bare.empty();
        while (known && start <= bare.size()) {
            const auto comma = bare.find(',', start);
            const std::string_view t = bare.substr(start, comma - start);
            known = t == "manifest" || t == "index" || t == "manifest-descriptor" ||
                    t == "index-descriptor";
            if (comma == std::string_view::npos) {
                break;
            }
            start = comma + 1;
        }
        if (known) {
            types = head;
            key = left.substr(colon + 1);
        }
    }
    if (key.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid annotation " + util::quote(text) + ": the key is empty");
    }
    std::optional<Platform> platform;
    if (const auto open = types.find('['); open != std::string_view::npos) {
        const auto close = types.find(']', open);
        if (close == std::string_view::npos || close != types.size() - 1) {
            throw Error(ErrorCode::kInvalidArgument,
                        "invalid annotation " + util::quote(text) +
                            ": the platform must be written TYPE[PLATFORM]:KEY=VALUE");
        }
        platform = Platform::parse(types.substr(open + 1, close - open - 1));
        types = types.substr(0, open);
    }
    std::vector<BuildAnnotation> out;
    if (types.empty()) {
        types = "manifest";
    }
    std::size_t start = 0;
    while (start <= types.size()) {
        const auto comma = types.find(',', start);
        const std::string_view t = types.substr(start, comma - start);
        BuildAnnotation a;
        a.platform = platform;
        a.key = std::string(key);
        a.value = value;
        if (t == "manifest") {
            a.target = Target::kManifest;
        } else if (t == "index") {
            a.target = Target::kIndex;
        } else if (t == "manifest-descriptor") {
            a.target = Target::kManifestDescriptor;
        } else {
            a.target = Target::kIndexDescriptor;
        }
        out.push_back(std::move(a));
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

std::string format_time(std::chrono::system_clock::time_point time) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(ns / 1000000000);
    long fraction = static_cast<long>(ns % 1000000000);
    if (fraction < 0) {
        fraction += 1000000000;
        --seconds;
    }
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out = buf;
    if (fraction != 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09ld", fraction);
        std::string f = frac;
        while (f.back() == '0') {
            f.pop_back();
        }
        out += f;
    }
    return out + "Z";
}

std::string format_epoch(std::int64_t seconds) {
    return format_time(std::chrono::system_clock::time_point(std::chrono::seconds(seconds)));
}

FinalImage finalize_image(const ImageState& state,
                          const Platform& platform,
                          std::optional<std::int64_t> epoch,
                          const std::vector<BuildAnnotation>& annotations,
                          bool oci_media_types,
                          OciLayout& store) {
    ImageConfig config = state.config;
    fill_history_times(config.history);
    if (epoch) {
        // patchImageConfig: history past the base image's is clamped to the epoch (all of ours
        // was made now, after it).
        const std::string at = format_epoch(*epoch);
        for (std::size_t i = state.base_history; i < config.history.size(); ++i) {
            config.history[i].created = at;
        }
    }
    config.created.clear();
    for (const History& h : config.history) {
        if (!h.created.empty()) {
            config.created = h.created;
        }
    }
    if (epoch) {
        config.created = format_epoch(*epoch);
    }
    FinalImage out;
    out.platform = platform.normalized();
    out.config = oci_media_types
                     ? config.to_raw()
                     : RawContent::of(config.serialize(), std::string(media_type::kDockerConfig));
    out.layers = state.layers;
    store.write_blob(out.config.descriptor(), out.config.bytes);

    Manifest manifest;
    if (!oci_media_types) {
        manifest.media_type = std::string(media_type::kDockerManifest);
    }
    manifest.config = out.config.descriptor();
    for (const LayerInfo& l : state.layers) {
        manifest.layers.push_back(with_layer_media_type(l.blob, oci_media_types));
    }
    for (std::size_t i = 0; i < out.layers.size(); ++i) {
        out.layers[i].blob = manifest.layers[i];
    }
    apply(manifest.annotations, annotations, BuildAnnotation::Target::kManifest, &out.platform);
    out.manifest = manifest.to_raw();
    store.write_blob(out.manifest.descriptor(), out.manifest.bytes);
    return out;
}

RawContent make_index(const std::vector<FinalImage>& images,
                      const std::vector<BuildAnnotation>& annotations,
                      bool oci_media_types,
                      OciLayout& store) {
    ImageIndex index;
    if (!oci_media_types) {
        index.media_type = std::string(media_type::kDockerManifestList);
    }
    for (const FinalImage& image : images) {
        Descriptor d = image.manifest.descriptor();
        d.platform = image.platform;
        apply(d.annotations, annotations, BuildAnnotation::Target::kManifestDescriptor,
              &image.platform);
        index.manifests.push_back(std::move(d));
    }
    apply(index.annotations, annotations, BuildAnnotation::Target::kIndex, nullptr);
    RawContent raw = index.to_raw();
    if (!oci_media_types) {
        raw = RawContent::of(index.serialize(), std::string(media_type::kDockerManifestList));
    }
    store.write_blob(raw.descriptor(), raw.bytes);
    return raw;
}

}  // namespace xarch::solver
