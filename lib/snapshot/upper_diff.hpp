// SPDX-License-Identifier: Apache-2.0
// The layer entries of an overlayfs upper directory: overlay whiteouts and opaque directories
// turned into OCI whiteouts, hard links found by inode; and the scanning both diffs share.
#pragma once

#include "layer/entry.hpp"
#include "layer/merged_view.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace xarch::snapshot {

// The entries of the overlayfs upper directory `upper` as an OCI layer holds them, sorted by
// layer::layer_order: regular files (source_file set), directories, symlinks, fifos, devices;
// files sharing an inode become kHardlink entries naming the first of them in layer order;
// a whiteout (character device 0/0) becomes an empty ".wh.<name>" file (mode 0600, as moby's
// overlay converter writes it), an opaque directory (xattr trusted.overlay.opaque or
// user.overlay.opaque = "y") gets a ".wh..wh..opq" entry inside. Xattrs are kept except the
// overlay's own (trusted.overlay.*, user.overlay.*). Error(kNotFound) when `upper` is missing,
// Error(kIo) when a file cannot be read.
//
// An upper written in a user namespace (a RUN without root) holds the host's ids: with `owners`,
// entries owned by host_uid / host_gid become 0 and, with subordinate ids, host ids start ..
// start + count - 1 of a range become 1 .. count (what the container saw); any other id stays
// (only the overflow id 65534 can occur, and it means the same inside and out).
struct OwnerMap {
    std::uint32_t host_uid = 0;
    std::uint32_t host_gid = 0;
    std::uint32_t uid_start = 0, uid_count = 0;  // the subordinate uids, count 0: none
    std::uint32_t gid_start = 0, gid_count = 0;
};
std::vector<layer::Entry> upper_to_entries(const std::filesystem::path& upper,
                                           const std::optional<OwnerMap>& owners = std::nullopt);

// containerd's overlay differ: drops the directories of `entries` (from upper_to_entries) that
// exist in `lower` with the same mode, owner, mtime (seconds and nanoseconds) and xattrs AND have
// no entry under them (a dir copied up for a mount stub that is gone again); deepest first, so a
// chain of such directories goes whole. Parents of real changes stay, as containerd emits them.
std::vector<layer::Entry> drop_unchanged_dirs(std::vector<layer::Entry> entries,
                                              const layer::MergedView& lower);

// One file read with lstat, with its inode so that hard links can be paired up.
struct ScannedEntry {
    layer::Entry entry;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t links = 1;
};

// `file` (not followed when a symlink) as an entry named `layer_path`: type, mode, ownership,
// mtime, size and source_file (regular files), link target, device numbers, xattrs without the
// overlay's own. Error(kIo) naming the file when it cannot be read.
ScannedEntry scan_entry(const std::filesystem::path& file, std::string layer_path);

// Sorts by layer order and turns every regular file that shares its inode with an earlier one
// into a kHardlink to it (size 0, no source), as a tar of the tree would.
std::vector<layer::Entry> pair_hardlinks(std::vector<ScannedEntry> scanned);

// Whether an xattr belongs to overlayfs itself and so never goes into a layer.
bool is_overlay_xattr(const std::string& name);

}  // namespace xarch::snapshot
