// SPDX-License-Identifier: Apache-2.0
// xarch::Descriptor: what an OCI document says about a piece of content (media type, digest,
// size, where else to get it, annotations, platform), the media types of the OCI image spec and
// of Docker's schema 2, and the pre-defined annotation keys.
#pragma once

#include <xarch/digest.hpp>
#include <xarch/platform.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch {

namespace media_type {

// OCI image spec (media-types.md).
inline constexpr std::string_view kOciDescriptor = "application/vnd.oci.descriptor.v1+json";
inline constexpr std::string_view kOciLayoutHeader = "application/vnd.oci.layout.header.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
// The two-byte `{}` blob that artifacts use as config and placeholder layer.
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistributable =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciLayerNondistributableGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciLayerNondistributableZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

// Docker image manifest v2 schema 2 (what `docker push` writes).
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerZstd =
    "application/vnd.docker.image.rootfs.diff.tar.zstd";
// A layer that registries do not store; its descriptor lists `urls` to fetch it from.
inline constexpr std::string_view kDockerForeignLayer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
// Schema 1 manifests: recognised only to refuse them with a clear message.
inline constexpr std::string_view kDockerManifestSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerManifestSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// An image manifest: OCI or Docker schema 2.
bool is_manifest(std::string_view media_type) noexcept;
// An index: OCI image index or Docker manifest list.
bool is_index(std::string_view media_type) noexcept;
// A filesystem layer of the types above (OCI tar/gzip/zstd and their nondistributable forms,
// Docker tar/gzip/zstd and foreign).
bool is_layer(std::string_view media_type) noexcept;
// An image config: OCI or Docker.
bool is_config(std::string_view media_type) noexcept;
// A layer that is not to be pushed or archived along with the image (OCI nondistributable,
// Docker foreign); it may legitimately be missing from a layout.
bool is_nondistributable(std::string_view media_type) noexcept;
// Matches the RFC 6838 pattern of the OCI schemas: type "/" subtype, each starting with a letter
// or digit, at most 127 characters from [A-Za-z0-9!#$&^_.+-].
bool is_well_formed(std::string_view media_type) noexcept;

}  // namespace media_type

namespace annotation {

// Pre-defined annotation keys (image-spec annotations.md), those xarch writes or reads.
inline constexpr std::string_view kCreated = "org.opencontainers.image.created";
inline constexpr std::string_view kAuthors = "org.opencontainers.image.authors";
inline constexpr std::string_view kUrl = "org.opencontainers.image.url";
inline constexpr std::string_view kSource = "org.opencontainers.image.source";
inline constexpr std::string_view kVersion = "org.opencontainers.image.version";
inline constexpr std::string_view kRevision = "org.opencontainers.image.revision";
inline constexpr std::string_view kTitle = "org.opencontainers.image.title";
inline constexpr std::string_view kDescription = "org.opencontainers.image.description";
// The name of a manifest in an OCI layout's index.json (a tag, "latest").
inline constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kBaseName = "org.opencontainers.image.base.name";
inline constexpr std::string_view kBaseDigest = "org.opencontainers.image.base.digest";

}  // namespace annotation

// How closely the parse functions hold a document to the OCI JSON schemas.
enum class Validation {
    // What registries and runtimes accept (the default, for documents read from elsewhere): the
    // schemas' types, required fields, patterns and formats, but a JSON null counts as an absent
    // optional field (Go's encoding/json writes nulls, e.g. Docker's `"Env": null`) and an image
    // manifest may have no layers (BuildKit writes `"layers": []` for a FROM scratch image with
    // no filesystem change).
    kCompatible = 0,
    // Everything the schemas require, as image-spec's own validator judges documents: for
    // checking what xarch writes, and for conformance.
    kSchema = 1,
};

struct Descriptor {
    std::string media_type;
    Digest digest;
    std::int64_t size = 0;
    // Other places to fetch the content from (foreign layers).
    std::vector<std::string> urls;
    // Ordered by key, so that serializing is deterministic.
    std::map<std::string, std::string> annotations;
    // In an index: which platform the manifest is for.
    std::optional<Platform> platform;
    std::string artifact_type;
    // The content itself, embedded (decoded bytes; base64 in JSON).
    std::optional<std::string> data;

    // media_type with the digest and size of `content`; the content is not embedded.
    static Descriptor of(std::string media_type, std::string_view content);

    // Compact JSON with the fields in image-spec's specs-go order (mediaType, digest, size, urls,
    // annotations, data, platform, artifactType), empty optional fields left out: the same model
    // always gives the same bytes.
    std::string serialize() const;

    friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

// A descriptor document (application/vnd.oci.descriptor.v1+json). Checks the required fields
// (mediaType, digest, size), their types and patterns, that urls are absolute URIs, that
// platform has os and architecture, and that embedded data is strict base64 matching size and
// digest. Unknown fields are ignored. Throws Error(kInvalidArgument) saying which field is wrong.
Descriptor parse_descriptor(std::string_view json, Validation validation = Validation::kCompatible);

}  // namespace xarch
