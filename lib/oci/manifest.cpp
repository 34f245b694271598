// SPDX-License-Identifier: Apache-2.0
// Image manifests and indexes: parsed with image-spec's schema checks plus containerd's check
// that the media type and the body agree; serialized in specs-go's field order.
#include "oci/internal.hpp"
#include "oci/json.hpp"
#include "util/quote.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace xarch {

using oci::json::join;
using oci::json::bj::value;
using util::quote;

// ---- RawContent ----

RawContent RawContent::of(std::string bytes, std::string media_type, DigestAlgorithm algorithm) {
    RawContent out;
    out.digest = Digest::of(bytes, algorithm);
    out.bytes = std::move(bytes);
    out.media_type = std::move(media_type);
    return out;
}

Descriptor RawContent::descriptor() const {
    Descriptor out;
    out.media_type = media_type;
    out.digest = digest;
    out.size = static_cast<std::int64_t>(bytes.size());
    return out;
}

void RawContent::verify() const {
    DigestVerifier verifier(digest);
    verifier.update(bytes);
    verifier.finish();
}

namespace {

enum class Kind { kManifest, kIndex };

std::string_view kind_name(Kind kind) {
    return kind == Kind::kManifest ? "manifest" : "index";
}

bool is_schema1(std::string_view media_type) {
    return media_type == media_type::kDockerManifestSchema1 ||
           media_type == media_type::kDockerManifestSchema1Signed;
}

bool fits(Kind kind, std::string_view media_type) {
    return kind == Kind::kManifest ? media_type::is_manifest(media_type)
                                   : media_type::is_index(media_type);
}

[[noreturn]] void unsupported_schema1() {
    throw Error(ErrorCode::kUnsupported,
                "Docker image manifest schema 1 is not supported (deprecated since 2017); push "
                "the image again with a current client to get schema 2 or OCI");
}

std::string expected_types(Kind kind) {
    return kind == Kind::kManifest ? std::string(media_type::kOciManifest) + " or " +
                                         std::string(media_type::kDockerManifest)
                                   : std::string(media_type::kOciIndex) + " or " +
                                         std::string(media_type::kDockerManifestList);
}

// The checks shared by manifests and indexes: schemaVersion 2, and a media type (the body's and
// the one it was served as) that names this kind of document. Returns the media type.
std::string check_header(const oci::json::Reader& reader,
                         const oci::json::bj::object& object,
                         Kind kind,
                         std::string_view served) {
    const std::string name(kind_name(kind));
    if (!served.empty()) {
        if (kind == Kind::kManifest && is_schema1(served)) {
            unsupported_schema1();
        }
        if (!fits(kind, served)) {
            throw Error(ErrorCode::kInvalidArgument, "invalid " + name + ": it was served as " +
                                                         quote(served) +
                                                         ", which is not an image " + name +
                                                         " type (" + expected_types(kind) + ")");
        }
    }

    const value& version = reader.required(object, "schemaVersion", "");
    const std::int64_t schema_version = reader.integer(version, "schemaVersion");
    if (schema_version == 1 && kind == Kind::kManifest) {
        unsupported_schema1();
    }
    if (schema_version != 2) {
        reader.fail("schemaVersion", "must be 2, got " + std::to_string(schema_version));
    }

    std::string body_type;
    if (const value* v = reader.optional(object, "mediaType", "")) {
        body_type = reader.string(*v, "mediaType");
        if (kind == Kind::kManifest && is_schema1(body_type)) {
            unsupported_schema1();
        }
        if (!fits(kind, body_type)) {
            const std::string other = kind == Kind::kManifest && media_type::is_index(body_type)
                                          ? " (the document is an index)"
                                      : kind == Kind::kIndex && media_type::is_manifest(body_type)
                                          ? " (the document is a manifest)"
                                          : "";
            reader.fail("mediaType", "is " + quote(body_type) + ", not an image " + name +
                                         " type (" + expected_types(kind) + ")" + other);
        }
        if (!served.empty() && body_type != served) {
            reader.fail("mediaType", "is " + quote(body_type) + " but the document was served as " +
                                         quote(served));
        }
    }

    // containerd's validateMediaType: the fields of the other kind of document give it away,
    // whatever the media type says.
    if (kind == Kind::kManifest && object.contains("manifests")) {
        reader.fail("manifests", "is a field of an index: the document is not a manifest");
    }
    if (kind == Kind::kIndex) {
        for (std::string_view key : {"config", "layers"}) {
            if (object.contains(key)) {
                reader.fail(key, "is a field of a manifest: the document is not an index");
            }
        }
    }
    return body_type.empty() ? std::string(served) : body_type;
}

std::string artifact_type(const oci::json::Reader& reader, const oci::json::bj::object& object) {
    const value* v = reader.optional(object, "artifactType", "");
    if (v == nullptr) {
        return {};
    }
    std::string text = reader.string(*v, "artifactType");
    if (!media_type::is_well_formed(text)) {
        reader.fail("artifactType", "is not a media type (type/subtype, RFC 6838): " + quote(text));
    }
    return text;
}

// A required array of descriptors. Go reads a null one as empty, and so does kCompatible.
std::vector<Descriptor> descriptors(const oci::json::Reader& reader,
                                    const oci::json::bj::object& object,
                                    std::string_view key) {
    const value* v = object.if_contains(key);
    if (v == nullptr) {
        reader.fail(key, "is required");
    }
    std::vector<Descriptor> out;
    if (v->is_null() && !reader.schema()) {
        return out;
    }
    const auto& items = reader.array(*v, key);
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        out.push_back(oci::read_descriptor(reader, items[i], join(key, i)));
    }
    return out;
}

void read_common(const oci::json::Reader& reader,
                 const oci::json::bj::object& object,
                 std::optional<Descriptor>& subject,
                 std::map<std::string, std::string>& annotations) {
    if (const value* v = reader.optional(object, "subject", "")) {
        subject = oci::read_descriptor(reader, *v, "subject");
    }
    if (const value* v = reader.optional(object, "annotations", "")) {
        annotations = reader.string_map(*v, "annotations");
    }
}

void write_header(oci::json::Writer& writer,
                  const std::string& media_type,
                  const std::string& artifact_type) {
    writer.key("schemaVersion");
    writer.integer(2);
    if (!media_type.empty()) {
        writer.key("mediaType");
        writer.string(media_type);
    }
    if (!artifact_type.empty()) {
        writer.key("artifactType");
        writer.string(artifact_type);
    }
}

void write_tail(oci::json::Writer& writer,
                const std::optional<Descriptor>& subject,
                const std::map<std::string, std::string>& annotations) {
    if (subject) {
        writer.key("subject");
        oci::write_descriptor(writer, *subject);
    }
    if (!annotations.empty()) {
        writer.key("annotations");
        writer.string_map(annotations);
    }
}

}  // namespace

// ---- Manifest ----

Manifest parse_manifest(std::string_view json, std::string_view media_type, Validation validation) {
    const value document = oci::json::parse_document(json, "manifest");
    const oci::json::Reader reader("manifest", validation);
    const auto& object = reader.object(document, "");
    Manifest out;
    out.media_type = check_header(reader, object, Kind::kManifest, media_type);
    out.artifact_type = artifact_type(reader, object);
    out.config = oci::read_descriptor(reader, reader.required(object, "config", ""), "config");
    out.layers = descriptors(reader, object, "layers");
    if (reader.schema() && out.layers.empty()) {
        reader.fail("layers", "must have at least one entry");
    }
    read_common(reader, object, out.subject, out.annotations);
    return out;
}

std::string Manifest::serialize() const {
    oci::json::Writer writer;
    writer.begin_object();
    write_header(writer, media_type, artifact_type);
    writer.key("config");
    oci::write_descriptor(writer, config);
    writer.key("layers");
    writer.begin_array();
    for (const Descriptor& layer : layers) {
        oci::write_descriptor(writer, layer);
    }
    writer.end_array();
    write_tail(writer, subject, annotations);
    writer.end_object();
    return writer.take();
}

RawContent Manifest::to_raw() const {
    return RawContent::of(serialize(),
                          media_type.empty() ? std::string(media_type::kOciManifest) : media_type);
}

// ---- ImageIndex ----

ImageIndex parse_index(std::string_view json, std::string_view media_type, Validation validation) {
    const value document = oci::json::parse_document(json, "index");
    const oci::json::Reader reader("index", validation);
    const auto& object = reader.object(document, "");
    ImageIndex out;
    out.media_type = check_header(reader, object, Kind::kIndex, media_type);
    out.artifact_type = artifact_type(reader, object);
    out.manifests = descriptors(reader, object, "manifests");
    read_common(reader, object, out.subject, out.annotations);
    return out;
}

std::string ImageIndex::serialize() const {
    oci::json::Writer writer;
    writer.begin_object();
    write_header(writer, media_type, artifact_type);
    writer.key("manifests");
    writer.begin_array();
    for (const Descriptor& manifest : manifests) {
        oci::write_descriptor(writer, manifest);
    }
    writer.end_array();
    write_tail(writer, subject, annotations);
    writer.end_object();
    return writer.take();
}

RawContent ImageIndex::to_raw() const {
    return RawContent::of(serialize(),
                          media_type.empty() ? std::string(media_type::kOciIndex) : media_type);
}

namespace {

const Descriptor& find_in(const ImageIndex& index,
                          const PlatformMatcher& matcher,
                          const std::string& wanted,
                          std::string_view index_name) {
    std::vector<std::size_t> positions;
    std::vector<Platform> candidates;
    for (std::size_t i = 0; i < index.manifests.size(); ++i) {
        if (index.manifests[i].platform) {
            positions.push_back(i);
            candidates.push_back(*index.manifests[i].platform);
        }
    }
    if (const std::optional<std::size_t> best = matcher.best(candidates)) {
        return index.manifests[positions[*best]];
    }
    // BuildKit lists its attestation manifests as unknown/unknown; they are not images to offer.
    std::vector<std::string> available;
    for (const Platform& p : candidates) {
        std::string name = p.to_string();
        if (name != "unknown/unknown" &&
            std::find(available.begin(), available.end(), name) == available.end()) {
            available.push_back(std::move(name));
        }
    }
    std::string message = "no manifest for " + wanted + " in ";
    message += index_name.empty() ? std::string("the index") : "index " + std::string(index_name);
    if (available.empty()) {
        message += "; it has no platform-specific manifests";
    } else {
        message += "; it has ";
        for (std::size_t i = 0; i < available.size(); ++i) {
            message += (i == 0 ? "" : ", ") + available[i];
        }
    }
    throw Error(ErrorCode::kNotFound, message);
}

}  // namespace

const Descriptor& ImageIndex::find(const Platform& platform, std::string_view index_name) const {
    return find_in(*this, PlatformMatcher::only(platform), platform.to_string(), index_name);
}

const Descriptor& ImageIndex::find(const PlatformMatcher& matcher,
                                   std::string_view index_name) const {
    return find_in(*this, matcher, "the requested platforms", index_name);
}

}  // namespace xarch
