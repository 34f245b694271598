// SPDX-License-Identifier: Apache-2.0
// Cache::prune: least recently used records and unpacked layers go first, blobs go with the last
// record using them, and prune waits for the builds holding a lease.
#include "cache_test_util.hpp"

#include <gtest/gtest.h>

#include <set>

namespace xarch::cache {
namespace {

using test::TempDir;

std::int64_t size_of(const std::filesystem::path& file) {
    return static_cast<std::int64_t>(std::filesystem::file_size(file));
}

// Apparent size of an unpacked layer: its regular files, each inode once, and its entries list.
std::int64_t unpacked_size(const std::filesystem::path& place) {
    std::int64_t total = size_of(place / "entries.jsonl");
    std::set<std::pair<dev_t, ino_t>> seen;
    for (const auto& e : std::filesystem::recursive_directory_iterator(place / "root")) {
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            seen.emplace(st.st_dev, st.st_ino).second) {
            total += st.st_size;
        }
    }
    return total;
}

std::string record_with(const std::vector<Descriptor>& blobs) {
    std::string json = R"({"step":"x","blobs":[)";
    for (std::size_t i = 0; i < blobs.size(); ++i) {
        json += (i != 0 ? "," : "") + blobs[i].serialize();
    }
    return json + "]}";
}

struct Fixture {
    TempDir tmp;
    Cache cache{tmp.path()};
    Descriptor shared, only_old, only_mid, only_new, orphan;
    layer::LayerBlob layer = test::store_layer(cache, 7);
    std::filesystem::path unpacked_place;

    std::filesystem::path record_file(const std::string& step) const {
        const std::string hex(Digest::of(step).hex());
        return tmp.path() / "records" / hex.substr(0, 2) / (hex + ".json");
    }
    std::int64_t blob_size(const Descriptor& d) {
        return size_of(cache.content().blob_path(d.digest));
    }

    Fixture() {
        const auto blob = [&](std::size_t size, std::uint32_t seed) {
            return cache.content().store_blob(std::string(media_type::kOciLayerGzip),
                                              layer::test::mixed_bytes(size, seed));
        };
        shared = blob(40'000, 1);
        only_old = blob(50'000, 2);
        only_mid = blob(60'000, 3);
        only_new = blob(70'000, 4);
        orphan = blob(80'000, 5);
        cache.put_record(Digest::of("old"), record_with({only_old, shared}));
        cache.put_record(Digest::of("mid"), record_with({only_mid, layer.descriptor}));
        cache.put_record(Digest::of("new"), record_with({only_new, shared}));
        const auto got = cache.unpacked(layer.diff_id, test::unpack_from(cache, layer));
        unpacked_place = got->dir.parent_path();
        // Use times: old, then the unpacked layer, then mid; new is now.
        test::set_mtime(record_file("old"), 1'000'000'000);
        test::set_mtime(unpacked_place / "entries.jsonl", 1'050'000'000);
        test::set_mtime(record_file("mid"), 1'100'000'000);
    }
};

TEST(CachePrune, KeepsTheRecentlyUsedAndWhatTheyReference) {
    Fixture f;
    const std::int64_t kept =
        size_of(f.record_file("new")) + f.blob_size(f.only_new) + f.blob_size(f.shared);
    const std::int64_t expected_freed = f.blob_size(f.orphan) + size_of(f.record_file("old")) +
                                        f.blob_size(f.only_old) + unpacked_size(f.unpacked_place) +
                                        size_of(f.record_file("mid")) + f.blob_size(f.only_mid) +
                                        f.blob_size(f.layer.descriptor);

    const PruneResult result = f.cache.prune(PruneOptions{kept});

    EXPECT_EQ(result.freed_bytes, expected_freed);
    EXPECT_EQ(result.removed_entries, 7U);  // orphan, old + its blob, unpacked, mid + 2 blobs
    EXPECT_TRUE(f.cache.get_record(Digest::of("new")));
    EXPECT_FALSE(f.cache.get_record(Digest::of("old")));
    EXPECT_FALSE(f.cache.get_record(Digest::of("mid")));
    OciLayout& content = f.cache.content();
    EXPECT_TRUE(content.has_blob(f.only_new.digest));
    EXPECT_TRUE(content.has_blob(f.shared.digest));
    for (const Descriptor& gone : {f.orphan, f.only_old, f.only_mid, f.layer.descriptor}) {
        EXPECT_FALSE(content.has_blob(gone.digest)) << gone.digest;
    }
    EXPECT_FALSE(std::filesystem::exists(f.unpacked_place));
    EXPECT_EQ(test::count_children(f.tmp.path() / "tmp"), 0U);

    // Within the limit already: a second prune removes nothing.
    const PruneResult again = f.cache.prune(PruneOptions{kept});
    EXPECT_EQ(again.freed_bytes, 0);
    EXPECT_EQ(again.removed_entries, 0U);
}

TEST(CachePrune, WithoutALimitRemovesEverything) {
    Fixture f;
    std::int64_t total = unpacked_size(f.unpacked_place);
    for (const char* step : {"old", "mid", "new"}) {
        total += size_of(f.record_file(step));
    }
    for (const Descriptor& d :
         {f.shared, f.only_old, f.only_mid, f.only_new, f.orphan, f.layer.descriptor}) {
        total += f.blob_size(d);
    }
    const PruneResult result = f.cache.prune(PruneOptions{});
    EXPECT_EQ(result.freed_bytes, total);
    EXPECT_EQ(result.removed_entries, 3U + 1U + 6U);
    EXPECT_EQ(test::count_children(f.tmp.path() / "unpacked"), 0U);
    EXPECT_EQ(test::count_children(f.tmp.path() / "content/blobs/sha256"), 0U);
    for (const auto& e : std::filesystem::recursive_directory_iterator(f.tmp.path() / "records")) {
        EXPECT_TRUE(e.is_directory()) << e.path();
    }

    // The layer this process remembered is gone: it is unpacked again.
    Cache& cache = f.cache;
    const layer::LayerBlob again = test::store_layer(cache, 7);
    const auto layer = cache.unpacked(again.diff_id, test::unpack_from(cache, again));
    EXPECT_TRUE(std::filesystem::is_regular_file(layer->dir / "etc/hostname"));
}

TEST(CachePrune, RemovesLeftoversInTmp) {
    TempDir tmp;
    Cache cache(tmp.path());
    std::filesystem::create_directories(tmp.path() / "tmp/crashed/root/d");
    layer::test::write_file(tmp.path() / "tmp/crashed/root/d/f", "12345");
    // Temporary files of atomic writes that crashed before their rename.
    std::filesystem::create_directories(tmp.path() / "records/ab");
    const auto record_temp = tmp.path() / "records/ab" / (std::string(oci::fs::kTempPrefix) + "1");
    layer::test::write_file(record_temp, "abc");
    const auto blob_temp =
        tmp.path() / "content/blobs/sha256" / (std::string(oci::fs::kTempPrefix) + "2");
    std::filesystem::create_directories(blob_temp.parent_path());
    layer::test::write_file(blob_temp, "abcd");
    const PruneResult result = cache.prune(PruneOptions{std::int64_t{1} << 40});
    EXPECT_EQ(result.freed_bytes, 5 + 3 + 4);
    EXPECT_EQ(test::count_children(tmp.path() / "tmp"), 0U);
    EXPECT_FALSE(std::filesystem::exists(record_temp));
    EXPECT_FALSE(std::filesystem::exists(blob_temp));
}

TEST(CachePrune, WaitsForTheLeaseOfABuildInAnotherProcess) {
    TempDir tmp;
    Cache cache(tmp.path());
    cache.put_record(Digest::of("step"), R"({"blobs":[]})");
    const auto released = tmp.path() / "released";
    int held[2];
    ASSERT_EQ(::pipe(held), 0);
    const pid_t child = test::spawn([&] {
        ::close(held[0]);
        Cache build_cache(tmp.path());
        const Cache::Lease lease = build_cache.lease();
        const char c = 'x';
        if (::write(held[1], &c, 1) != 1) {
            return 2;
        }
        ::sleep(1);
        // Written while the lease is still held: prune must not return before this exists.
        layer::test::write_file(released, "done");
        return 0;
    });
    ::close(held[1]);
    char c = 0;
    ASSERT_EQ(::read(held[0], &c, 1), 1);
    ::close(held[0]);
    const PruneResult result = cache.prune(PruneOptions{});
    EXPECT_TRUE(std::filesystem::exists(released));
    EXPECT_EQ(result.removed_entries, 1U);
    EXPECT_EQ(test::wait_for(child), 0);
}

TEST(CachePrune, LeasesOfConcurrentBuildsAreShared) {
    TempDir tmp;
    Cache cache(tmp.path());
    const Cache::Lease first = cache.lease();
    const pid_t child = test::spawn([&] {
        Cache other(tmp.path());
        const Cache::Lease second = other.lease();  // would block forever if exclusive
        return 0;
    });
    EXPECT_EQ(test::wait_for(child), 0);
}

}  // namespace
}  // namespace xarch::cache
