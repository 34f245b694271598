// SPDX-License-Identifier: Apache-2.0
// Media types and descriptors: the content-descriptor schema of image-spec, read with every check
// it makes, written in specs-go's field order.
#include "oci/formats.hpp"
#include "oci/internal.hpp"
#include "oci/json.hpp"
#include "util/base64.hpp"
#include "util/quote.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>

#include <initializer_list>
#include <string>
#include <utility>

namespace xarch {

namespace media_type {

namespace {

bool one_of(std::string_view value, std::initializer_list<std::string_view> options) {
    for (std::string_view option : options) {
        if (value == option) {
            return true;
        }
    }
    return false;
}

bool is_restricted_name_first(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_restricted_name_char(char c) {
    constexpr std::string_view kOthers = "!#$&^_.+-";
    return is_restricted_name_first(c) || kOthers.find(c) != std::string_view::npos;
}

// RFC 6838 restricted-name, at most 127 characters.
bool is_restricted_name(std::string_view name) {
    constexpr std::size_t kMaxName = 127;
    if (name.empty() || name.size() > kMaxName || !is_restricted_name_first(name[0])) {
        return false;
    }
    for (char c : name.substr(1)) {
        if (!is_restricted_name_char(c)) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool is_manifest(std::string_view media_type) noexcept {
    return one_of(media_type, {kOciManifest, kDockerManifest});
}

bool is_index(std::string_view media_type) noexcept {
    return one_of(media_type, {kOciIndex, kDockerManifestList});
}

bool is_layer(std::string_view media_type) noexcept {
    return one_of(media_type,
                  {kOciLayer, kOciLayerGzip, kOciLayerZstd, kOciLayerNondistributable,
                   kOciLayerNondistributableGzip, kOciLayerNondistributableZstd, kDockerLayer,
                   kDockerLayerGzip, kDockerLayerZstd, kDockerForeignLayer});
}

bool is_config(std::string_view media_type) noexcept {
    return one_of(media_type, {kOciConfig, kDockerConfig});
}

bool is_nondistributable(std::string_view media_type) noexcept {
    return one_of(media_type, {kOciLayerNondistributable, kOciLayerNondistributableGzip,
                               kOciLayerNondistributableZstd, kDockerForeignLayer});
}

bool is_well_formed(std::string_view media_type) noexcept {
    const std::size_t slash = media_type.find('/');
    return slash != std::string_view::npos && is_restricted_name(media_type.substr(0, slash)) &&
           is_restricted_name(media_type.substr(slash + 1));
}

}  // namespace media_type

Descriptor Descriptor::of(std::string media_type, std::string_view content) {
    Descriptor out;
    out.media_type = std::move(media_type);
    out.digest = Digest::of(content);
    out.size = static_cast<std::int64_t>(content.size());
    return out;
}

std::string Descriptor::serialize() const {
    oci::json::Writer writer;
    oci::write_descriptor(writer, *this);
    return writer.take();
}

Descriptor parse_descriptor(std::string_view json, Validation validation) {
    const oci::json::bj::value document = oci::json::parse_document(json, "descriptor");
    const oci::json::Reader reader("descriptor", validation);
    return oci::read_descriptor(reader, document, "");
}

namespace oci {

using json::join;
using json::bj::value;
using util::quote;

namespace {

std::string media_type_field(const json::Reader& reader,
                             const value& field,
                             const std::string& path) {
    std::string text = reader.string(field, path);
    if (!media_type::is_well_formed(text)) {
        reader.fail(path, "is not a media type (type/subtype, RFC 6838): " + quote(text));
    }
    return text;
}

Platform read_platform(const json::Reader& reader, const value& field, const std::string& path) {
    const auto& object = reader.object(field, path);
    const auto text = [&](std::string_view key) {
        const value* v = reader.optional(object, key, path);
        return v == nullptr ? std::string() : reader.string(*v, join(path, key));
    };
    std::string architecture =
        reader.string(reader.required(object, "architecture", path), join(path, "architecture"));
    std::string os = reader.string(reader.required(object, "os", path), join(path, "os"));
    std::vector<std::string> features;
    if (const value* v = reader.optional(object, "os.features", path)) {
        features = reader.strings(*v, join(path, "os.features"));
    }
    return Platform(std::move(os), std::move(architecture), text("variant"), text("os.version"),
                    std::move(features));
}

}  // namespace

Descriptor read_descriptor(const json::Reader& reader, const value& field, std::string_view path) {
    const auto& object = reader.object(field, path);
    Descriptor out;
    out.media_type = media_type_field(reader, reader.required(object, "mediaType", path),
                                      join(path, "mediaType"));

    const std::string digest_path = join(path, "digest");
    const std::string digest = reader.string(reader.required(object, "digest", path), digest_path);
    try {
        out.digest = Digest::parse_any_algorithm(digest);
    } catch (const Error& e) {
        reader.fail(digest_path, std::string("holds an ") + e.what());
    }

    const std::string size_path = join(path, "size");
    out.size = reader.integer(reader.required(object, "size", path), size_path);
    if (out.size < 0) {
        reader.fail(size_path, "must not be negative, got " + std::to_string(out.size));
    }

    if (const value* v = reader.optional(object, "urls", path)) {
        const std::string urls_path = join(path, "urls");
        out.urls = reader.strings(*v, urls_path);
        for (std::size_t i = 0; i < out.urls.size(); ++i) {
            if (!is_absolute_uri(out.urls[i])) {
                reader.fail(join(urls_path, i), "is not an absolute URI: " + quote(out.urls[i]));
            }
        }
    }
    if (const value* v = reader.optional(object, "annotations", path)) {
        out.annotations = reader.string_map(*v, join(path, "annotations"));
    }
    if (const value* v = reader.optional(object, "data", path)) {
        const std::string data_path = join(path, "data");
        std::optional<std::string> data = util::base64_decode(reader.string(*v, data_path));
        if (!data) {
            reader.fail(data_path, "is not padded base64");
        }
        // The spec has the embedded bytes be the content itself; a descriptor whose data
        // disagrees with its own size or digest cannot be trusted either way.
        if (static_cast<std::int64_t>(data->size()) != out.size) {
            reader.fail(data_path, "holds " + std::to_string(data->size()) +
                                       " bytes but size says " + std::to_string(out.size));
        }
        if (const auto algorithm = out.digest.registered_algorithm()) {
            if (Digest::of(*data, *algorithm) != out.digest) {
                reader.fail(data_path, "does not match the digest " + out.digest.to_string());
            }
        }
        out.data = std::move(data);
    }
    if (const value* v = reader.optional(object, "platform", path)) {
        out.platform = read_platform(reader, *v, join(path, "platform"));
    }
    if (const value* v = reader.optional(object, "artifactType", path)) {
        out.artifact_type = media_type_field(reader, *v, join(path, "artifactType"));
    }
    return out;
}

void write_descriptor(json::Writer& writer, const Descriptor& descriptor) {
    writer.begin_object();
    writer.key("mediaType");
    writer.string(descriptor.media_type);
    writer.key("digest");
    writer.string(descriptor.digest.to_string());
    writer.key("size");
    writer.integer(descriptor.size);
    if (!descriptor.urls.empty()) {
        writer.key("urls");
        writer.strings(descriptor.urls);
    }
    if (!descriptor.annotations.empty()) {
        writer.key("annotations");
        writer.string_map(descriptor.annotations);
    }
    if (descriptor.data) {
        writer.key("data");
        writer.string(util::base64_encode(*descriptor.data));
    }
    if (descriptor.platform) {
        const Platform& p = *descriptor.platform;
        writer.key("platform");
        writer.begin_object();
        writer.key("architecture");
        writer.string(p.architecture());
        writer.key("os");
        writer.string(p.os());
        if (!p.os_version().empty()) {
            writer.key("os.version");
            writer.string(p.os_version());
        }
        if (!p.os_features().empty()) {
            writer.key("os.features");
            writer.strings(p.os_features());
        }
        if (!p.variant().empty()) {
            writer.key("variant");
            writer.string(p.variant());
        }
        writer.end_object();
    }
    if (!descriptor.artifact_type.empty()) {
        writer.key("artifactType");
        writer.string(descriptor.artifact_type);
    }
    writer.end_object();
}

}  // namespace oci

}  // namespace xarch
