// SPDX-License-Identifier: Apache-2.0
// The filesystem of a stack of unpacked layers, whiteouts applied, as a container would see it;
// and its export to a directory (type=local).
#pragma once

#include "layer/entry.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::layer {

// The layers' files are read, never written. Paths are absolute ("/etc/passwd") or relative to
// the root ("etc/passwd"); entries returned carry the relative path. Copies share the index;
// a view is immutable and safe to use from several threads.
class MergedView {
public:
    struct Layer {
        std::filesystem::path dir;  // where the layer is unpacked
        std::vector<Entry> entries;
    };

    // Builds the index once (path -> the entry of the topmost layer holding it): ".wh.NAME"
    // hides NAME of lower layers, ".wh..wh..opq" the lower contents of its directory, and an
    // entry that is not a directory replaces a lower directory with everything under it.
    // Directories that a layer implies (a parent it lacks) appear as 0755 root directories.
    explicit MergedView(std::vector<std::shared_ptr<const Layer>> layers);

    // The entry at `path` exactly (no symlink followed), nullopt when absent. "/" gives a 0755
    // directory entry with an empty path.
    std::optional<Entry> lookup(std::string_view path) const;
    // `path` with the symlinks in it resolved inside the root as chroot would (absolute targets
    // start at the root, ".." stops at "/"); follow_last: whether a final symlink is followed
    // too. Returns the clean absolute path, which need not exist. More than 255 symlinks is
    // Error(kInvalidArgument).
    std::string resolve(std::string_view path, bool follow_last) const;
    // Every entry under `dir` (not `dir` itself, no symlink followed), sorted by path bytes,
    // recursive; source_file set for regular files and hard links.
    std::vector<Entry> list(std::string_view dir) const;
    // The content of a regular file (following symlinks), nullopt when absent or not a file.
    std::optional<std::string> read_file(std::string_view path) const;
    // The whole filesystem (`list("/")`).
    std::vector<Entry> all() const;

    const std::vector<std::shared_ptr<const Layer>>& layers() const noexcept { return layers_; }

    struct Index;

private:
    std::vector<std::shared_ptr<const Layer>> layers_;
    std::shared_ptr<const Index> index_;
};

// Writes the filesystem of `view` under `dest` (type=local): created when missing; what is in
// the way is replaced. Files are copied (copy_file_range), hard links within the export kept,
// modes and mtimes applied (a directory's after its contents), ownership and device nodes only
// when running as root.
void export_directory(const MergedView& view, const std::filesystem::path& dest);

}  // namespace xarch::layer
