// SPDX-License-Identifier: Apache-2.0
// xarch::Registry: an OCI distribution client (the operations of go-containerregistry's `remote`
// package and skopeo): resolve and fetch manifests, stream and verify blobs, upload (monolithic,
// chunked, cross-repository mount), tags, catalog, delete, referrers; and the high-level push,
// pull, copy, create_index and inspect built on them.
#pragma once

#include <xarch/credentials.hpp>
#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/image_index.hpp>
#include <xarch/oci_layout.hpp>
#include <xarch/platform.hpp>
#include <xarch/reference.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch {

/// Bytes moved for one blob or manifest. `total` is nullopt when the size is unknown.
struct TransferProgress {
    Digest digest;
    std::uint64_t done = 0;
    std::optional<std::uint64_t> total;
};

/// Returning false cancels the operation (it then throws Error(kCancelled)). For one operation
/// the callback is never called concurrently, but it may run on a library thread.
using TransferProgressCallback = std::function<bool(const TransferProgress&)>;

struct RegistryOptions {
    /// Credentials per registry; null: anonymous everywhere.
    CredentialsLookup credentials = docker_config_keychain();
    /// Registries ("host:port" or "host") reached like dockerd's --insecure-registry. Loopback
    /// registries always are.
    std::vector<std::string> insecure_registries;
    /// A PEM file of CAs trusted in addition to the system's.
    std::string ca_bundle;
    /// docker's certs.d folder (per-host CAs and client certificates).
    std::string certs_dir = "/etc/docker/certs.d";
    /// Transfers at once (blobs pushed, pulled or copied in parallel).
    std::size_t jobs = 4;
    /// Attempts per request, the first included; 1 disables retries.
    int retry_attempts = 5;
    /// "" sends xarch/<version>.
    std::string user_agent;
    /// Blobs larger than this are uploaded in chunks (PATCH) and copied between registries in
    /// ranges of chunk_size; smaller ones in one request.
    std::int64_t chunk_threshold = std::int64_t{32} * 1024 * 1024;
    std::int64_t chunk_size = std::int64_t{8} * 1024 * 1024;
    TransferProgressCallback progress;
};

struct CopyOptions {
    /// The platforms to copy from an index; empty: the whole index, unchanged. With a subset, a
    /// new index listing only the chosen manifests is written under the destination.
    std::vector<Platform> platforms;
};

/// How push() finds blobs that are not in the layout: a build's base layers often are only in
/// the registry they came from.
struct PushOptions {
    /// A repository holding each such blob. On the destination's registry the blob is mounted
    /// from it (no bytes move); when the registry refuses the mount, or the repository is on
    /// another registry, the blob is streamed from there. Blobs present in the layout are
    /// mounted too when listed here, and uploaded from the layout when the mount is refused.
    std::map<Digest, Reference> mount_from;
    /// Bytes moved per blob for this push; null: RegistryOptions::progress. Returning false
    /// cancels the push.
    TransferProgressCallback progress;
};

/// An annotation of an index made by create_index(), as `buildx imagetools create --annotation`
/// takes it.
struct IndexAnnotation {
    /// false: on the index itself; true: on the descriptors of its manifests.
    bool on_descriptors = false;
    /// With on_descriptors: only the manifests of this platform (compared normalized).
    std::optional<Platform> platform;
    std::string key;
    std::string value;

    /// buildx's --annotation syntax: "KEY=VALUE" and "index:KEY=VALUE" for the index,
    /// "manifest-descriptor:KEY=VALUE" for every manifest,
    /// "manifest-descriptor[PLATFORM]:KEY=VALUE" for one platform's; several types may be given
    /// comma-separated ("index,manifest- descriptor:K=V"), giving one annotation each. Throws
    /// Error(kInvalidArgument) quoting the text: no '=', an empty key, another type (manifest,
    /// index-descriptor: buildx writes those only when building).
    static std::vector<IndexAnnotation> parse(std::string_view text);

    friend bool operator==(const IndexAnnotation&, const IndexAnnotation&) = default;
};

struct CreateIndexOptions {
    std::vector<IndexAnnotation> annotations;
    /// Make the index and push nothing (no manifest copied, no tag written).
    bool dry_run = false;
};

/// What inspect() found: the document exactly as served, and its parsed form.
struct InspectResult {
    Descriptor descriptor;
    RawContent raw;
    std::optional<ImageIndex> index;    // when raw is an index
    std::optional<Manifest> manifest;   // when raw is an image manifest
    std::optional<ImageConfig> config;  // the manifest's config, when it is an image config
};

/// A client for OCI distribution registries. Repositories are given as a Reference whose tag and
/// digest are ignored (Reference::parse_repository("localhost:5000/a/b")). Thread-safe: one
/// Registry may run many operations at once, sharing connections and tokens.
///
/// Errors: RegistryError/AuthError from the registry (kNotFound for a missing manifest),
/// Error(kDigestMismatch) for content that does not match its digest or size (never accepted or
/// stored), Error(kCancelled) when the progress callback returned false.
class Registry {
public:
    /// Throws Error(kInvalidArgument) when the CA bundle cannot be read.
    explicit Registry(RegistryOptions options = {});
    ~Registry();
    Registry(Registry&&) noexcept;
    Registry& operator=(Registry&&) noexcept;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // ---- manifests ----

    /// The descriptor of the manifest or index the reference names (HEAD; GET when the
    /// registry's HEAD lacks Docker-Content-Digest).
    Descriptor resolve(const Reference& ref);
    /// The exact bytes, the media type from Content-Type and the digest verified against the
    /// reference's digest or Docker-Content-Digest. At most 4 MiB.
    RawContent fetch_manifest(const Reference& ref);
    /// The manifest for `platform`: from an index (Error(kNotFound) listing the platforms it
    /// has), or the reference itself when it is a manifest whose config has that platform.
    Descriptor resolve_platform(const Reference& ref, const Platform& platform);
    /// Stores `content` under the reference's tag, or its digest (which must be content's).
    /// Verifies the digest the registry reports. A manifest with a `subject` that the registry
    /// does not acknowledge (no OCI-Subject header) is also added to the subject's referrers
    /// tag index (`<alg>-<hex>`), as the OCI distribution spec asks of clients.
    Descriptor push_manifest(const Reference& ref, const RawContent& content);
    /// Deletes the manifest (resolving a tag to its digest first, since registries delete by
    /// digest).
    void delete_manifest(const Reference& ref);

    // ---- blobs ----

    /// The whole blob, size and digest verified.
    std::string fetch_blob(const Reference& repository, const Descriptor& blob);
    /// The blob piece by piece; size and digest are verified as it arrives and at the end
    /// (Error(kDigestMismatch) after the last piece; the sink must not commit before return).
    void fetch_blob(const Reference& repository, const Descriptor& blob, const BlobSink& sink);
    bool blob_exists(const Reference& repository, const Digest& digest);
    /// Uploads a blob unless the registry has it (one HEAD). Blobs over chunk_threshold go in
    /// chunks. A reader cannot be rewound, so its upload is not retried.
    void push_blob(const Reference& repository, const Descriptor& blob, std::string_view bytes);
    void push_blob(const Reference& repository, const Descriptor& blob, const BlobReader& reader);
    /// Mounts a blob from another repository of the same registry; false when the registry
    /// did not (the caller then uploads it).
    bool mount_blob(const Reference& repository, const Digest& digest, const Reference& from);

    // ---- listing ----

    /// Every tag, following Link pagination; `page_size` > 0 asks for pages of that size.
    std::vector<std::string> list_tags(const Reference& repository, std::size_t page_size = 0);
    /// Every repository of the registry ("localhost:5000"), following Link pagination.
    std::vector<std::string> catalog(std::string_view registry, std::size_t page_size = 0);
    /// The referrers of a manifest: the referrers API, or where the registry has none (404)
    /// the index tagged `<alg>-<hex>` by the OCI referrers tag schema; an empty index when
    /// neither lists any.
    ImageIndex referrers(const Reference& repository, const Digest& digest);
    /// Only the referrers whose artifactType is `artifact_type` ("" for all).
    ImageIndex referrers(const Reference& repository,
                         const Digest& digest,
                         std::string_view artifact_type);

    // ---- high level ----

    /// Pushes `root` (an index or manifest in `layout`) and everything it reaches to `dst`:
    /// the blobs of every platform in parallel, streamed from their files, then the manifests
    /// (child manifests before the index). What the registry has is skipped after one HEAD
    /// (blobs and child manifests by digest; the root by dst's tag), so a re-push uploads and
    /// writes nothing. Returns the root's descriptor.
    Descriptor push(const OciLayout& layout, const Descriptor& root, const Reference& dst);
    /// push() with blobs absent from the layout mounted or streamed from the repositories
    /// options.mount_from names (Error(kNotFound) for a blob in neither).
    Descriptor push(const OciLayout& layout,
                    const Descriptor& root,
                    const Reference& dst,
                    const PushOptions& options);
    /// Stores `ref` and what it reaches in `layout` and adds the root to index.json (named by
    /// the tag). With platforms, only those manifests of an index, under a new index.
    Descriptor pull(const Reference& ref,
                    OciLayout& layout,
                    const std::vector<Platform>& platforms = {});
    /// Registry to registry, streamed in memory bounded by chunk_size; blobs and manifests
    /// present skipped as push() does, blobs mounted when both are on the same registry.
    /// Returns the destination root's descriptor.
    Descriptor copy(const Reference& src, const Reference& dst, const CopyOptions& options = {});
    /// create_index({dst}, sources, ...) below with `annotations` on the index; returns its
    /// descriptor.
    Descriptor create_index(const Reference& dst,
                            const std::vector<Reference>& sources,
                            const std::map<std::string, std::string>& annotations = {});
    /// `buildx imagetools create`: a new index of the sources' manifests (an index source gives
    /// all of them, a manifest source one entry with its config's platform, normalized;
    /// duplicates merged), or the lone index source unchanged when there is nothing to add. The
    /// bytes are those buildx pushes (Go's json.MarshalIndent), so the digest is buildx's. Each
    /// tag's repository first gets the manifests it lacks (copied, blobs mounted on one
    /// registry), then the index under the tag. Returns the index bytes (also with dry_run).
    RawContent create_index(const std::vector<Reference>& tags,
                            const std::vector<Reference>& sources,
                            const CreateIndexOptions& options);
    InspectResult inspect(const Reference& ref);

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace xarch
