// SPDX-License-Identifier: Apache-2.0
// Scanning a context directory: the filtered walk (walk_filter), one record per entry in walk
// order, and sha256 digests of the regular files computed on a pool of threads, streaming, with
// digests of unchanged files taken from the stat cache.
#pragma once

#include "context/stat_cache.hpp"
#include "context/walk_filter.hpp"

#include <xarch/context.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace xarch::context {

struct ScanRequest {
    std::filesystem::path root;
    std::vector<std::string> exclude_patterns;  // the .dockerignore, with its exceptions
    unsigned threads = 0;                       // 0: one per core
    StatCache* cache = nullptr;                 // read and refreshed when set
    // Tests: called before each directory is read (see WalkOptions::before_read).
    std::function<std::error_code(std::string_view dir)> before_read;
};

struct ScanResult {
    std::vector<ContextEntry> entries;
    ScanStats stats;
};

// Throws Error(kPermissionDenied) or Error(kIo) naming what cannot be read, Error(kNotFound) when
// the root is not a directory, Error(kInvalidArgument) for bad patterns.
ScanResult scan_directory(const ScanRequest& request);

// The record of one walked entry, as a scan keeps it, without its digest: type, mode, owner,
// size (regular files), mtime, and a symlink's target (read from `root`). Throws Error naming
// a symlink that cannot be read.
ContextEntry entry_of(const std::filesystem::path& root, const WalkEntry& walked);

// What a walk that could not read a directory of the context reports: Error(kPermissionDenied
// or kIo) naming it and saying what to do.
Error context_read_error(const WalkError& error);

// The order of a walk: by path, component by component, so a directory comes right before its
// contents ("a", "a/b", "a-b"): bytes compared with '/' lowest.
bool walk_order_less(std::string_view a, std::string_view b);

}  // namespace xarch::context
