// SPDX-License-Identifier: Apache-2.0
// The copy-based fallback for a snapshot: the layer entries that turn a lower view into a
// root filesystem directory, found by walking both.
#pragma once

#include "layer/entry.hpp"
#include "layer/merged_view.hpp"

#include <filesystem>
#include <vector>

namespace xarch::snapshot {

// The entries an upper directory would hold had `rootfs` (a full copy of `lower` after a step)
// been an overlay mount over `lower`, sorted by layer::layer_order: new entries, changed ones
// (type, mode, ownership, size, mtime, link target, device numbers or xattrs differ), deleted
// ones as ".wh.<name>" (only the topmost deleted path; its parent's mtime, mode 0600), and the
// parent directories of all of them. Regular files with equal metadata count as unchanged, as in
// BuildKit's double-walking differ; only when both mtimes lack nanoseconds (precision lost, as
// through a tar) are the bytes compared, as containerd's continuity does. Hard links among the
// entries are paired (upper_to_entries). Error(kNotFound) when `rootfs` is missing, Error(kIo)
// when a file cannot be read.
std::vector<layer::Entry> tree_diff(const layer::MergedView& lower,
                                    const std::filesystem::path& rootfs);

}  // namespace xarch::snapshot
