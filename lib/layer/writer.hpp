// SPDX-License-Identifier: Apache-2.0
// Layer blobs from entries: a deterministic tar (moby's canonical headers), compressed in the
// same pass (parallel gzip, multi-threaded zstd, or none) and stored in an OCI layout.
#pragma once

#include "layer/entry.hpp"

#include <xarch/builder.hpp>
#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/oci_layout.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace xarch::layer {

struct WriteOptions {
    Compression compression = Compression::kGzip;
    int level = -1;               // -1: the default (gzip kDefaultGzipLevel, zstd 3)
    unsigned threads = 0;         // 0: one per core; the bytes written do not depend on it
    bool oci_media_types = true;  // false: Docker's layer media types
    std::optional<std::int64_t> clamp_mtime;  // seconds: every mtime > this becomes this
};

struct LayerBlob {
    Descriptor descriptor;  // compressed blob: media type, digest, size
    Digest diff_id;         // sha256 of the uncompressed tar
    std::int64_t uncompressed_size = 0;
};

// The layer media type for a compression: OCI's or Docker's.
std::string_view layer_media_type(Compression compression, bool oci_media_types);

// The order entries take in a layer: component by component, by bytes, so parents come before
// their children. `a` before `b`.
bool layer_order(const Entry& a, const Entry& b);

// Sorts `entries` (layer_order), writes a deterministic tar (PAX only where ustar cannot hold a
// field, uname/gname empty, no atime/ctime, mtime truncated to seconds as moby's archive does),
// compresses it in the same pass and stores it in `store` (the blob appears atomically, and
// not at all on failure). Checks `cancelled` between chunks (Error(kCancelled)). Regular
// files' bytes are read from `data` or else `source_file`, which must have `size` bytes
// (Error(kIo) when it changed).
LayerBlob write_layer(OciLayout& store,
                      std::vector<Entry> entries,
                      const WriteOptions& options,
                      const std::function<bool()>& cancelled = {});

// The uncompressed tar of `entries` (same bytes as inside write_layer) to a sink.
void write_tar(std::vector<Entry> entries,
               const BlobSink& sink,
               std::optional<std::int64_t> clamp_mtime = {});

}  // namespace xarch::layer
