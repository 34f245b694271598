// SPDX-License-Identifier: Apache-2.0
// --cache-to / --cache-from type=registry: cache records and the blobs they reference, as an OCI
// artifact in a registry, so that machines share a build cache.
#pragma once

#include "cache/cache.hpp"

#include <xarch/digest.hpp>
#include <xarch/reference.hpp>
#include <xarch/registry.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace xarch::cache {

// The artifact type of the cache manifest, and the media type of its config: the records.
inline constexpr std::string_view kCacheArtifactType = "application/vnd.xarch.cache.v1";
inline constexpr std::string_view kCacheRecordsMediaType =
    "application/vnd.xarch.cache.records.v1+json";

// Pushes to `ref` an OCI image index holding one manifest (artifactType kCacheArtifactType)
// whose config is {"records": {"<key>": <record>}} for the keys the cache has records for (keys
// without one are left out), and whose layers are every blob those records reference, each
// once. Blobs the registry has are skipped; blobs missing from the cache's content (records
// imported earlier, blobs fetched lazily) are mounted or streamed from the record's
// "source_repository". Throws RegistryError, or Error(kNotFound) for a blob found nowhere.
void export_to_registry(Cache& cache,
                        Registry& registry,
                        const Reference& ref,
                        const std::vector<Digest>& keys);

// Fetches the cache artifact at `ref` and stores its records, each given "source_repository":
// ref.name(), where its blobs are fetched from when needed (no blob is fetched here). Records
// the cache already has are kept as they are. Returns how many records the artifact holds; 0
// when `ref` does not exist (BuildKit warns and builds without it: the caller warns). Throws
// Error(kInvalidArgument) when `ref` is not such an artifact, RegistryError for other failures.
std::size_t import_from_registry(Cache& cache, Registry& registry, const Reference& ref);

}  // namespace xarch::cache
