// SPDX-License-Identifier: Apache-2.0
// The persistent build cache directory: content store, step records by cache key, unpacked
// layers, the lease builds hold, and prune.
#pragma once

#include "layer/entry.hpp"
#include "layer/merged_view.hpp"
#include "oci/fs.hpp"
#include "util/single_flight.hpp"

#include <xarch/builder.hpp>
#include <xarch/digest.hpp>
#include <xarch/oci_layout.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::cache {

// A persistent build cache directory, shared safely by concurrent builds, threads and processes:
//   <dir>/content/   an OciLayout: every blob (layers, configs, manifests, indexes)
//   <dir>/records/<hex[0:2]>/<hex>.json   step results by cache key (atomic writes)
//   <dir>/unpacked/<diff_id hex>/{root/,entries.jsonl,size}  unpacked layers for MergedView
//   <dir>/snapshots/   a snapshot::SnapshotStore: layers/<diff_id hex>/ (overlay format),
//                      used/<diff_id hex> (use time and size), their -userxattr twins made
//                      without root, tmp/
//   <dir>/tmp/  <dir>/lock
// Use times (for prune's least-recently-used order) are file modification times: a record's is
// refreshed when it is read, an unpacked layer's entries.jsonl when the layer is used, a snapshot
// layer's used/<hex> stamp when the layer is used.
class Cache {
public:
    // $XDG_CACHE_HOME/xarch, else $HOME/.cache/xarch. Error(kNotFound) when neither is set.
    static std::filesystem::path default_dir();

    // Creates the directory and its layout when missing. Error(kIo) when it cannot be written.
    explicit Cache(std::filesystem::path dir);

    const std::filesystem::path& dir() const noexcept { return dir_; }
    OciLayout& content() noexcept { return content_; }

    // The record stored for `key` (a step's cache key), nullopt when none. Refreshes its use time.
    std::optional<std::string> get_record(const Digest& key);
    // Stores (or replaces) the record; readers see the old or the new one, never a mix.
    void put_record(const Digest& key, std::string_view json);

    using Unpack = std::function<std::vector<layer::Entry>(const std::filesystem::path& dir)>;
    // The unpacked layer for `diff_id`. Unpacked once: `unpack(dir)` fills `dir` (which does not
    // exist yet, as layer::unpack_layer wants) under tmp/, then the whole folder is renamed into
    // place, so concurrent callers in any process see a whole layer or none; a caller that loses
    // the race drops its copy and uses the winner's. Concurrent callers in this process wait for
    // one unpack and share the same Layer object. Entries carry source_file under the final place.
    std::shared_ptr<const layer::MergedView::Layer> unpacked(const Digest& diff_id,
                                                             const Unpack& unpack);

    // A shared flock on <dir>/lock, held by every build for its duration so that prune (which
    // takes it exclusive) waits for builds to finish. Move-only.
    class Lease {
    public:
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) noexcept = default;

    private:
        friend class Cache;
        explicit Lease(oci::fs::FileLock lock) : lock_(std::move(lock)) {}
        oci::fs::FileLock lock_;
    };
    // Blocks while a prune runs.
    Lease lease();

    // Removes records, unpacked layers and snapshot layers, least recently used first, until the
    // cache holds at most options.keep_storage bytes (everything when nullopt), and every content
    // blob that no remaining record references (content/index.json's entries count as references,
    // unless everything goes). Waits for the leases of running builds; a thread must not hold a
    // lease while it prunes. removed_entries counts records, unpacked layers, snapshot layers and
    // blobs removed. Leftovers in snapshots/tmp older than a day go too.
    PruneResult prune(const PruneOptions& options);

    // <dir>/snapshots: where the snapshot store lives (made by the store, pruned here).
    std::filesystem::path snapshots_dir() const { return dir_ / "snapshots"; }

    // <dir>/tmp: scratch space on the cache's filesystem (renames from it are atomic).
    std::filesystem::path temp_dir() const { return dir_ / "tmp"; }

private:
    using LayerPtr = std::shared_ptr<const layer::MergedView::Layer>;
    std::filesystem::path record_path(const Digest& key) const;
    LayerPtr load_or_unpack(const Digest& diff_id, const Unpack& unpack);

    std::filesystem::path dir_;
    OciLayout content_;
    std::mutex mutex_;
    std::map<std::string, LayerPtr> layers_;  // diff_id hex -> the layer unpacked or loaded
    util::SingleFlight<LayerPtr> unpacking_;
};

}  // namespace xarch::cache
