// SPDX-License-Identifier: Apache-2.0
// Extracting a layer blob (gzip, zstd or plain tar) into a directory, unprivileged and safely,
// and listing what it held.
#pragma once

#include "layer/entry.hpp"

#include <xarch/digest.hpp>
#include <xarch/oci_layout.hpp>

#include <filesystem>
#include <optional>
#include <vector>

namespace xarch::layer {

// Extracts a layer blob (gzip, zstd or plain tar, told apart by their magic bytes) read from
// `source` into `dir` (created with its parents; it must not exist: Error(kAlreadyExists)) and
// returns its entries sorted by path bytes, with source_file = the extracted file for regular
// files and hard links. Ownership, devices, fifos and xattrs are recorded, not applied (works
// unprivileged); modes and mtimes are applied (unprivileged, the owner keeps u+r, and u+rx on
// directories, so the files stay readable); hard links are made as hard links; whiteout
// entries are kept as the empty files they are. Refuses an entry whose path or link leaves
// `dir` (absolute, "..", through a symlink or file extracted earlier) with
// Error(kInvalidArgument) naming the entry. When `expected_diff_id` is given, the sha256 of the
// uncompressed tar must equal it (Error(kDigestMismatch)).
std::vector<Entry> unpack_layer(const BlobReader& source,
                                const std::filesystem::path& dir,
                                const std::optional<Digest>& expected_diff_id = {});

}  // namespace xarch::layer
