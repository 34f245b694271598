// SPDX-License-Identifier: Apache-2.0
// xarch::Registry: the distribution API operations on top of the transport, and push, pull,
// copy, create_index and inspect on top of them.
#include "registry/operations.hpp"
#include "registry/registry_errors.hpp"
#include "registry/transport.hpp"

#include <xarch/error.hpp>
#include <xarch/registry.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
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
// cannot.
struct Body {
    std::function<std::size_t(char*, std::size_t)> read;
    std::function<void()> rewind;
};

Body bytes_body(std::string_view bytes) {
    auto offset = std::make_shared<std::size_t>(0);
    return Body{[bytes, offset](char* buffer, std::size_t size) {
                    const std::size_t n = std::min(size, bytes.size() - *offset);
                    std::memcpy(buffer, bytes.data() + *offset, n);
                    *offset += n;
                    return n;
                },
                [offset] { *offset = 0; }};
}

Body file_body(const std::filesystem::path& path) {
    auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
    if (!*file) {
        throw Error(ErrorCode::kIo, "cannot open blob " + path.string());
    }
    return Body{[file, path](char* buffer, std::size_t size) {
                    file->read(buffer, static_cast<std::streamsize>(size));
                    if (file->bad()) {
                        throw Error(ErrorCode::kIo, "cannot read blob " + path.string());
                    }
                    return static_cast<std::size_t>(file->gcount());
                },
                [file] {
                    file->clear();
                    file->seekg(0);
                }};
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
        auto r =
            request(op, "GET", registry::manifests_path(ref, ref.identifier()), pull_scope(ref));
        r.headers.set("Accept", std::string(registry::kManifestAccept));
        r.accept_status = {200};
        r.max_body = registry::kMaxManifestBody;
        auto response = transport(ref)->send(r);
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

    Descriptor push_manifest(Op& op, const Reference& ref, const RawContent& content) {
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
        const auto response = transport(ref)->send(r);
        if (auto header = response.headers.get("Docker-Content-Digest")) {
            if (registry::trim(*header) != content.digest.to_string()) {
                throw Error(ErrorCode::kDigestMismatch,
                            "pushed manifest " + content.digest.to_string() + " to " +
                                ref.to_string() + " but the registry stored " +
                                registry::sanitize_for_message(*header));
            }
        }
        return content.descriptor();
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
        auto r = request(op, "HEAD", registry::blobs_path(repo, digest), pull_scope(repo));
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
        // Chunks are buffered so that each PATCH can be retried on its own, whatever the body.
        const auto chunk_size =
            static_cast<std::size_t>(std::max<std::int64_t>(options_.chunk_size, 1));
        std::uint64_t offset = 0;
        while (offset < size) {
            const std::string chunk = registry::read_chunk(body, chunk_size);
            if (chunk.empty()) {
                throw Error(ErrorCode::kDigestMismatch,
                            "blob " + blob.digest.to_string() + " ended after " +
                                std::to_string(offset) + " of " + std::to_string(size) + " bytes");
            }
            auto r = request(op, "PATCH", location, push_scope(repo));
            r.headers.set("Content-Type", "application/octet-stream");
            r.headers.set("Content-Range",
                          std::to_string(offset) + "-" + std::to_string(offset + chunk.size() - 1));
            r.body = chunk;
            r.accept_status = {202};
            r.progress = op.hook(blob.digest, offset, size);
            location = location_of(t->send(r), repo);
            offset += chunk.size();
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
        if (blob_exists(op, repo, blob.digest)) {
            return;
        }
        upload(op, repo, start_upload(op, repo), blob, std::move(body));
    }

    // Registry to registry in memory: small blobs whole, large ones by Range GETs of chunk_size
    // each PATCHed on; verified before the closing PUT, so a corrupt source is never committed.
    void copy_blob(Op& op, const Reference& src, const Reference& dst, const Descriptor& blob) {
        if (blob_exists(op, dst, blob.digest)) {
            return;
        }
        std::string location;
        if (src.registry() == dst.registry() && src.repository() != dst.repository()) {
            auto started = mount_or_start(op, dst, blob.digest, src);
            if (!started) {
                return;
            }
            location = *started;
        } else {
            location = start_upload(op, dst);
        }
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

    ImageIndex referrers(Op& op, const Reference& repo, const Digest& digest) {
        auto r = request(op, "GET", "/v2/" + repo.repository() + "/referrers/" + digest.to_string(),
                         pull_scope(repo));
        r.headers.set("Accept", std::string(media_type::kOciIndex));
        r.accept_status = {200, 404};
        const auto response = transport(repo)->send(r);
        if (response.status == 404) {
            return ImageIndex{};
        }
        return parse_index(response.body, media_type::kOciIndex);
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

    // Layers, then configs (each group in parallel), then child manifests in order.
    void transfer(Op& op,
                  const registry::Plan& p,
                  const std::function<void(const Descriptor&)>& blob,
                  const std::function<void(const RawContent&)>& manifest) {
        for (const auto* group : {&p.layers, &p.configs}) {
            std::vector<std::function<void()>> tasks;
            for (const auto& d : *group) {
                tasks.emplace_back([&blob, &d] { blob(d); });
            }
            registry::run_parallel(std::move(tasks), options_.jobs, op);
        }
        for (const auto& m : p.manifests) {
            op.check();
            manifest(m);
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
        const auto p = plan(
            raw_from_layout(layout, root),
            [&](const Descriptor& d) { return raw_from_layout(layout, d); }, {},
            root.digest.to_string());
        transfer(
            op, p,
            [&](const Descriptor& d) {
                push_blob(op, dst, d, registry::file_body(layout.blob_path(d.digest)));
            },
            [&](const RawContent& m) {
                push_manifest(op, dst.without_tag().with_digest(m.digest.to_string()), m);
            });
        return push_manifest(op, dst, p.root);
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
        const auto p = plan(
            root,
            [&](const Descriptor& d) {
                return fetch_manifest(op, src.without_tag().with_digest(d.digest.to_string()));
            },
            o.platforms, src.to_string());
        transfer(
            op, p, [&](const Descriptor& d) { copy_blob(op, src, dst, d); },
            [&](const RawContent& m) {
                push_manifest(op, dst.without_tag().with_digest(m.digest.to_string()), m);
            });
        Reference target = dst;
        if (dst.has_digest() && dst.digest() != p.root.digest.to_string()) {
            // A platform subset is a new index: its digest is not the one the caller knew.
            target = dst.without_digest();
        }
        return push_manifest(op, target, p.root);
    }

    Descriptor create_index(Op& op,
                            const Reference& dst,
                            const std::vector<Reference>& sources,
                            const std::map<std::string, std::string>& annotations) {
        if (sources.empty()) {
            throw Error(ErrorCode::kInvalidArgument,
                        "create_index for " + dst.to_string() + " needs at least one source");
        }
        ImageIndex index;
        bool all_docker = annotations.empty();
        for (const auto& source : sources) {
            const auto raw = fetch_manifest(op, source);
            const auto pinned = source.without_tag().with_digest(raw.digest.to_string());
            if (source.registry() != dst.registry() || source.repository() != dst.repository()) {
                copy(op, pinned, dst.without_tag().with_digest(raw.digest.to_string()), {});
            }
            std::vector<Descriptor> entries;
            if (media_type::is_index(raw.media_type)) {
                entries = parse_index(raw.bytes, raw.media_type).manifests;
            } else {
                auto d = raw.descriptor();
                const auto manifest = parse_manifest(raw.bytes, raw.media_type);
                if (media_type::is_config(manifest.config.media_type)) {
                    d.platform = parse_config(fetch_blob(op, pinned, manifest.config)).platform();
                }
                entries.push_back(std::move(d));
            }
            for (auto& d : entries) {
                all_docker = all_docker && d.media_type == media_type::kDockerManifest;
                if (std::none_of(index.manifests.begin(), index.manifests.end(),
                                 [&](const Descriptor& e) { return e.digest == d.digest; })) {
                    index.manifests.push_back(std::move(d));
                }
            }
        }
        // Docker's manifest list has no annotations; buildx writes it only for pure Docker input.
        index.media_type =
            std::string(all_docker ? media_type::kDockerManifestList : media_type::kOciIndex);
        index.annotations = annotations;
        return push_manifest(op, dst, index.to_raw());
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
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.referrers(op, repository, digest);
    });
}
Descriptor Registry::push(const OciLayout& layout, const Descriptor& root, const Reference& dst) {
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.push(op, layout, root, dst);
    });
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
    return with_operation(*impl_, [&](Impl& impl, registry::Operation& op) {
        return impl.create_index(op, dst, sources, annotations);
    });
}
InspectResult Registry::inspect(const Reference& ref) {
    return with_operation(
        *impl_, [&](Impl& impl, registry::Operation& op) { return impl.inspect(op, ref); });
}

}  // namespace xarch
