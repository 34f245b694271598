// SPDX-License-Identifier: Apache-2.0
// A build context given as a tar stream (`docker build - < context.tar`): extracted with
// libarchive into a private temporary directory that lives as long as the context.
#pragma once

#include <filesystem>
#include <memory>

namespace xarch::context {

// A temporary directory removed, with everything in it, on destruction.
class TempTree {
public:
    // Makes <temp>/xarch-context-XXXXXX (mode 0700). Throws Error(kIo).
    TempTree();
    ~TempTree();
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Extracts the archive (tar, optionally gzip/bzip2/xz/zstd compressed) read from `fd` or from
// `file`. Entries with absolute paths or "..", entries written through a symlink, hard links that
// leave the tree and device nodes are refused with Error(kInvalidArgument) naming the entry; an
// unreadable archive is Error(kInvalidArgument) too.
std::unique_ptr<TempTree> extract_tar_fd(int fd);
std::unique_ptr<TempTree> extract_tar_file(const std::filesystem::path& file);

}  // namespace xarch::context
