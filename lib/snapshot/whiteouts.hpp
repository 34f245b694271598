// SPDX-License-Identifier: Apache-2.0
// A step's layer entries given the whiteouts BuildKit's differ writes: one ".wh.NAME" per path
// removed from the stage below (never an opaque-directory marker), as containerd's tar writer
// makes them (mode 0, owner 0, time 0).
#pragma once

#include "layer/entry.hpp"
#include "layer/merged_view.hpp"

#include <vector>

namespace xarch::snapshot {

// `entries` (from upper_to_entries or tree_diff, sorted by layer order) with BuildKit's
// whiteouts against `lower`, the stage the step ran on:
// - a ".wh..wh..opq" marker of a directory the lower has becomes one ".wh.NAME" for each lower
//   path under it that the step's directory no longer holds (the topmost of a removed subtree
//   only), as BuildKit's overlay differ walks an opaque directory; a marker of a directory the
//   lower lacks goes;
// - a ".wh.NAME" whose path the lower lacks goes (it hides nothing);
// - every whiteout is an empty regular file with mode 0, uid/gid 0 and mtime 0.
// The result is sorted by layer::layer_order again.
std::vector<layer::Entry> buildkit_whiteouts(std::vector<layer::Entry> entries,
                                             const layer::MergedView& lower);

}  // namespace xarch::snapshot
