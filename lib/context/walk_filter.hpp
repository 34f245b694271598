// SPDX-License-Identifier: Apache-2.0
// Walking a build context the way BuildKit's file sync does (tonistiigi/fsutil): a depth-first
// walk in byte order of names, and a filter over it for include/exclude (.dockerignore)
// patterns. The filter does not descend into an excluded directory when no exception pattern
// could re-include anything beneath it, so that large ignored trees (node_modules, .git) cost
// nothing and unreadable ignored directories are no error; when an exception does reach inside,
// it walks in and reports the directories leading to each re-included entry.
#pragma once

#include "context/pattern_matcher.hpp"

#include <xarch/error.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace xarch::context {

// One entry of a walk.
struct WalkEntry {
    std::string path;  // relative to the root, '/'-separated, never "." or empty
    bool is_dir = false;
    struct stat info {};  // lstat of the entry; symlinks are not followed
};

// What the callback wants next (fs.SkipDir): for a directory, not to descend into it; for any
// other entry, to skip the rest of its directory.
enum class WalkAction { kContinue, kSkipDir };

// The callback (fs.WalkDirFunc). It is called once per entry with no error; a directory that
// cannot be read is reported a second time with the error. To stop the walk it throws; a
// WalkError for ENOENT or ENOTDIR (something vanished meanwhile) only skips that entry.
using WalkFunc = std::function<WalkAction(const WalkEntry& entry, std::error_code error)>;

// A failure that ends a walk, with the system error behind it.
class WalkError : public Error {
public:
    WalkError(const std::string& path, std::error_code error);
    const std::error_code& error_code() const noexcept { return error_; }

private:
    std::error_code error_;
};

struct WalkOptions {
    // Called before each directory is read, with its relative path ("" for the root); an error
    // it returns is handled as if reading the directory had failed with it. Lets tests make a
    // directory unreadable even when they run as root.
    std::function<std::error_code(std::string_view dir)> before_read;
};

// fsutil's fs.Walk (Go's filepath.WalkDir): every entry below `root`, depth first, a directory
// before its contents, names in byte order. The root itself is not reported, and errors reading
// it are ignored, as upstream. Throws xarch::Error when `root` is not a directory, and whatever
// `fn` throws.
void walk_directory(const std::filesystem::path& root,
                    const WalkFunc& fn,
                    const WalkOptions& options = {});

// fsutil's FilterOpt.
struct FilterOptions {
    std::vector<std::string> include_patterns;  // keep only what matches one of these
    std::vector<std::string> exclude_patterns;  // drop what matches (the .dockerignore)
};

// fsutil's filterFS. Throws xarch::Error for invalid patterns when built, and from walks when a
// pattern turns out not to compile.
class WalkFilter {
public:
    explicit WalkFilter(const FilterOptions& options);

    // Open(): whether `path` passes the filter, itself or through a parent directory.
    bool allows(std::string_view path) const;

    // Walk(): a callback for a walk that passes on to `next` only what the filter keeps; the
    // directories that lead to a kept entry are passed on first if they were not already. The
    // result carries the state of one walk: make a new one for each walk. Filters stack by
    // wrapping each other's results.
    WalkFunc wrap(WalkFunc next) const;

private:
    struct State;
    std::shared_ptr<const State> state_;
};

}  // namespace xarch::context
