// SPDX-License-Identifier: Apache-2.0
// The tar headers of one layer entry as Go's archive/tar writes them for moby's canonical
// headers: ustar when every field fits, else a PAX extended header before it.
#pragma once

#include "layer/entry.hpp"

#include <cstdint>
#include <string>

namespace xarch::layer {

inline constexpr std::size_t kTarBlock = 512;

// The header block(s) of `entry` (with `mtime_seconds` already clamped and truncated): a PAX
// header and its records when needed, then the ustar header. A multiple of 512 bytes.
std::string tar_header(const Entry& entry, std::int64_t mtime_seconds, std::int64_t size);

// The zero bytes that pad `size` bytes of content to a whole block.
std::size_t tar_padding(std::int64_t size);

}  // namespace xarch::layer
