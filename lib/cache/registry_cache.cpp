// SPDX-License-Identifier: Apache-2.0
// The build cache as an OCI artifact in a registry: export and import.
#include "cache/registry_cache.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace xarch::cache {

namespace bj = boost::json;

namespace {

constexpr std::size_t kMaxRecordsBytes = std::size_t{256} << 20;

[[noreturn]] void not_a_cache(const Reference& ref, const std::string& why) {
    throw Error(ErrorCode::kInvalidArgument,
                "\"" + ref.to_string() + "\" is not an xarch build cache (" + why +
                    "): point cache-from at a ref written by cache-to type=registry");
}

bool is_not_found(const Error& e) {
    return e.code() == ErrorCode::kNotFound;
}

}  // namespace

void export_to_registry(Cache& cache,
                        Registry& registry,
                        const Reference& ref,
                        const std::vector<Digest>& keys) {
    OciLayout& store = cache.content();
    bj::object records;
    Manifest manifest;
    manifest.artifact_type = std::string(kCacheArtifactType);
    std::set<std::string> seen;
    PushOptions push_options;
    for (const Digest& key : keys) {
        if (records.contains(key.to_string())) {
            continue;
        }
        std::optional<std::string> json = cache.get_record(key);
        if (!json) {
            continue;
        }
        bj::value record = bj::parse(*json);
        if (!record.is_object()) {
            throw Error(ErrorCode::kInvalidArgument, "cache record " + key.to_string() +
                                                         " is not a JSON object: run `xarch "
                                                         "prune` to drop the damaged cache");
        }
        std::optional<Reference> source;
        if (const bj::value* s = record.as_object().if_contains("source_repository");
            s != nullptr && s->is_string() && !s->as_string().empty()) {
            source = Reference::parse_repository(std::string(s->as_string()));
        }
        if (const bj::value* blobs = record.as_object().if_contains("blobs");
            blobs != nullptr && blobs->is_array()) {
            for (const bj::value& blob : blobs->as_array()) {
                Descriptor descriptor = parse_descriptor(bj::serialize(blob));
                if (source && !store.has_blob(descriptor.digest)) {
                    push_options.mount_from.emplace(descriptor.digest, *source);
                }
                if (seen.insert(descriptor.digest.to_string()).second) {
                    manifest.layers.push_back(std::move(descriptor));
                }
            }
        }
        records.emplace(key.to_string(), std::move(record));
    }
    const std::string config = bj::serialize(bj::object{{"records", std::move(records)}});
    manifest.config = store.store_blob(std::string(kCacheRecordsMediaType), config);
    const RawContent manifest_raw = manifest.to_raw();
    store.write_blob(manifest_raw.descriptor(), manifest_raw.bytes);

    ImageIndex index;
    Descriptor entry = manifest_raw.descriptor();
    entry.artifact_type = std::string(kCacheArtifactType);
    index.manifests.push_back(std::move(entry));
    const RawContent index_raw = index.to_raw();
    store.write_blob(index_raw.descriptor(), index_raw.bytes);
    // The three documents stay in the content store unreferenced: the next prune removes them.
    registry.push(store, index_raw.descriptor(), ref, push_options);
}

std::size_t import_from_registry(Cache& cache, Registry& registry, const Reference& ref) {
    RawContent root;
    try {
        root = registry.fetch_manifest(ref);
    } catch (const Error& e) {
        if (is_not_found(e)) {
            return 0;
        }
        throw;
    }
    if (media_type::is_index(root.media_type)) {
        const ImageIndex index = parse_index(root.bytes, root.media_type);
        const Descriptor* found = nullptr;
        for (const Descriptor& d : index.manifests) {
            if (d.artifact_type == kCacheArtifactType) {
                found = &d;
                break;
            }
        }
        if (found == nullptr) {
            not_a_cache(ref, "its index lists no manifest of artifact type " +
                                 std::string(kCacheArtifactType));
        }
        root = registry.fetch_manifest(ref.with_digest(found->digest.to_string()));
    }
    if (!media_type::is_manifest(root.media_type)) {
        not_a_cache(ref, "media type " + root.media_type);
    }
    const Manifest manifest = parse_manifest(root.bytes, root.media_type);
    if (manifest.config.media_type != kCacheRecordsMediaType) {
        not_a_cache(ref, "config media type " + manifest.config.media_type);
    }
    if (manifest.config.size < 0 ||
        static_cast<std::uint64_t>(manifest.config.size) > kMaxRecordsBytes) {
        not_a_cache(ref, "records larger than 256 MiB");
    }
    const std::string config = registry.fetch_blob(ref, manifest.config);
    boost::system::error_code ec;
    bj::value parsed = bj::parse(config, ec);
    if (ec || !parsed.is_object() || !parsed.as_object().contains("records") ||
        !parsed.as_object().at("records").is_object()) {
        not_a_cache(ref, "its config has no \"records\" object");
    }
    const std::string source = ref.name();
    std::size_t count = 0;
    for (auto& [key, value] : parsed.as_object().at("records").as_object()) {
        if (!value.is_object()) {
            not_a_cache(ref, "record " + std::string(key) + " is not an object");
        }
        const Digest digest = Digest::parse(std::string_view(key.data(), key.size()));
        ++count;
        if (cache.get_record(digest)) {
            continue;  // ours has its blobs here already
        }
        value.as_object()["source_repository"] = source;
        cache.put_record(digest, bj::serialize(value));
    }
    return count;
}

}  // namespace xarch::cache
