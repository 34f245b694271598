// SPDX-License-Identifier: Apache-2.0
// The persistent build cache: records, unpacked layers, leases and least-recently-used prune.
#include "cache/cache.hpp"

#include "layer/entries_file.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <set>
#include <system_error>
#include <utility>

namespace xarch::cache {

namespace {

using oci::fs::remove_tree;
using oci::fs::remove_tree_quietly;
using oci::fs::tree_size;

namespace stdfs = std::filesystem;

constexpr std::size_t kMaxRecordBytes = std::size_t{64} << 20;
constexpr const char* kEntriesFile = "entries.jsonl";
constexpr const char* kSizeFile = "size";
// snapshots/tmp holds workspaces of running steps; older than this they are crash leftovers.
constexpr std::int64_t kSnapshotTempAgeNs = std::int64_t{24} * 3600 * 1'000'000'000;

stdfs::path make_dir(const stdfs::path& dir) {
    oci::fs::make_directories(dir);
    return dir;
}

// Sets the modification time to now: the use time prune orders by. A file removed meanwhile is
// no error (a concurrent prune); other failures only make the order less exact.
void touch(const stdfs::path& file) noexcept {
    ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0);
}

std::int64_t stored_size(const stdfs::path& file) {
    struct stat st {};
    return ::lstat(file.c_str(), &st) == 0 ? st.st_size : 0;
}

// Modification time in nanoseconds, 0 when the file is gone.
std::int64_t use_time(const stdfs::path& file) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        return 0;
    }
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// The digests of a record's "blobs" array; the rest of the record is the solver's business. A
// record that is not such JSON references nothing.
std::vector<std::string> record_blobs(const std::string& json) {
    std::vector<std::string> digests;
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(json, ec);
    if (ec || !value.is_object()) {
        return digests;
    }
    const boost::json::value* blobs = value.as_object().if_contains("blobs");
    if (blobs == nullptr || !blobs->is_array()) {
        return digests;
    }
    for (const boost::json::value& blob : blobs->as_array()) {
        if (!blob.is_object()) {
            continue;
        }
        if (const boost::json::value* digest = blob.as_object().if_contains("digest");
            digest != nullptr && digest->is_string()) {
            digests.emplace_back(digest->as_string());
        }
    }
    return digests;
}

// The entries of a layer unpacked at a temporary place, pointed at where it now is.
void rebase(std::vector<layer::Entry>& entries, const stdfs::path& root) {
    for (layer::Entry& entry : entries) {
        if (!entry.source_file.empty()) {
            entry.source_file = root / entry.path;
        }
    }
}

}  // namespace

stdfs::path Cache::default_dir() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
        return stdfs::path(xdg) / "xarch";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
        return stdfs::path(home) / ".cache" / "xarch";
    }
    throw Error(ErrorCode::kNotFound,
                "cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set; set one "
                "or give the cache directory explicitly (--cache-dir)");
}

Cache::Cache(stdfs::path dir)
    : dir_(std::move(dir)), content_(OciLayout::create(make_dir(dir_) / "content")) {
    make_dir(dir_ / "records");
    make_dir(dir_ / "unpacked");
    make_dir(temp_dir());
}

stdfs::path Cache::record_path(const Digest& key) const {
    const std::string hex(key.hex());
    if (hex.size() < 2) {
        throw Error(ErrorCode::kInvalidArgument, "cache key \"" + key.to_string() +
                                                     "\" has no hex digest: pass a sha256 digest");
    }
    return dir_ / "records" / hex.substr(0, 2) / (hex + ".json");
}

std::optional<std::string> Cache::get_record(const Digest& key) {
    const stdfs::path path = record_path(key);
    std::optional<std::string> record = oci::fs::read_file(path, kMaxRecordBytes);
    if (record) {
        touch(path);
    }
    return record;
}

void Cache::put_record(const Digest& key, std::string_view json) {
    const stdfs::path path = record_path(key);
    oci::fs::make_directories(path.parent_path());
    oci::fs::write_file_atomic(path, json);
}

Cache::LayerPtr Cache::unpacked(const Digest& diff_id, const Unpack& unpack) {
    const std::string hex(diff_id.hex());
    const stdfs::path entries_file = dir_ / "unpacked" / hex / kEntriesFile;
    LayerPtr known;
    {
        std::lock_guard lock(mutex_);
        if (auto it = layers_.find(hex); it != layers_.end()) {
            known = it->second;
        }
    }
    if (known) {
        if (stdfs::exists(entries_file)) {
            touch(entries_file);
            return known;
        }
        // Pruned by another process since: forget it and unpack again.
        std::lock_guard lock(mutex_);
        layers_.erase(hex);
    }
    // Threads asking at once share one unpack (processes race on the rename); a failure is
    // tried again by the next caller.
    return unpacking_.run(hex, [&] {
        LayerPtr layer = load_or_unpack(diff_id, unpack);
        std::lock_guard lock(mutex_);
        layers_[hex] = layer;
        return layer;
    });
}

Cache::LayerPtr Cache::load_or_unpack(const Digest& diff_id, const Unpack& unpack) {
    const stdfs::path place = dir_ / "unpacked" / std::string(diff_id.hex());
    const auto load = [&] {
        auto layer = std::make_shared<layer::MergedView::Layer>();
        layer->dir = place / "root";
        layer->entries = layer::load_entries(place / kEntriesFile, layer->dir);
        touch(place / kEntriesFile);
        return LayerPtr(std::move(layer));
    };
    if (stdfs::exists(place / kEntriesFile)) {
        return load();
    }
    const stdfs::path temp = temp_dir() / oci::fs::temp_name();
    oci::fs::make_directories(temp);
    try {
        std::vector<layer::Entry> entries = unpack(temp / "root");
        layer::save_entries(entries, temp / kEntriesFile);
        std::int64_t size = 0;
        for (const layer::Entry& entry : entries) {
            size += entry.type == layer::EntryType::kRegular ? entry.size : 0;
        }
        size += stored_size(temp / kEntriesFile);
        oci::fs::write_file_atomic(temp / kSizeFile, std::to_string(size));
        if (oci::fs::rename_dir_into_place(temp, place)) {
            auto layer = std::make_shared<layer::MergedView::Layer>();
            layer->dir = place / "root";
            rebase(entries, layer->dir);
            layer->entries = std::move(entries);
            return layer;
        }
    } catch (...) {
        remove_tree_quietly(temp);
        throw;
    }
    // Another process unpacked the same layer first: theirs is whole, ours goes.
    remove_tree_quietly(temp);
    return load();
}

Cache::Lease Cache::lease() {
    return Lease(oci::fs::FileLock::acquire(dir_ / "lock", oci::fs::FileLock::Mode::kShared));
}

PruneResult Cache::prune(const PruneOptions& options) {
    const oci::fs::FileLock lock =
        oci::fs::FileLock::acquire(dir_ / "lock", oci::fs::FileLock::Mode::kExclusive);
    {
        // Layers this process remembers may be among those removed; unpacked() loads again.
        std::lock_guard guard(mutex_);
        layers_.clear();
    }
    PruneResult result;
    std::error_code ec;

    // No build runs while the lock is exclusive, so whatever tmp/ holds is left over.
    for (stdfs::directory_iterator it(temp_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        const std::int64_t size =
            it->is_directory() ? tree_size(it->path()) : stored_size(it->path());
        remove_tree(it->path());
        result.freed_bytes += size;
    }
    // A SnapshotStore may be in use without a lease (a step's workspace), so only what is
    // surely abandoned goes.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    for (stdfs::directory_iterator it(snapshots_dir() / "tmp", ec), end; !ec && it != end;
         it.increment(ec)) {
        if (now - use_time(it->path()) < kSnapshotTempAgeNs) {
            continue;
        }
        const std::int64_t size =
            it->is_directory() ? tree_size(it->path()) : stored_size(it->path());
        remove_tree(it->path());
        result.freed_bytes += size;
    }

    struct Item {
        stdfs::path path;
        std::int64_t time = 0;
        std::int64_t size = 0;
        bool is_record = false;
        std::vector<std::string> blobs;
        stdfs::path stamp;  // snapshot layers: snapshots/used/<hex>
    };
    std::vector<Item> items;
    for (stdfs::recursive_directory_iterator it(dir_ / "records", ec), end; !ec && it != end;
         it.increment(ec)) {
        if (it->path().filename().string().starts_with(oci::fs::kTempPrefix)) {
            // A write_file_atomic() that crashed before its rename.
            result.freed_bytes += stored_size(it->path());
            ::unlink(it->path().c_str());
            continue;
        }
        if (!it->is_regular_file() || it->path().extension() != ".json") {
            continue;
        }
        Item item{it->path(), use_time(it->path()), stored_size(it->path()), true, {}, {}};
        if (std::optional<std::string> json = oci::fs::read_file(it->path(), kMaxRecordBytes)) {
            item.blobs = record_blobs(*json);
        }
        items.push_back(std::move(item));
    }
    for (stdfs::directory_iterator it(dir_ / "unpacked", ec), end; !ec && it != end;
         it.increment(ec)) {
        const stdfs::path& place = it->path();
        std::int64_t size = 0;
        if (std::optional<std::string> text = oci::fs::read_file(place / kSizeFile, 64)) {
            size = std::strtoll(text->c_str(), nullptr, 10);
        } else {
            size = tree_size(place);
        }
        const std::int64_t time =
            use_time(stdfs::exists(place / kEntriesFile) ? place / kEntriesFile : place);
        items.push_back(Item{place, time, size, false, {}, {}});
    }
    // Snapshot layers: size and use time from their stamp (a file inside the layer would show in
    // the container); a layer without one is measured. The store keeps the layers made as root
    // and those made without root apart (snapshot::kLayerAreas).
    constexpr std::pair<const char*, const char*> kSnapshotAreas[] = {
        {"layers", "used"}, {"layers-userxattr", "used-userxattr"}};
    for (const auto& [layers, used] : kSnapshotAreas) {
        std::set<std::string> snapshot_layers;
        for (stdfs::directory_iterator it(snapshots_dir() / layers, ec), end; !ec && it != end;
             it.increment(ec)) {
            const stdfs::path& place = it->path();
            const stdfs::path stamp = snapshots_dir() / used / place.filename();
            snapshot_layers.insert(place.filename().string());
            std::int64_t size = 0;
            std::int64_t time = 0;
            if (std::optional<std::string> text = oci::fs::read_file(stamp, 64)) {
                size = std::strtoll(text->c_str(), nullptr, 10);
                time = use_time(stamp);
            } else {
                size = tree_size(place);
                time = use_time(place);
            }
            items.push_back(Item{place, time, size, false, {}, stamp});
        }
        // Stamps whose layer is gone (never made, or removed by hand).
        for (stdfs::directory_iterator it(snapshots_dir() / used, ec), end; !ec && it != end;
             it.increment(ec)) {
            if (!snapshot_layers.contains(it->path().filename().string())) {
                ::unlink(it->path().c_str());
            }
        }
    }

    struct Blob {
        stdfs::path path;
        std::int64_t size = 0;
        int references = 0;
    };
    std::map<std::string, Blob> blobs;
    for (stdfs::directory_iterator alg(content_.path() / "blobs", ec), end; !ec && alg != end;
         alg.increment(ec)) {
        std::error_code inner;
        for (stdfs::directory_iterator it(alg->path(), inner); !inner && it != end;
             it.increment(inner)) {
            const std::string name = it->path().filename().string();
            if (name.starts_with(oci::fs::kTempPrefix)) {
                // A blob writer that crashed: no writer runs while the lock is exclusive.
                result.freed_bytes += stored_size(it->path());
                ::unlink(it->path().c_str());
                continue;
            }
            if (!it->is_regular_file()) {
                continue;
            }
            blobs[alg->path().filename().string() + ":" + name] =
                Blob{it->path(), stored_size(it->path()), 0};
        }
    }
    for (const Item& item : items) {
        for (const std::string& digest : item.blobs) {
            if (auto it = blobs.find(digest); it != blobs.end()) {
                ++it->second.references;
            }
        }
    }
    if (options.keep_storage) {
        for (const Descriptor& root : content_.index().manifests) {
            if (auto it = blobs.find(root.digest.to_string()); it != blobs.end()) {
                ++it->second.references;
            }
        }
    } else if (!content_.index().manifests.empty()) {
        content_.set_index(ImageIndex{});
    }

    const auto remove_blob = [&](Blob& blob) {
        if (::unlink(blob.path.c_str()) != 0 && errno != ENOENT) {
            oci::fs::fail("remove", blob.path, errno);
        }
        result.freed_bytes += blob.size;
        ++result.removed_entries;
    };
    std::int64_t total = 0;
    for (auto& [digest, blob] : blobs) {
        if (blob.references == 0) {
            remove_blob(blob);
        } else {
            total += blob.size;
        }
    }
    for (const Item& item : items) {
        total += item.size;
    }

    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.time < b.time; });
    const std::int64_t keep = options.keep_storage.value_or(0);
    for (const Item& item : items) {
        if (options.keep_storage && total <= keep) {
            break;
        }
        if (item.is_record) {
            if (::unlink(item.path.c_str()) != 0 && errno != ENOENT) {
                oci::fs::fail("remove", item.path, errno);
            }
        } else {
            // Renamed out of unpacked/ first, so that a crash midway never leaves a partial
            // layer where unpacked() would take it for a whole one.
            const stdfs::path doomed = temp_dir() / oci::fs::temp_name();
            if (::rename(item.path.c_str(), doomed.c_str()) != 0) {
                oci::fs::fail("move out of the cache", item.path, errno);
            }
            remove_tree(doomed);
            if (!item.stamp.empty()) {
                ::unlink(item.stamp.c_str());
            }
        }
        total -= item.size;
        result.freed_bytes += item.size;
        ++result.removed_entries;
        for (const std::string& digest : item.blobs) {
            auto it = blobs.find(digest);
            if (it != blobs.end() && it->second.references > 0 && --it->second.references == 0) {
                remove_blob(it->second);
                total -= it->second.size;
            }
        }
    }
    if (!options.keep_storage) {
        // RUN --mount=type=cache directories hold what builds chose to keep: only a full prune
        // (BuildKit's `prune --all`) takes them.
        const stdfs::path mounts = dir_ / "mounts";
        if (stdfs::exists(mounts, ec)) {
            const stdfs::path doomed = temp_dir() / oci::fs::temp_name();
            if (::rename(mounts.c_str(), doomed.c_str()) == 0) {
                const std::int64_t size = tree_size(doomed);
                remove_tree(doomed);
                result.freed_bytes += size;
                ++result.removed_entries;
            }
        }
    }
    return result;
}

}  // namespace xarch::cache
