// SPDX-License-Identifier: Apache-2.0
// Cache::prune over the snapshot store: overlay-format layers count by the size in their use
// stamp, go least recently used first (stamp mtime), and snapshots/tmp leftovers go after a day.
#include "cache_test_util.hpp"
#include "snapshot/store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace xarch::cache {
namespace {

namespace fs = std::filesystem;
using snapshot::SnapshotStore;
using test::TempDir;

// A committed step layer holding one file of `size` bytes.
fs::path commit_layer(SnapshotStore& store, const Digest& diff_id, std::size_t size) {
    SnapshotStore::Workspace ws = store.workspace();
    layer::test::write_file(ws.upper() / "file", layer::test::mixed_bytes(size, 3));
    return store.commit(ws, diff_id);
}

fs::path stamp_of(const Cache& cache, const Digest& diff_id) {
    return cache.snapshots_dir() / "used" / std::string(diff_id.hex());
}

std::int64_t seconds_ago(std::int64_t seconds) {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count() -
           seconds;
}

TEST(CachePruneSnapshots, LeastRecentlyUsedLayerGoesFirst) {
    TempDir tmp;
    Cache cache(tmp.path());
    SnapshotStore store(cache.snapshots_dir());
    const Digest old_id = Digest::of("old"), mid_id = Digest::of("mid"), new_id = Digest::of("new");
    const fs::path old_dir = commit_layer(store, old_id, 10'000);
    const fs::path mid_dir = commit_layer(store, mid_id, 20'000);
    const fs::path new_dir = commit_layer(store, new_id, 30'000);
    EXPECT_EQ(layer::test::read_file(stamp_of(cache, mid_id)), "20000");
    test::set_mtime(stamp_of(cache, old_id), 1'000'000'000);
    test::set_mtime(stamp_of(cache, mid_id), 1'100'000'000);

    // Only the snapshots count: 60'000 bytes, of which 50'000 may stay.
    const PruneResult result = cache.prune(PruneOptions{50'000});
    EXPECT_EQ(result.freed_bytes, 10'000);
    EXPECT_EQ(result.removed_entries, 1U);
    EXPECT_FALSE(fs::exists(old_dir));
    EXPECT_FALSE(fs::exists(stamp_of(cache, old_id)));
    EXPECT_TRUE(fs::exists(mid_dir / "file"));
    EXPECT_TRUE(fs::exists(new_dir / "file"));

    // Using a layer refreshes its stamp: mid is now newer than new.
    test::set_mtime(stamp_of(cache, new_id), 1'200'000'000);
    auto empty = std::make_shared<layer::MergedView::Layer>();
    EXPECT_EQ(store.layer_dir(mid_id, *empty), mid_dir);
    const PruneResult second = cache.prune(PruneOptions{20'000});
    EXPECT_EQ(second.freed_bytes, 30'000);
    EXPECT_FALSE(fs::exists(new_dir));
    EXPECT_TRUE(fs::exists(mid_dir / "file"));
}

TEST(CachePruneSnapshots, PruningEverythingRemovesAllLayersAndOldLeftovers) {
    TempDir tmp;
    Cache cache(tmp.path());
    SnapshotStore store(cache.snapshots_dir());
    // A layer dir made from an unpacked layer (its files hard links into unpacked/) ...
    const layer::LayerBlob blob = test::store_layer(cache, 7);
    const auto unpacked = cache.unpacked(blob.diff_id, test::unpack_from(cache, blob));
    const fs::path from_layer = store.layer_dir(blob.diff_id, *unpacked);
    // ... a committed one, one whose stamp is lost (measured instead), a stamp without a layer.
    const fs::path committed = commit_layer(store, Digest::of("step"), 4'000);
    const fs::path unstamped = commit_layer(store, Digest::of("unstamped"), 3'000);
    fs::remove(stamp_of(cache, Digest::of("unstamped")));
    layer::test::write_file(stamp_of(cache, Digest::of("orphan")), "123");
    // Workspace leftovers: one from a crash two days ago, one of a step running now.
    const fs::path crashed = cache.snapshots_dir() / "tmp" / "crashed";
    fs::create_directories(crashed / "upper");
    layer::test::write_file(crashed / "upper" / "f", "12345");
    test::set_mtime(crashed, seconds_ago(2 * 24 * 3600));
    SnapshotStore::Workspace running = store.workspace();

    const std::int64_t from_layer_size =
        std::stoll(layer::test::read_file(stamp_of(cache, blob.diff_id)));
    const std::int64_t unpacked_size =
        std::stoll(layer::test::read_file(unpacked->dir.parent_path() / "size"));
    const PruneResult result = cache.prune(PruneOptions{});
    // Everything goes: the snapshot layers, the crashed workspace, the unpacked layer and its
    // blob (no record references it).
    EXPECT_EQ(result.freed_bytes,
              from_layer_size + 4'000 + 3'000 + 5 + unpacked_size + blob.descriptor.size);
    EXPECT_EQ(test::count_children(cache.snapshots_dir() / "layers"), 0U);
    EXPECT_EQ(test::count_children(cache.snapshots_dir() / "used"), 0U);
    EXPECT_FALSE(fs::exists(crashed));
    EXPECT_TRUE(fs::exists(running.upper()));
    EXPECT_FALSE(fs::exists(committed));
    EXPECT_FALSE(fs::exists(unstamped));
    EXPECT_FALSE(fs::exists(from_layer));
}

TEST(CachePruneMounts, OnlyAFullPruneRemovesCacheMounts) {
    TempDir tmp;
    Cache cache(tmp.path());
    const fs::path mount = tmp.path() / "mounts" / "some-id";
    fs::create_directories(mount);
    layer::test::write_file(mount / "kept", layer::test::mixed_bytes(5'000, 1));

    EXPECT_EQ(cache.prune(PruneOptions{0}).removed_entries, 0U);
    EXPECT_TRUE(fs::exists(mount / "kept"));

    const PruneResult all = cache.prune(PruneOptions{});
    EXPECT_EQ(all.removed_entries, 1U);
    EXPECT_GE(all.freed_bytes, 5'000);
    EXPECT_FALSE(fs::exists(tmp.path() / "mounts"));
}

TEST(CachePruneSnapshots, LayersMadeWithoutRootArePrunedToo) {
    // What a SnapshotStore of a non-root caller writes (snapshot::kRootlessLayerArea).
    TempDir tmp;
    Cache cache(tmp.path());
    const std::string hex(Digest::of("rootless").hex());
    const fs::path layer = cache.snapshots_dir() / "layers-userxattr" / hex;
    fs::create_directories(layer);
    layer::test::write_file(layer / "file", layer::test::mixed_bytes(7'000, 2));
    fs::create_directories(cache.snapshots_dir() / "used-userxattr");
    layer::test::write_file(cache.snapshots_dir() / "used-userxattr" / hex, "7000");
    layer::test::write_file(cache.snapshots_dir() / "used-userxattr" / "0123", "5");  // orphan

    const PruneResult result = cache.prune(PruneOptions{});
    EXPECT_EQ(result.removed_entries, 1U);
    EXPECT_EQ(result.freed_bytes, 7'000);
    EXPECT_FALSE(fs::exists(layer));
    EXPECT_TRUE(fs::is_empty(cache.snapshots_dir() / "used-userxattr"));
}

}  // namespace
}  // namespace xarch::cache
