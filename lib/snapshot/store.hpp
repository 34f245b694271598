// SPDX-License-Identifier: Apache-2.0
// The snapshot store: layers as overlay-format directories (the lowers of a RUN step's overlay
// mount), fresh workspaces for a step, and committing a step's upper directory as a layer.
#pragma once

#include "layer/entry.hpp"
#include "layer/merged_view.hpp"
#include "snapshot/upper_diff.hpp"

#include <xarch/digest.hpp>

#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace xarch::snapshot {

// <dir>/layers/<diff_id hex>/   a layer in overlay format (whiteouts are 0/0 character devices,
//                               opaque directories carry trusted.overlay.opaque="y")
// <dir>/used/<diff_id hex>      its use time (mtime, for the cache's least-recently-used prune)
//                               and size in bytes (content); outside the layer, which a
//                               container sees
// <dir>/tmp/                    layers being made, workspaces, the overlay probe
// Shared safely by threads and processes: everything is made under tmp/ and renamed into place.
class SnapshotStore {
public:
    // `dir` is <cache dir>/snapshots; created when missing. Error(kIo) when it cannot be.
    explicit SnapshotStore(std::filesystem::path dir);

    const std::filesystem::path& dir() const noexcept { return dir_; }

    // Whether overlayfs works here (probed once per process, thread-safe; mounts a tiny overlay of
    // dirs under `dir` in a forked child's private mount namespace, so nothing leaks).
    bool overlay_supported();

    // The overlay-format directory of a layer, made once per diff ID from `layer` (its entries and
    // their source_file): OCI ".wh.NAME" -> 0/0 char device NAME, ".wh..wh..opq" -> xattr
    // trusted.overlay.opaque="y" on its directory; regular files hard-linked from source_file when
    // on the same filesystem with the same metadata, else copied; ownership, modes, mtimes, xattrs
    // applied (not overlayfs's own trusted.overlay.* / user.overlay.*, which a tar never decides).
    // Made under dir/tmp then renamed into dir/layers/<diff_id hex>; concurrent callers (threads,
    // processes) share one. Device nodes need root (0/0 whiteouts too before Linux 5.8):
    // Error(kPermissionDenied) naming the entry; without root, ownership is not applied.
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

    // Makes `ws.upper()` the layer dir of `diff_id` (rename; when one exists already, keeps it and
    // drops ws's). Returns the final layer dir. Entries taken from the upper must then be
    // re-rooted there (rebase).
    std::filesystem::path commit(Workspace& ws, const Digest& diff_id);

    // `entries` with every source_file under `from` moved to the same place under `to`.
    static std::vector<layer::Entry> rebase(std::vector<layer::Entry> entries,
                                            const std::filesystem::path& from,
                                            const std::filesystem::path& to);

private:
    std::filesystem::path build_layer_dir(const std::string& hex,
                                          const layer::MergedView::Layer& layer);
    bool probe_overlay();

    std::filesystem::path dir_;
    std::once_flag probed_;
    bool overlay_ = false;
    std::mutex mutex_;
    // diff_id hex -> the layer dir being made, so that threads share one build; removed once made
    // (later callers find the directory).
    std::map<std::string, std::shared_future<std::filesystem::path>> building_;
};

// drop_unchanged_dirs() is declared in snapshot/upper_diff.hpp (included above).

}  // namespace xarch::snapshot
