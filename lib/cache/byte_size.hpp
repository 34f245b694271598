// SPDX-License-Identifier: Apache-2.0
// Byte sizes as docker's go-units reads and writes them: "10gb", "512MB", "1.5GiB" in; "1.2GB" out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xarch::cache {

// go-units RAMInBytes (buildx's --keep-storage): a decimal number, an optional space, then an
// optional unit k, m, g, t or p (any case) meaning powers of 1024, an optional "i" and an
// optional "b": "10gb", "512MB", "1.5GiB", "4096". Throws Error(kInvalidArgument) quoting the text.
std::int64_t parse_byte_size(std::string_view text);

// go-units HumanSize: decimal units (B, kB, MB, GB, ...) with 4 significant digits, as buildx
// prints "Total:\t1.2GB".
std::string format_byte_size(std::int64_t bytes);

}  // namespace xarch::cache
