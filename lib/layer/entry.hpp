// SPDX-License-Identifier: Apache-2.0
// One file of a layer, as the tar writer takes it and the unpacker reports it: the attributes a
// layer tar header carries, and for regular files where the bytes come from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace xarch::layer {

enum class EntryType : std::uint8_t {
    kRegular,
    kDirectory,
    kSymlink,
    kHardlink,
    kFifo,
    kCharDevice,
    kBlockDevice,
};

// Whiteouts are ordinary entries named ".wh.<name>" (and ".wh..wh..opq" for an opaque
// directory), empty regular files, as OCI layers carry them.
inline constexpr const char* kWhiteoutPrefix = ".wh.";
inline constexpr const char* kOpaqueWhiteout = ".wh..wh..opq";

struct Entry {
    // In the layer: relative, '/'-separated, no leading "/" or "./", no trailing '/', never "".
    std::string path;
    EntryType type = EntryType::kRegular;
    std::uint32_t mode = 0644;  // permission bits with setuid/setgid/sticky (07777), no type bits
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t mtime_ns = 0;  // nanoseconds since the epoch
    std::int64_t size = 0;      // regular files
    // Symlinks: the target as stored. Hardlinks: the layer path of the entry linked to, which
    // comes earlier in the layer.
    std::string link_target;
    std::uint32_t dev_major = 0;
    std::uint32_t dev_minor = 0;
    std::map<std::string, std::string> xattrs;  // name -> raw value
    // Regular files: the bytes are read from `source_file` when the layer is written, unless
    // `data` holds them.
    std::filesystem::path source_file;
    std::optional<std::string> data;

    friend bool operator==(const Entry&, const Entry&) = default;
};

}  // namespace xarch::layer
