// SPDX-License-Identifier: Apache-2.0
// The entries of an unpacked layer, persisted beside it as compact JSON lines so that a later
// build can use the layer without reading its tar again.
#pragma once

#include "layer/entry.hpp"

#include <filesystem>
#include <vector>

namespace xarch::layer {

// One JSON object a line: {"p":path,"t":type,...}; fields at their default are left out, xattr
// values (and paths that are not UTF-8) are base64. Written atomically (temporary file, rename).
void save_entries(const std::vector<Entry>& entries, const std::filesystem::path& file);

// The entries saved by save_entries(); regular files and hard links get source_file =
// root / path. Error(kNotFound) when the file is missing, Error(kInvalidArgument) naming the
// line when it is malformed.
std::vector<Entry> load_entries(const std::filesystem::path& file,
                                const std::filesystem::path& root);

}  // namespace xarch::layer
