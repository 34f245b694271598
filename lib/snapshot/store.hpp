// SPDX-License-Identifier: Apache-2.0
// The snapshot store: layers as overlay-format directories (the lowers of a RUN step's overlay
// mount), fresh workspaces for a step, and committing a step's upper directory as a layer.
#pragma once

#include "layer/entry.hpp"
#include "layer/merged_view.hpp"
#include "snapshot/upper_diff.hpp"
#include "util/single_flight.hpp"

#include <xarch/digest.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace xarch::snapshot {

// How overlayfs can be mounted here: not at all; as root, reading the trusted.overlay.* xattrs;
// without root, in a user namespace with the `userxattr` option (Linux >= 5.11), reading
// user.overlay.* instead.
enum class OverlayMode { kNone, kTrusted, kUserxattr };

// Where a store keeps its layer dirs and their stamps. Made as root, a layer dir has the entries'
// owners and trusted.overlay.opaque; made without root, the caller's ownership and
// user.overlay.opaque. The two never mix, so one cache dir serves both; kLayerAreas lists them
// for the cache's size count and prune.
struct LayerArea {
    const char* layers;
    const char* used;
};
inline constexpr LayerArea kRootLayerArea{"layers", "used"};
inline constexpr LayerArea kRootlessLayerArea{"layers-userxattr", "used-userxattr"};
inline constexpr LayerArea kLayerAreas[] = {kRootLayerArea, kRootlessLayerArea};

// <dir>/layers/<diff_id hex>/   a layer in overlay format (whiteouts are 0/0 character devices,
//                               opaque directories carry trusted.overlay.opaque="y"), made as root
// <dir>/used/<diff_id hex>      its use time (mtime, for the cache's least-recently-used prune)
//                               and size in bytes (content); outside the layer, which a
//                               container sees
// <dir>/layers-userxattr/, <dir>/used-userxattr/   the same, made without root (opaque
//                               directories carry user.overlay.opaque="y")
// <dir>/tmp/                    layers being made, workspaces, the overlay probe
// Shared safely by threads and processes: everything is made under tmp/ and renamed into place.
class SnapshotStore {
public:
    // `dir` is <cache dir>/snapshots; created when missing. Error(kIo) when it cannot be.
    explicit SnapshotStore(std::filesystem::path dir);

    const std::filesystem::path& dir() const noexcept { return dir_; }

    // How overlayfs can be mounted here (probed once per process, thread-safe). The probe mounts
    // a tiny overlay of dirs under `dir` with a whiteout and an opaque dir in a forked child's
    // private mount namespace, so nothing leaks: as root kTrusted or kNone; without root the
    // child first enters a user namespace mapping the caller to uid/gid 0 (one mapping each) and
    // mounts with `userxattr`, giving kUserxattr or kNone.
    OverlayMode overlay_mode();
    bool overlay_supported() { return overlay_mode() != OverlayMode::kNone; }

    // Whether this store works without root (its layer dirs are in kRootlessLayerArea).
    bool rootless() const noexcept { return rootless_; }

    // The overlay-format directory of a layer, made once per diff ID from `layer` (its entries and
    // their source_file): OCI ".wh.NAME" -> 0/0 char device NAME, ".wh..wh..opq" -> xattr
    // trusted.overlay.opaque="y" (user.overlay.opaque="y" without root) on its directory; regular
    // files hard-linked from source_file when on the same filesystem with the same metadata, else
    // copied; modes, mtimes, xattrs applied (not overlayfs's own trusted.overlay.* /
    // user.overlay.*, which a tar never decides), ownership only as root: without root every file
    // keeps the caller's, which a user namespace mapping the caller to 0 shows as root.
    // Made under dir/tmp then renamed into dir/layers/<diff_id hex> (dir/layers-userxattr/...
    // without root); concurrent callers (threads, processes) share one. Device nodes other than
    // whiteouts need root, and so do security.* and trusted.* xattrs (0/0 whiteouts too before
    // Linux 5.8): Error(kPermissionDenied) naming the entry.
    std::filesystem::path layer_dir(const Digest& diff_id, const layer::MergedView::Layer& layer);

    // A fresh workspace for one step: dir/tmp/<random>/{root,upper,work}; removed by the
    // destructor (all of it: after commit() the upper is no longer in it). Move-only.
    class Workspace {
    public:
        Workspace(Workspace&& other) noexcept;
        Workspace& operator=(Workspace&& other) noexcept;
        Workspace(const Workspace&) = delete;
        Workspace& operator=(const Workspace&) = delete;
        ~Workspace();

        const std::filesystem::path& root() const { return root_; }
        const std::filesystem::path& upper() const { return upper_; }
        const std::filesystem::path& work() const { return work_; }

    private:
        friend class SnapshotStore;
        explicit Workspace(std::filesystem::path base);
        std::filesystem::path base_, root_, upper_, work_;
    };
    Workspace workspace();

    // Makes `ws.upper()` the layer dir of `diff_id` in this store's area (rename; when one exists
    // already, keeps it and drops ws's). Returns the final layer dir. Entries taken from the upper
    // must then be re-rooted there (rebase).
    std::filesystem::path commit(Workspace& ws, const Digest& diff_id);

    // `entries` with every source_file under `from` moved to the same place under `to`.
    static std::vector<layer::Entry> rebase(std::vector<layer::Entry> entries,
                                            const std::filesystem::path& from,
                                            const std::filesystem::path& to);

private:
    std::filesystem::path build_layer_dir(const std::string& hex,
                                          const layer::MergedView::Layer& layer);
    OverlayMode probe_overlay();

    std::filesystem::path dir_;
    bool rootless_;
    std::filesystem::path layers_, used_;  // this store's LayerArea under dir_
    std::once_flag probed_;
    OverlayMode overlay_ = OverlayMode::kNone;
    util::SingleFlight<std::filesystem::path> building_;  // layer dirs being made, by hex
};

// drop_unchanged_dirs() is declared in snapshot/upper_diff.hpp (included above).

}  // namespace xarch::snapshot
