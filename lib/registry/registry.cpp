// SPDX-License-Identifier: Apache-2.0
// xarch::Registry: the distribution API operations on top of the transport, and push, pull,
// copy, create_index and inspect on top of them.
#include "oci/json.hpp"
#include "registry/operations.hpp"
#include "registry/referrers.hpp"
#include "registry/registry_errors.hpp"
#include "registry/transport.hpp"

#include <xarch/error.hpp>
#include <xarch/registry.hpp>

#include <boost/json.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

namespace xarch {
namespace registry {
namespace {

// A header value without the blanks around it.
std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

std::string manifests_path(const Reference& ref, std::string_view identifier) {
    return "/v2/" + ref.repository() + "/manifests/" + std::string(identifier);
}

std::string blobs_path(const Reference& ref, const Digest& digest) {
    return "/v2/" + ref.repository() + "/blobs/" + digest.to_string();
}

// A blob body to upload, read in order; `rewind` restarts it (for retries), null when it
// cannot; `seek` moves to a byte offset, null when it cannot (then chunks are buffered).
struct Body {
    std::function<std::size_t(char*, std::size_t)> read;
    std::function<void()> rewind;
    std::function<void(std::uint64_t)> seek;
};

Body bytes_body(std::string_view bytes) {
    auto offset = std::make_shared<std::size_t>(0);
    return Body{[bytes, offset](char* buffer, std::size_t size) {
                    const std::size_t n = std::min(size, bytes.size() - *offset);
                    std::memcpy(buffer, bytes.data() + *offset, n);
                    *offset += n;
                    return n;
                },
                [offset] { *offset = 0; },
                [bytes, offset](std::uint64_t to) {
                    *offset = static_cast<std::size_t>(std::min<std::uint64_t>(to, bytes.size()));
                }};
}

// A blob file read with pread straight into the HTTP client's upload buffer (no stream buffer
// and no copy of the blob in memory), the kernel told that reading is sequential so that it
// reads ahead while the bytes before are on the wire.
Body file_body(const std::filesystem::path& path) {
    struct File {
        int fd = -1;
        std::uint64_t offset = 0;
        ~File() {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    };
    auto file = std::make_shared<File>();
    file->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file->fd < 0) {
        throw Error(ErrorCode::kIo,
                    "cannot open blob " + path.string() + ": " + std::strerror(errno));
    }
    ::posix_fadvise(file->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return Body{[file, path](char* buffer, std::size_t size) {
                    for (;;) {
                        const ssize_t n =
                            ::pread(file->fd, buffer, size, static_cast<off_t>(file->offset));
                        if (n >= 0) {
                            file->offset += static_cast<std::uint64_t>(n);
                            return static_cast<std::size_t>(n);
                        }
                        if (errno != EINTR) {
                            throw Error(ErrorCode::kIo, "cannot read blob " + path.string() + ": " +
                                                            std::strerror(errno));
                        }
                    }
                },
                [file] { file->offset = 0; }, [file](std::uint64_t to) { file->offset = to; }};
}

// At most `limit` bytes of `body` from where it is, restartable at `start` when the body can
// seek: one chunk of a chunked upload, streamed rather than buffered.
BodySource chunk_source(const Body& body, std::uint64_t start, std::uint64_t limit) {
    auto left = std::make_shared<std::uint64_t>(limit);
    BodySource source;
    source.size = limit;
    source.read = [read = body.read, left](char* buffer, std::size_t size) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size, *left));
        const std::size_t n = want == 0 ? 0 : read(buffer, want);
        *left -= n;
        return n;
    };
    source.rewind = [seek = body.seek, start, limit, left] {
        seek(start);
        *left = limit;
    };
    return source;
}

// Reads up to `size` bytes (fewer only at the end).
std::string read_chunk(Body& body, std::size_t size) {
    std::string chunk(size, '\0');
    std::size_t filled = 0;
    while (filled < size) {
        const std::size_t n = body.read(chunk.data() + filled, size - filled);
        if (n == 0) {
            break;
        }
        filled += n;
    }
    chunk.resize(filled);
    return chunk;
}

}  // namespace

// The parts of an image graph to transfer, children before parents.
struct Plan {
    std::vector<Descriptor> layers;
    std::vector<Descriptor> configs;
    // Child manifests and indexes with their exact bytes, each after what it references.
    std::vector<RawContent> manifests;
    RawContent root;
    std::set<Digest> seen;
};

}  // namespace registry

class Registry::Impl {
public:
    using Op = registry::Operation;

    explicit Impl(RegistryOptions options)
        : options_(std::move(options)), session_(transport_options(options_)) {}

    static registry::TransportOptions transport_options(const RegistryOptions& o) {
        registry::TransportOptions t;
        t.credentials = o.credentials;
        t.insecure_registries = o.insecure_registries;
        t.ca_bundle = o.ca_bundle;
        t.certs_dir = o.certs_dir;
        t.user_agent = o.user_agent;
        t.max_parallel = std::max<std::size_t>(o.jobs, 1);
        t.retry.max_attempts = std::max(o.retry_attempts, 1);
        return t;
    }

    std::shared_ptr<registry::Transport> transport(const Reference& ref) {
        if (ref.empty()) {
            throw Error(ErrorCode::kInvalidArgument, "an empty reference names no repository");
        }
        return session_.transport(ref.registry());
    }

    registry::TransportRequest request(Op& op,
                                       std::string method,
                                       std::string target,
                                       std::vector<std::string> scopes) {
        registry::TransportRequest r;
        r.method = std::move(method);
        r.target = std::move(target);
        r.scopes = std::move(scopes);
        r.cancel = op.cancel_flag();
        return r;
    }

    static std::vector<std::string> pull_scope(const Reference& ref) {
        return {registry::repository_scope(ref.repository(), "pull")};
    }
    static std::vector<std::string> push_scope(const Reference& ref) {
        return {registry::repository_scope(ref.repository(), "pull,push")};
    }

    // ---- manifests ----

    Descriptor resolve(Op& op, const Reference& ref) {
        auto r =
            request(op, "HEAD", registry::manifests_path(ref, ref.identifier()), pull_scope(ref));
        r.headers.set("Accept", std::string(registry::kManifestAccept));
        r.accept_status = {200};
        const auto response = transport(ref)->send(r);
        const auto digest = response.headers.get("Docker-Content-Digest");
        const auto type = response.headers.get("Content-Type");
        const auto length = response.headers.get("Content-Length");
        if (digest && type && length) {
            try {
                Descriptor d;
                d.digest = Digest::parse(registry::trim(*digest));
                d.media_type = registry::bare_media_type(*type);
                d.size = std::stoll(*length);
                if ((media_type::is_manifest(d.media_type) || media_type::is_index(d.media_type)) &&
                    (!ref.has_digest() || d.digest.to_string() == ref.digest())) {
                    return d;
                }
            } catch (const std::exception&) {
                // A malformed header: the GET below settles it from the body itself.
            }
        }
        return fetch_manifest(op, ref).descriptor();
    }

    RawContent fetch_manifest(Op& op, const Reference& ref) {
        return *fetch_manifest(op, ref, false);
    }

    // As fetch_manifest(); nullopt for a 404 when `missing_ok`.
    std::optional<RawContent> fetch_manifest(Op& op, const Reference& ref, bool missing_ok) {
        auto r =
            request(op, "GET", registry::manifests_path(ref, ref.identifier()), pull_scope(ref));
        r.headers.set("Accept", std::string(registry::kManifestAccept));
        r.accept_status = {200};
        if (missing_ok) {
            r.accept_status.push_back(404);
        }
        r.max_body = registry::kMaxManifestBody;
        auto response = transport(ref)->send(r);
        if (response.status == 404) {
            return std::nullopt;
        }
        RawContent raw;
        raw.bytes = std::move(response.body);
        raw.media_type =
            registry::bare_media_type(response.headers.get("Content-Type").value_or(""));
        if (!media_type::is_manifest(raw.media_type) && !media_type::is_index(raw.media_type)) {
            // Some registries serve `application/json`; the document says what it is.
            raw.media_type = media_type_from_body(raw.bytes, raw.media_type);
        }
        Digest expected;
        if (ref.has_digest()) {
            expected = Digest::parse(ref.digest());
        } else if (auto header = response.headers.get("Docker-Content-Digest")) {
            expected = Digest::parse(registry::trim(*header));
        }
        const auto algorithm =
            expected.empty() ? DigestAlgorithm::kSha256 : *expected.registered_algorithm();
        raw.digest = Digest::of(raw.bytes, algorithm);
        if (!expected.empty() && raw.digest != expected) {
            throw Error(ErrorCode::kDigestMismatch,
                        "manifest " + ref.to_string() + ": expected " + expected.to_string() +
                            ", the registry served " + raw.digest.to_string());
        }
        return raw;
    }

    static std::string media_type_from_body(const std::string& bytes, const std::string& served) {
        boost::system::error_code ec;
        const auto value = boost::json::parse(bytes, ec);
        if (ec || !value.is_object()) {
            throw Error(ErrorCode::kInvalidArgument,
                        "the registry served a manifest that is not a JSON object (Content-Type " +
                            registry::sanitize_for_message(served) + ")");
        }
        const auto& object = value.as_object();
        if (const auto* type = object.if_contains("mediaType"); type && type->is_string()) {
            return std::string(type->as_string());
        }
        return std::string(object.contains("manifests") ? media_type::kOciIndex
                                                        : media_type::kOciManifest);
    }

    // A single image copied "for platforms" must be for one of them, or the copy would quietly
    // give the caller an image for another platform.
    void require_single_image_platform(Op& op,
                                       const Reference& ref,
                                       const RawContent& raw,
                                       const std::vector<Platform>& platforms) {
        const auto manifest = parse_manifest(raw.bytes, raw.media_type);
        if (!media_type::is_config(manifest.config.media_type)) {
            return;  // an artifact: no platform to hold it to
        }
        const Platform has = parse_config(fetch_blob(op, ref, manifest.config)).platform();
        if (std::any_of(platforms.begin(), platforms.end(),
                        [&](const Platform& p) { return PlatformMatcher::only(p).match(has); })) {
            return;
        }
        std::string wanted;
        for (const auto& p : platforms) {
            wanted += (wanted.empty() ? "" : ", ") + p.to_string();
        }
        throw Error(ErrorCode::kNotFound, "no manifest for " + wanted + " in " + ref.to_string() +
                                              ": it is a single manifest for " + has.to_string());
    }

    Descriptor resolve_platform(Op& op, const Reference& ref, const Platform& platform) {
        const auto raw = fetch_manifest(op, ref);
        if (media_type::is_index(raw.media_type)) {
            return parse_index(raw.bytes, raw.media_type).find(platform, ref.to_string());
        }
        const auto manifest = parse_manifest(raw.bytes, raw.media_type);
        const auto config = parse_config(fetch_blob(op, ref, manifest.config));
        if (!PlatformMatcher::only(platform).match(config.platform())) {
            throw Error(ErrorCode::kNotFound,
                        "no manifest for " + platform.to_string() + " in " + ref.to_string() +
                            ": it is a single manifest for " + config.platform().to_string());
        }
        auto d = raw.descriptor();
        d.platform = config.platform();
        return d;
    }

    // PUT of a manifest. `blobs_present`: this push has just seen or put every blob it lists, so
    // a registry that still reports one unknown is racing a concurrent upload of the same blob to
    // the repository (seen with distribution under two simultaneous pushes: DIGEST_INVALID plus
    // MANIFEST_BLOB_UNKNOWN for a manifest whose blobs are all there): the PUT is tried again a
    // few times, 0.1 s apart and doubling, before that is an error.
    registry::HttpResponse send_manifest(Op& op,
                                         const Reference& ref,
                                         const registry::TransportRequest& r,
                                         bool blobs_present) {
        for (int attempt = 0;; ++attempt) {
            try {
                return transport(ref)->send(r);
            } catch (const RegistryError& e) {
                const bool blob_race =
                    e.http_status() == 400 &&
                    std::string_view(e.what()).find("MANIFEST_BLOB_UNKNOWN") != std::string::npos;
                if (!blobs_present || !blob_race || attempt == 3) {
                    throw;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
            op.check();
        }
    }

    Descriptor push_manifest(Op& op,
                             const Reference& ref,
                             const RawContent& content,
                             bool blobs_present = false) {
        if (ref.has_digest() && ref.digest() != content.digest.to_string()) {
            throw Error(ErrorCode::kInvalidArgument, "pushing manifest " +
                                                         content.digest.to_string() + " as " +
                                                         ref.to_string() + ": the digests differ");
        }
        const std::string identifier = ref.has_digest() ? ref.digest()
                                       : ref.has_tag()  ? ref.tag()
                                                        : content.digest.to_string();
        auto r = request(op, "PUT", registry::manifests_path(ref, identifier), push_scope(ref));
        r.headers.set("Content-Type", content.media_type);
        r.body = content.bytes;
        r.accept_status = {200, 201, 202};
        const auto response = send_manifest(op, ref, r, blobs_present);
        if (auto header = response.headers.get("Docker-Content-Digest")) {
            if (registry::trim(*header) != content.digest.to_string()) {
                throw Error(ErrorCode::kDigestMismatch,
                            "pushed manifest " + content.digest.to_string() + " to " +
                                ref.to_string() + " but the registry stored " +
                                registry::sanitize_for_message(*header));
            }
        }
        // A registry with the referrers API says it indexed the subject; any other leaves the
        // referrers tag schema's index to the client.
        if (!response.headers.contains("OCI-Subject")) {
            if (auto referrer = registry::referrer_of(content)) {
                add_to_referrers_tag(op, ref, *referrer);
            }
        }
        return content.descriptor();
    }

    // The spec's "pushing manifests with subject" without OCI-Subject: fetch the index under
    // the subject's referrers tag (none: start empty), add the descriptor unless it is listed,
    // and push the index back under that tag.
    void add_to_referrers_tag(Op& op, const Reference& repo, const registry::Referrer& referrer) {
        // Manifests go up in parallel; two referrers of one subject must not both start from
        // the same index and lose one of them.
        const std::lock_guard lock(referrers_mutex_);
        const auto tag = repo.without_digest().with_tag(registry::referrers_tag(referrer.subject));
        ImageIndex index;
        if (auto current = fetch_manifest(op, tag, true)) {
            if (!media_type::is_index(current->media_type)) {
                throw Error(ErrorCode::kRegistry,
                            "cannot list " + referrer.descriptor.digest.to_string() +
                                " as a referrer of " + referrer.subject.to_string() + ": " +
                                tag.to_string() + " holds a " +
                                registry::sanitize_for_message(current->media_type) +
                                ", not the image index of the OCI referrers tag schema; move "
                                "that tag away and push again");
            }
            index = parse_index(current->bytes, current->media_type);
        }
        if (registry::add_referrer(index, referrer.descriptor)) {
            push_manifest(op, tag, index.to_raw());
        }
    }

    // The digest `ref` (tag or digest) names in the registry, by one HEAD; nullopt when the
    // manifest is absent or the answer does not say (the caller then pushes).
    std::optional<Digest> manifest_digest(Op& op,
                                          const Reference& ref,
                                          std::vector<std::string> scopes) {
        auto r =
            request(op, "HEAD", registry::manifests_path(ref, ref.identifier()), std::move(scopes));
        r.headers.set("Accept", std::string(registry::kManifestAccept));
        r.accept_status = {200, 404};
        const auto response = transport(ref)->send(r);
        if (response.status != 200) {
            return std::nullopt;
        }
        if (auto header = response.headers.get("Docker-Content-Digest")) {
            try {
                return Digest::parse(registry::trim(*header));
            } catch (const std::exception&) {
                // Unreadable: push, which settles it.
            }
        }
        return std::nullopt;
    }

    // A child manifest by digest, unless the repository has it (one HEAD).
    void push_manifest_if_absent(Op& op, const Reference& repo, const RawContent& manifest) {
        const auto ref = repo.without_tag().with_digest(manifest.digest.to_string());
        if (manifest_digest(op, ref, push_scope(repo)) != manifest.digest) {
            push_manifest(op, ref, manifest, true);
        }
    }

    // The root under dst's tag (or digest), unless a HEAD shows it there already: a re-push
    // writes nothing, and a tag that points elsewhere is moved.
    Descriptor push_root(Op& op, const Reference& dst, const RawContent& root) {
        const Reference where =
            dst.has_tag() || dst.has_digest() ? dst : dst.with_digest(root.digest.to_string());
        if (manifest_digest(op, where, push_scope(dst)) == root.digest) {
            return root.descriptor();
        }
        return push_manifest(op, where, root, true);
    }

    void delete_manifest(Op& op, const Reference& ref) {
        const std::string digest =
            ref.has_digest() ? ref.digest() : resolve(op, ref).digest.to_string();
        auto r = request(op, "DELETE", registry::manifests_path(ref, digest),
                         {registry::repository_scope(ref.repository(), "delete")});
        r.accept_status = {200, 202};
        transport(ref)->send(r);
    }

    // ---- blobs ----

    void fetch_blob(Op& op, const Reference& repo, const Descriptor& blob, const BlobSink& sink) {
        DigestVerifier verifier(blob.digest, blob.size);
        const std::optional<std::uint64_t> total = static_cast<std::uint64_t>(blob.size);
        auto r = request(op, "GET", registry::blobs_path(repo, blob.digest), pull_scope(repo));
        r.accept_status = {200};
        r.follow_redirects = true;
        r.progress = op.hook(blob.digest, 0, total);
        r.sink = [&](std::string_view chunk) {
            verifier.update(chunk);
            sink(std::span<const std::byte>(reinterpret_cast<const std::byte*>(chunk.data()),
                                            chunk.size()));
        };
        transport(repo)->send(r);
        verifier.finish();
    }

    std::string fetch_blob(Op& op, const Reference& repo, const Descriptor& blob) {
        std::string out;
        fetch_blob(op, repo, blob, [&](std::span<const std::byte> bytes) {
            out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        });
        return out;
    }

    bool blob_exists(Op& op, const Reference& repo, const Digest& digest) {
        return blob_exists(op, repo, digest, pull_scope(repo));
    }

    // With the scopes of the operation it is part of, so that a push asks for one token.
    bool blob_exists(Op& op,
                     const Reference& repo,
                     const Digest& digest,
                     std::vector<std::string> scopes) {
        auto r = request(op, "HEAD", registry::blobs_path(repo, digest), std::move(scopes));
        r.accept_status = {200, 404};
        r.follow_redirects = true;
        return transport(repo)->send(r).status == 200;
    }

    std::string location_of(const registry::HttpResponse& response, const Reference& repo) {
        auto location = response.headers.get("Location");
        if (!location || location->empty()) {
            throw Error(ErrorCode::kRegistry, "the registry answered an upload to " + repo.name() +
                                                  " without a Location");
        }
        return registry::trim(*location);
    }

    std::string start_upload(Op& op, const Reference& repo) {
        auto r =
            request(op, "POST", "/v2/" + repo.repository() + "/blobs/uploads/", push_scope(repo));
        r.accept_status = {202};
        r.replayable = true;  // nothing is created until the upload is used
        return location_of(transport(repo)->send(r), repo);
    }

    // A mount when the registry does it (nullopt), else the Location of the upload it opened.
    std::optional<std::string> mount_or_start(Op& op,
                                              const Reference& repo,
                                              const Digest& digest,
                                              const Reference& from) {
        std::string target = "/v2/" + repo.repository() + "/blobs/uploads/";
        target = registry::with_query(target, "mount", digest.to_string());
        target = registry::with_query(target, "from", from.repository());
        auto r = request(op, "POST", target,
                         {registry::repository_scope(repo.repository(), "pull,push"),
                          registry::repository_scope(from.repository(), "pull")});
        r.accept_status = {201, 202};
        r.replayable = true;
        const auto response = transport(repo)->send(r);
        if (response.status == 201) {
            return std::nullopt;
        }
        return location_of(response, repo);
    }

    // Uploads `blob` to the upload at `location`: one PUT when small, PATCHes of chunk_size
    // otherwise (each answered with the Location to continue at), then the closing PUT.
    void upload(Op& op,
                const Reference& repo,
                std::string location,
                const Descriptor& blob,
                registry::Body body) {
        auto t = transport(repo);
        const auto size = static_cast<std::uint64_t>(blob.size);
        if (blob.size <= options_.chunk_threshold) {
            auto r = request(op, "PUT",
                             registry::with_query(location, "digest", blob.digest.to_string()),
                             push_scope(repo));
            r.headers.set("Content-Type", "application/octet-stream");
            registry::BodySource source;
            source.read = body.read;
            source.rewind = body.rewind;
            source.size = size;
            r.source = std::move(source);
            r.accept_status = {201};
            r.progress = op.hook(blob.digest, 0, size);
            check_uploaded(t->send(r), blob);
            return;
        }
        // Each PATCH must be retryable on its own: a body that can seek (a file, bytes) is
        // streamed and restarted at the chunk's start; any other is buffered a chunk at a time.
        const auto chunk_size =
            static_cast<std::size_t>(std::max<std::int64_t>(options_.chunk_size, 1));
        std::uint64_t offset = 0;
        while (offset < size) {
            auto r = request(op, "PATCH", location, push_scope(repo));
            r.headers.set("Content-Type", "application/octet-stream");
            std::uint64_t length = 0;
            if (body.seek) {
                length = std::min<std::uint64_t>(chunk_size, size - offset);
                r.source = registry::chunk_source(body, offset, length);
            } else {
                std::string chunk = registry::read_chunk(body, chunk_size);
                if (chunk.empty()) {
                    throw Error(ErrorCode::kDigestMismatch, "blob " + blob.digest.to_string() +
                                                                " ended after " +
                                                                std::to_string(offset) + " of " +
                                                                std::to_string(size) + " bytes");
                }
                length = chunk.size();
                r.body = std::move(chunk);
            }
            r.headers.set("Content-Range",
                          std::to_string(offset) + "-" + std::to_string(offset + length - 1));
            r.accept_status = {202};
            r.progress = op.hook(blob.digest, offset, size);
            location = location_of(t->send(r), repo);
            offset += length;
        }
        auto r =
            request(op, "PUT", registry::with_query(location, "digest", blob.digest.to_string()),
                    push_scope(repo));
        r.accept_status = {201};
        check_uploaded(t->send(r), blob);
    }

    static void check_uploaded(const registry::HttpResponse& response, const Descriptor& blob) {
        if (auto header = response.headers.get("Docker-Content-Digest")) {
            if (registry::trim(*header) != blob.digest.to_string()) {
                throw Error(ErrorCode::kDigestMismatch,
                            "uploaded blob " + blob.digest.to_string() +
                                " but the registry stored " +
                                registry::sanitize_for_message(*header));
            }
        }
    }

    void push_blob(Op& op, const Reference& repo, const Descriptor& blob, registry::Body body) {
        if (blob_exists(op, repo, blob.digest, push_scope(repo))) {
            return;
        }
        upload(op, repo, start_upload(op, repo), blob, std::move(body));
    }

    // Registry to registry in memory: small blobs whole, large ones by Range GETs of chunk_size
    // each PATCHed on; verified before the closing PUT, so a corrupt source is never committed.
    void copy_blob(Op& op, const Reference& src, const Reference& dst, const Descriptor& blob) {
        if (blob_exists(op, dst, blob.digest, push_scope(dst))) {
            return;
        }
        if (auto location = mount_or_start_from(op, src, dst, blob.digest)) {
            stream_blob(op, src, dst, blob, std::move(*location));
        }
    }

    // A mount when `src` is another repository of dst's registry and the registry does it
    // (nullopt), else the Location of a new upload to dst.
    std::optional<std::string> mount_or_start_from(Op& op,
                                                   const Reference& src,
                                                   const Reference& dst,
                                                   const Digest& digest) {
        if (src.registry() == dst.registry() && src.repository() != dst.repository()) {
            return mount_or_start(op, dst, digest, src);
        }
        return start_upload(op, dst);
    }

    // `blob` fetched from `src` into the upload open at `location` on `dst`.
    void stream_blob(Op& op,
                     const Reference& src,
                     const Reference& dst,
                     const Descriptor& blob,
                     std::string location) {
        if (blob.size <= options_.chunk_threshold) {
            const std::string bytes = fetch_blob(op, src, blob);
            upload(op, dst, location, blob, registry::bytes_body(bytes));
            return;
        }
        auto from = transport(src);
        auto to = transport(dst);
        DigestVerifier verifier(blob.digest, blob.size);
        const auto size = static_cast<std::uint64_t>(blob.size);
        const auto chunk_size =
            static_cast<std::uint64_t>(std::max<std::int64_t>(options_.chunk_size, 1));
        for (std::uint64_t offset = 0; offset < size;) {
            const std::uint64_t end = std::min(size, offset + chunk_size) - 1;
            auto get = request(op, "GET", registry::blobs_path(src, blob.digest), pull_scope(src));
            get.headers.set("Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(end));
            get.accept_status = {206};
            get.follow_redirects = true;
            get.max_body = static_cast<std::size_t>(end - offset + 1);
            const auto part = from->send(get);
            if (part.body.size() != end - offset + 1) {
                throw Error(ErrorCode::kDigestMismatch,
                            "blob " + blob.digest.to_string() + ": the registry sent " +
                                std::to_string(part.body.size()) + " bytes for a range of " +
                                std::to_string(end - offset + 1));
            }
            verifier.update(part.body);
            auto patch = request(op, "PATCH", location, push_scope(dst));
            patch.headers.set("Content-Type", "application/octet-stream");
            patch.headers.set("Content-Range", std::to_string(offset) + "-" + std::to_string(end));
            patch.body = part.body;
            patch.accept_status = {202};
            location = location_of(to->send(patch), dst);
            offset = end + 1;
            op.report(blob.digest, offset, size);
        }
        verifier.finish();
        auto put =
            request(op, "PUT", registry::with_query(location, "digest", blob.digest.to_string()),
                    push_scope(dst));
        put.accept_status = {201};
        check_uploaded(to->send(put), blob);
    }

    // ---- listing ----

    std::vector<std::string> paginate(Op& op,
                                      const Reference& repo,
                                      std::string target,
                                      std::vector<std::string> scopes,
                                      std::string_view key) {
        std::vector<std::string> out;
        auto t = transport(repo);
        for (int page = 0; page < registry::kMaxPages && !target.empty(); ++page) {
            auto r = request(op, "GET", target, scopes);
            r.accept_status = {200};
            const auto response = t->send(r);
            auto items = registry::parse_string_list(response.body, key);
            out.insert(out.end(), items.begin(), items.end());
            target = registry::next_link(response.headers);
        }
        return out;
    }

    std::vector<std::string> list_tags(Op& op, const Reference& repo, std::size_t page_size) {
        std::string target = "/v2/" + repo.repository() + "/tags/list";
        if (page_size > 0) {
            target = registry::with_query(target, "n", std::to_string(page_size));
        }
        return paginate(op, repo, target, pull_scope(repo), "tags");
    }

    std::vector<std::string> catalog(Op& op, std::string_view registry, std::size_t page_size) {
        // Any repository name makes a reference to the registry; only its host is used.
        const auto repo = Reference::parse_repository(std::string(registry) + "/catalog");
        std::string target = "/v2/_catalog";
        if (page_size > 0) {
            target = registry::with_query(target, "n", std::to_string(page_size));
        }
        return paginate(op, repo, target, {"registry:catalog:*"}, "repositories");
    }

    // The referrers API; where the registry has none (404), the index under the referrers
    // tag schema's tag, none or an unreadable one meaning no referrers (as the spec says).
    ImageIndex referrers(Op& op,
                         const Reference& repo,
                         const Digest& digest,
                         std::string_view artifact_type) {
        std::string target = "/v2/" + repo.repository() + "/referrers/" + digest.to_string();
        if (!artifact_type.empty()) {
            target = registry::with_query(target, "artifactType", artifact_type);
        }
        auto r = request(op, "GET", target, pull_scope(repo));
        r.headers.set("Accept", std::string(media_type::kOciIndex));
        r.accept_status = {200, 404};
        const auto response = transport(repo)->send(r);
        if (response.status == 200) {
            auto index = parse_index(response.body, media_type::kOciIndex);
            // A registry that filtered says so; the others' answers are filtered here.
            const auto applied = response.headers.get("OCI-Filters-Applied").value_or("");
            if (applied.find("artifactType") != std::string::npos) {
                return index;
            }
            return registry::filter_referrers(std::move(index), artifact_type);
        }
        const auto tag = repo.without_digest().with_tag(registry::referrers_tag(digest));
        const auto raw = fetch_manifest(op, tag, true);
        if (!raw || !media_type::is_index(raw->media_type)) {
            return ImageIndex{};
        }
        try {
            return registry::filter_referrers(parse_index(raw->bytes, raw->media_type),
                                              artifact_type);
        } catch (const Error&) {
            return ImageIndex{};
        }
    }

    // ---- high level ----

    using ManifestSource = std::function<RawContent(const Descriptor&)>;

    // Walks the graph under `root`; a platform subset replaces the root by a new index of the
    // chosen manifests.
    registry::Plan plan(const RawContent& root,
                        const ManifestSource& get,
                        const std::vector<Platform>& platforms,
                        std::string_view name) {
        registry::Plan p;
        if (media_type::is_index(root.media_type)) {
            auto index = parse_index(root.bytes, root.media_type);
            if (platforms.empty()) {
                p.root = root;
            } else {
                ImageIndex chosen = index;
                chosen.manifests.clear();
                for (const auto& platform : platforms) {
                    const auto& d = index.find(platform, name);
                    if (std::find(chosen.manifests.begin(), chosen.manifests.end(), d) ==
                        chosen.manifests.end()) {
                        chosen.manifests.push_back(d);
                    }
                }
                index = chosen;
                p.root = chosen.to_raw();
            }
            for (const auto& child : index.manifests) {
                visit(p, child, get);
            }
        } else {
            p.root = root;
            add_manifest_blobs(p, parse_manifest(root.bytes, root.media_type));
        }
        return p;
    }

    void visit(registry::Plan& p, const Descriptor& d, const ManifestSource& get) {
        if (!p.seen.insert(d.digest).second) {
            return;
        }
        auto raw = get(d);
        if (media_type::is_index(raw.media_type)) {
            for (const auto& child : parse_index(raw.bytes, raw.media_type).manifests) {
                visit(p, child, get);
            }
        } else {
            add_manifest_blobs(p, parse_manifest(raw.bytes, raw.media_type));
        }
        p.manifests.push_back(std::move(raw));
    }

    static void add_manifest_blobs(registry::Plan& p, const Manifest& m) {
        for (const auto& layer : m.layers) {
            if (!media_type::is_nondistributable(layer.media_type) &&
                p.seen.insert(layer.digest).second) {
                p.layers.push_back(layer);
            }
        }
        if (p.seen.insert(m.config.digest).second) {
            p.configs.push_back(m.config);
        }
    }

    // Every blob of every platform in parallel, largest first so that the long transfers
    // start early and the small ones fill in around them; then the image manifests in parallel
    // (they reference blobs only); then the child indexes in order, each after what it lists.
    void transfer(Op& op,
                  const registry::Plan& p,
                  const std::function<void(const Descriptor&)>& blob,
                  const std::function<void(const RawContent&)>& manifest) {
        std::vector<const Descriptor*> blobs;
        for (const auto* group : {&p.layers, &p.configs}) {
            for (const auto& d : *group) {
                blobs.push_back(&d);
            }
        }
        std::stable_sort(blobs.begin(), blobs.end(), [](const Descriptor* a, const Descriptor* b) {
            return a->size > b->size;
        });
        std::vector<std::function<void()>> tasks;
        for (const auto* d : blobs) {
            tasks.emplace_back([&blob, d] { blob(*d); });
        }
        registry::run_parallel(std::move(tasks), options_.jobs, op);
        tasks.clear();
        for (const auto& m : p.manifests) {
            if (!media_type::is_index(m.media_type)) {
                tasks.emplace_back([&manifest, &m] { manifest(m); });
            }
        }
        registry::run_parallel(std::move(tasks), options_.jobs, op);
        for (const auto& m : p.manifests) {
            if (media_type::is_index(m.media_type)) {
                op.check();
                manifest(m);
            }
        }
    }

    static RawContent raw_from_layout(const OciLayout& layout, const Descriptor& d) {
        RawContent raw;
        raw.bytes = layout.read_blob(d.digest);
        raw.media_type = d.media_type;
        raw.digest = d.digest;
        return raw;
    }

    Descriptor push(Op& op, const OciLayout& layout, const Descriptor& root, const Reference& dst) {
        return push(op, layout, root, dst, PushOptions{});
    }

    // push() where a blob listed in mount_from is mounted from there, else uploaded from the
    // layout, else streamed from there.
    Descriptor push(Op& op,
                    const OciLayout& layout,
                    const Descriptor& root,
                    const Reference& dst,
                    const PushOptions& options) {
        const auto p = plan(
            raw_from_layout(layout, root),
            [&](const Descriptor& d) { return raw_from_layout(layout, d); }, {},
            root.digest.to_string());
        transfer(
            op, p,
            [&](const Descriptor& d) {
                const auto source = options.mount_from.find(d.digest);
                if (source == options.mount_from.end()) {
                    if (layout.has_blob(d.digest)) {
                        push_blob(op, dst, d, registry::file_body(layout.blob_path(d.digest)));
                    } else if (!blob_exists(op, dst, d.digest, push_scope(dst))) {
                        throw Error(ErrorCode::kNotFound,
                                    "cannot push blob " + d.digest.to_string() + " to " +
                                        dst.name() + ": it is not in " + layout.path().string() +
                                        " and no repository to mount it from was given");
                    }
                    return;
                }
                if (blob_exists(op, dst, d.digest, push_scope(dst))) {
                    return;
                }
                auto location = mount_or_start_from(op, source->second, dst, d.digest);
                if (!location) {
                    return;
                }
                if (layout.has_blob(d.digest)) {
                    upload(op, dst, std::move(*location), d,
                           registry::file_body(layout.blob_path(d.digest)));
                } else {
                    stream_blob(op, source->second, dst, d, std::move(*location));
                }
            },
            [&](const RawContent& m) { push_manifest_if_absent(op, dst, m); });
        return push_root(op, dst, p.root);
    }

    Descriptor pull(Op& op,
                    const Reference& ref,
                    OciLayout& layout,
                    const std::vector<Platform>& platforms) {
        const auto root = fetch_manifest(op, ref);
        const auto p = plan(
            root,
            [&](const Descriptor& d) {
                return fetch_manifest(op, ref.without_tag().with_digest(d.digest.to_string()));
            },
            platforms, ref.to_string());
        auto store = [&](const RawContent& m) { layout.write_blob(m.descriptor(), m.bytes); };
        transfer(
            op, p,
            [&](const Descriptor& d) {
                if (layout.has_blob(d.digest)) {
                    return;
                }
                auto writer = layout.blob_writer(d);
                fetch_blob(op, ref, d,
                           [&](std::span<const std::byte> bytes) { writer.write(bytes); });
                writer.commit();
            },
            store);
        store(p.root);
        const auto descriptor = p.root.descriptor();
        layout.add_manifest(descriptor, ref.tag());
        return descriptor;
    }

    Descriptor copy(Op& op, const Reference& src, const Reference& dst, const CopyOptions& o) {
        const auto root = fetch_manifest(op, src);
        if (!o.platforms.empty() && !media_type::is_index(root.media_type)) {
            require_single_image_platform(op, src, root, o.platforms);
        }
        const auto p = plan(
            root,
            [&](const Descriptor& d) {
                return fetch_manifest(op, src.without_tag().with_digest(d.digest.to_string()));
            },
            o.platforms, src.to_string());
        transfer(
            op, p, [&](const Descriptor& d) { copy_blob(op, src, dst, d); },
            [&](const RawContent& m) { push_manifest_if_absent(op, dst, m); });
        Reference target = dst;
        if (dst.has_digest() && dst.digest() != p.root.digest.to_string()) {
            // A platform subset is a new index: its digest is not the one the caller knew.
            target = dst.without_digest();
        }
        return push_root(op, target, p.root);
    }

    // buildx's `imagetools create`: an index source gives its manifests, a manifest source one
    // entry with its config's platform (os/architecture/variant, normalized); an entry seen
    // twice keeps its place, takes the later platform and merges annotations. A lone index
    // with nothing to change is carbon-copied; otherwise the index is json.MarshalIndent's
    // bytes, as buildx pushes them, so the same sources give buildx's digest.
    RawContent create_index(Op& op,
                            const std::vector<Reference>& tags,
                            const std::vector<Reference>& sources,
                            const CreateIndexOptions& o) {
        if (sources.empty()) {
            throw Error(ErrorCode::kInvalidArgument, "create_index needs at least one source");
        }
        if (tags.empty() && !o.dry_run) {
            throw Error(ErrorCode::kInvalidArgument,
                        "create_index needs a tag to push to (or dry_run)");
        }
        struct Entry {
            Descriptor descriptor;
            Reference source;  // pinned by digest
        };
        std::vector<Entry> entries;
        const auto add = [&](Entry entry) {
            auto it = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) {
                return e.descriptor.digest == entry.descriptor.digest;
            });
            if (it == entries.end()) {
                entries.push_back(std::move(entry));
                return;
            }
            if (entry.descriptor.platform) {
                it->descriptor.platform = entry.descriptor.platform;
            }
            for (const auto& [key, value] : entry.descriptor.annotations) {
                it->descriptor.annotations[key] = value;
            }
        };
        std::optional<RawContent> only_index;
        for (const auto& source : sources) {
            const auto raw = fetch_manifest(op, source);
            const auto pinned = source.without_tag().with_digest(raw.digest.to_string());
            if (media_type::is_index(raw.media_type)) {
                for (const auto& d : parse_index(raw.bytes, raw.media_type).manifests) {
                    add({d, pinned.with_digest(d.digest.to_string())});
                }
                if (sources.size() == 1) {
                    only_index = raw;
                }
                continue;
            }
            auto d = raw.descriptor();
            const auto manifest = parse_manifest(raw.bytes, raw.media_type);
            if (media_type::is_config(manifest.config.media_type)) {
                const Platform p =
                    parse_config(fetch_blob(op, pinned, manifest.config)).platform().normalized();
                d.platform = Platform(p.os(), p.architecture(), p.variant());
            }
            add({std::move(d), pinned});
        }
        RawContent content;
        if (only_index && o.annotations.empty()) {
            content = *only_index;
        } else {
            ImageIndex index;
            const bool all_docker = std::all_of(entries.begin(), entries.end(), [](const Entry& e) {
                return e.descriptor.media_type.starts_with("application/vnd.docker.");
            });
            // Docker's manifest list has no annotations: asked for, they get an OCI index.
            index.media_type =
                std::string(all_docker && o.annotations.empty() ? media_type::kDockerManifestList
                                                                : media_type::kOciIndex);
            for (const auto& a : o.annotations) {
                if (!a.on_descriptors) {
                    index.annotations[a.key] = a.value;
                    continue;
                }
                for (auto& e : entries) {
                    if (!a.platform ||
                        (e.descriptor.platform && e.descriptor.platform->normalized().to_string() ==
                                                      a.platform->normalized().to_string())) {
                        e.descriptor.annotations[a.key] = a.value;
                    }
                }
            }
            for (const auto& e : entries) {
                index.manifests.push_back(e.descriptor);
            }
            content = RawContent::of(oci::json::indent(index.serialize()), index.media_type);
        }
        if (o.dry_run) {
            return content;
        }
        // Per destination repository: the manifests it lacks, then the index under its tags.
        std::set<std::string> copied_to;
        for (const auto& tag : tags) {
            if (copied_to.insert(tag.name()).second) {
                for (const auto& e : entries) {
                    if (e.source.name() != tag.name()) {
                        copy(op, e.source, tag.without_tag().with_digest(e.source.digest()), {});
                    }
                }
            }
            push_manifest(op, tag, content);
        }
        return content;
    }

    InspectResult inspect(Op& op, const Reference& ref) {
        InspectResult result;
        result.raw = fetch_manifest(op, ref);
        result.descriptor = result.raw.descriptor();
        if (media_type::is_index(result.raw.media_type)) {
            result.index = parse_index(result.raw.bytes, result.raw.media_type);
        } else {
            result.manifest = parse_manifest(result.raw.bytes, result.raw.media_type);
            if (media_type::is_config(result.manifest->config.media_type)) {
                result.config = parse_config(fetch_blob(op, ref, result.manifest->config));
            }
        }
        return result;
    }

    const RegistryOptions& options() const { return options_; }

private:
    RegistryOptions options_;
    registry::Session session_;
    std::mutex referrers_mutex_;  // one referrers tag update at a time
};

// Each public call is one operation: its own cancel flag and progress serialization.
template <typename F>
decltype(auto) with_operation(Registry::Impl& impl, F&& f) {
    registry::Operation op(impl.options().progress);
    return std::forward<F>(f)(impl, op);
}

Registry::Registry(RegistryOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Registry::~Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;

Descriptor Registry::resolve(const Reference& ref) {
    return with_operation(
        *impl_, [&](Impl& impl, registry::Operation& op) { return impl.resolve(op, ref); });
}
RawContent Registry::fetch_manifest(const Reference& ref) {
    return with_operation(
        *impl_, [&](Impl& impl, registry::Operation& op) { return impl.fetch_manifest(op, ref); });
}
Descriptor Registry::resolve_platform(const Reference& ref, const Platform& platform) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.resolve_platform(op, ref, platform);
    });
}
Descriptor Registry::push_manifest(const Reference& ref, const RawContent& content) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.push_manifest(op, ref, content);
    });
}
void Registry::delete_manifest(const Reference& ref) {
    return with_operation(
        *impl_, [&](Impl& impl, registry::Operation& op) { return impl.delete_manifest(op, ref); });
}
std::string Registry::fetch_blob(const Reference& repository, const Descriptor& blob) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.fetch_blob(op, repository, blob);
    });
}
void Registry::fetch_blob(const Reference& repository,
                          const Descriptor& blob,
                          const BlobSink& sink) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.fetch_blob(op, repository, blob, sink);
    });
}
bool Registry::blob_exists(const Reference& repository, const Digest& digest) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.blob_exists(op, repository, digest);
    });
}
void Registry::push_blob(const Reference& repository,
                         const Descriptor& blob,
                         std::string_view bytes) {
    // Checked before any request: a wrong size would otherwise surface mid-upload.
    if (bytes.size() != static_cast<std::uint64_t>(blob.size)) {
        throw Error(ErrorCode::kDigestMismatch,
                    "blob " + blob.digest.to_string() + " for " + repository.name() + " has " +
                        std::to_string(bytes.size()) + " bytes, but its descriptor says " +
                        std::to_string(blob.size) + "; nothing was uploaded");
    }
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.push_blob(op, repository, blob, registry::bytes_body(bytes));
    });
}
void Registry::push_blob(const Reference& repository,
                         const Descriptor& blob,
                         const BlobReader& reader) {
    registry::Body body;
    body.read = [&reader](char* buffer, std::size_t size) {
        return reader(std::span<std::byte>(reinterpret_cast<std::byte*>(buffer), size));
    };
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.push_blob(op, repository, blob, std::move(body));
    });
}
bool Registry::mount_blob(const Reference& repository,
                          const Digest& digest,
                          const Reference& from) {
    registry::Operation op(impl_->options().progress);
    auto location = impl_->mount_or_start(op, repository, digest, from);
    return !location.has_value();
}
std::vector<std::string> Registry::list_tags(const Reference& repository, std::size_t page_size) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.list_tags(op, repository, page_size);
    });
}
std::vector<std::string> Registry::catalog(std::string_view registry, std::size_t page_size) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.catalog(op, registry, page_size);
    });
}
ImageIndex Registry::referrers(const Reference& repository, const Digest& digest) {
    return referrers(repository, digest, {});
}
ImageIndex Registry::referrers(const Reference& repository,
                               const Digest& digest,
                               std::string_view artifact_type) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.referrers(op, repository, digest, artifact_type);
    });
}
Descriptor Registry::push(const OciLayout& layout, const Descriptor& root, const Reference& dst) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.push(op, layout, root, dst);
    });
}
Descriptor Registry::push(const OciLayout& layout,
                          const Descriptor& root,
                          const Reference& dst,
                          const PushOptions& options) {
    registry::Operation op(options.progress ? options.progress : impl_->options().progress);
    return impl_->push(op, layout, root, dst, options);
}
Descriptor Registry::pull(const Reference& ref,
                          OciLayout& layout,
                          const std::vector<Platform>& platforms) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.pull(op, ref, layout, platforms);
    });
}
Descriptor Registry::copy(const Reference& src, const Reference& dst, const CopyOptions& options) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.copy(op, src, dst, options);
    });
}
Descriptor Registry::create_index(const Reference& dst,
                                  const std::vector<Reference>& sources,
                                  const std::map<std::string, std::string>& annotations) {
    CreateIndexOptions options;
    for (const auto& [key, value] : annotations) {
        options.annotations.push_back(
            {.on_descriptors = false, .platform = {}, .key = key, .value = value});
    }
    return create_index(std::vector<Reference>{dst}, sources, options).descriptor();
}
RawContent Registry::create_index(const std::vector<Reference>& tags,
                                  const std::vector<Reference>& sources,
                                  const CreateIndexOptions& options) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.create_index(op, tags, sources, options);
    });
}
InspectResult Registry::inspect(const Reference& ref) {
    return with_operation(
        *impl_, [&](Impl& impl, registry::Operation& op) { return impl.inspect(op, ref); });
}

}  // namespace xarch
