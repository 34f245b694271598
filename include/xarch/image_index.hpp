// SPDX-License-Identifier: Apache-2.0
// The OCI documents as value types: image manifest, image index and image config (Docker's
// schema 2 forms too), parsed with validation and serialized deterministically; and RawContent,
// the exact bytes of a document, which are what its digest is over.
#pragma once

#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/platform.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace xarch {

// A document exactly as fetched or written. Its digest is over `bytes`, never over a
// re-serialized model: re-encoding JSON written by another tool changes the bytes.
struct RawContent {
    std::string bytes;
    std::string media_type;
    Digest digest;

    // `bytes` with their digest computed.
    static RawContent of(std::string bytes,
                         std::string media_type,
                         DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
    // media_type, digest and the size of bytes.
    Descriptor descriptor() const;
    // Throws Error(kDigestMismatch) when digest is not the digest of bytes.
    void verify() const;

    friend bool operator==(const RawContent&, const RawContent&) = default;
};

// Fields of a JSON object that this version of xarch does not model, kept so that parsing and
// serializing again loses nothing: key -> the value as compact JSON text. Serializing writes them
// after the known fields, in key order; a key that names a known field is ignored.
using RawJsonFields = std::map<std::string, std::string>;

// An image manifest: OCI (application/vnd.oci.image.manifest.v1+json) or Docker schema 2.
// schemaVersion is always 2.
struct Manifest {
    // "" when the document has none (OCI allows that); serialize() then writes none.
    std::string media_type = std::string(media_type::kOciManifest);
    std::string artifact_type;
    Descriptor config;
    std::vector<Descriptor> layers;
    std::optional<Descriptor> subject;
    std::map<std::string, std::string> annotations;

    // Compact JSON, keys in specs-go order (schemaVersion, mediaType, artifactType, config,
    // layers, subject, annotations), Go's escaping: the same model always gives the same bytes,
    // and the bytes BuildKit would write for it.
    std::string serialize() const;
    // serialize() with its digest, under media_type (the OCI type when media_type is empty).
    RawContent to_raw() const;

    friend bool operator==(const Manifest&, const Manifest&) = default;
};

// An image index: OCI (application/vnd.oci.image.index.v1+json) or Docker manifest list.
struct ImageIndex {
    std::string media_type = std::string(media_type::kOciIndex);
    std::string artifact_type;
    std::vector<Descriptor> manifests;
    std::optional<Descriptor> subject;
    std::map<std::string, std::string> annotations;

    // The manifest that `platform` runs best (PlatformMatcher::only(platform): linux/arm64 also
    // takes linux/arm/v8 ...). Throws Error(kNotFound) naming the platform and listing those the
    // index has: `no manifest for linux/s390x in index sha256:...; it has linux/amd64,
    // linux/arm64, linux/arm/v7`. `index_name` (a reference or digest) is how the message names
    // the index; manifests without a platform never match.
    const Descriptor& find(const Platform& platform, std::string_view index_name = {}) const;
    // The manifest `matcher` prefers among those it accepts; Error(kNotFound) as above.
    const Descriptor& find(const PlatformMatcher& matcher, std::string_view index_name = {}) const;

    // Compact JSON, keys in specs-go order (schemaVersion, mediaType, artifactType, manifests,
    // subject, annotations); deterministic.
    std::string serialize() const;
    RawContent to_raw() const;

    friend bool operator==(const ImageIndex&, const ImageIndex&) = default;
};

// Docker's HEALTHCHECK settings in an image config (`Healthcheck`).
struct HealthConfig {
    // {"NONE"}, {"CMD", args...} or {"CMD-SHELL", command}; empty means inherit.
    std::vector<std::string> test;
    std::chrono::nanoseconds interval{0};
    std::chrono::nanoseconds timeout{0};
    std::chrono::nanoseconds start_period{0};
    std::chrono::nanoseconds start_interval{0};
    int retries = 0;
    RawJsonFields extra;

    friend bool operator==(const HealthConfig&, const HealthConfig&) = default;
};

// The execution parameters of an image config (its `config` object), with Docker's additions.
struct ContainerConfig {
    std::string user;
    // "8080/tcp", "53/udp".
    std::set<std::string> exposed_ports;
    // "NAME=value".
    std::vector<std::string> env;
    // nullopt: not set (absent or null); an empty list is kept, since `ENTRYPOINT []` means
    // "reset" to Docker.
    std::optional<std::vector<std::string>> entrypoint;
    std::optional<std::vector<std::string>> cmd;
    std::set<std::string> volumes;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::string stop_signal;
    bool args_escaped = false;
    std::optional<HealthConfig> healthcheck;
    std::vector<std::string> on_build;
    std::optional<std::vector<std::string>> shell;
    // Hostname, Domainname, Image, ... as Docker writes them.
    RawJsonFields extra;

    friend bool operator==(const ContainerConfig&, const ContainerConfig&) = default;
};

struct RootFs {
    std::string type = "layers";
    // The digest of each uncompressed layer, base first.
    std::vector<Digest> diff_ids;
    RawJsonFields extra;

    friend bool operator==(const RootFs&, const RootFs&) = default;
};

struct History {
    // RFC 3339 ("2015-10-31T22:22:54.690851953Z"); "" when absent.
    std::string created;
    std::string created_by;
    std::string author;
    std::string comment;
    // The step changed no files, so it has no entry in rootfs.diff_ids.
    bool empty_layer = false;
    RawJsonFields extra;

    friend bool operator==(const History&, const History&) = default;
};

// An image config (application/vnd.oci.image.config.v1+json or Docker's container image v1).
struct ImageConfig {
    // RFC 3339; "" when absent.
    std::string created;
    std::string author;
    std::string architecture;
    std::string os;
    std::string os_version;
    std::vector<std::string> os_features;
    std::string variant;
    ContainerConfig config;
    RootFs rootfs;
    std::vector<History> history;
    // container, container_config, docker_version, moby.buildkit.* ...
    RawJsonFields extra;

    // os, architecture, variant, os.version and os.features as a Platform (not normalized).
    Platform platform() const;

    // Compact JSON, keys in specs-go order (created, author, architecture, os, os.version,
    // os.features, variant, config, rootfs, history) then the extra fields by key; `config` is
    // left out when it has nothing set. Deterministic.
    std::string serialize() const;
    RawContent to_raw() const;

    friend bool operator==(const ImageConfig&, const ImageConfig&) = default;
};

// Parse an image manifest. `media_type` is what the document was served or described as (a
// Content-Type, a descriptor's mediaType), "" when unknown. Throws Error(kInvalidArgument) for
// malformed JSON, a missing or mistyped field, schemaVersion other than 2, a bad descriptor, and
// a media type that contradicts the body: a mediaType field that is not a manifest type or
// differs from `media_type`, a `media_type` that is not a manifest type, or a `manifests` field
// (an index's). Schema 1 manifests are refused as unsupported (Error(kUnsupported)).
Manifest parse_manifest(std::string_view json,
                        std::string_view media_type = {},
                        Validation validation = Validation::kCompatible);

// Parse an image index; as parse_manifest, with `config` or `layers` fields as the contradiction.
ImageIndex parse_index(std::string_view json,
                       std::string_view media_type = {},
                       Validation validation = Validation::kCompatible);

// Parse an image config: architecture, os and rootfs (type "layers", diff_ids) are required;
// created and history[].created must be RFC 3339; every Env entry must be NAME=value. Fields
// xarch does not model are kept in the `extra` maps. Throws Error(kInvalidArgument).
ImageConfig parse_config(std::string_view json, Validation validation = Validation::kCompatible);

}  // namespace xarch
