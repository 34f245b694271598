// SPDX-License-Identifier: Apache-2.0
// The build cache shared by threads and processes: records, and unpacked layers that appear
// whole, once, however many callers race for them.
#include "cache_test_util.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace xarch::cache {
namespace {

using test::TempDir;

Digest key_of(const std::string& step) {
    return Digest::of(step);
}

TEST(CacheRecords, StoredReadAndMissing) {
    TempDir tmp;
    Cache cache(tmp.path() / "cache");
    EXPECT_TRUE(std::filesystem::is_regular_file(tmp.path() / "cache/content/oci-layout"));
    EXPECT_EQ(cache.get_record(key_of("absent")), std::nullopt);
    const std::string record = R"({"blobs":[],"config":"x"})";
    cache.put_record(key_of("step"), record);
    EXPECT_EQ(cache.get_record(key_of("step")), record);
    cache.put_record(key_of("step"), R"({"blobs":[]})");
    EXPECT_EQ(cache.get_record(key_of("step")), R"({"blobs":[]})");
    const std::string hex(key_of("step").hex());
    EXPECT_TRUE(std::filesystem::is_regular_file(tmp.path() / "cache/records" / hex.substr(0, 2) /
                                                 (hex + ".json")));
}

TEST(CacheRecords, ReadingRefreshesTheUseTime) {
    TempDir tmp;
    Cache cache(tmp.path());
    cache.put_record(key_of("old"), "{}");
    const std::string hex(key_of("old").hex());
    const auto file = tmp.path() / "records" / hex.substr(0, 2) / (hex + ".json");
    test::set_mtime(file, 1'000'000'000);
    ASSERT_TRUE(cache.get_record(key_of("old")));
    EXPECT_GT(test::mtime(file), 1'000'000'000);
}

TEST(CacheRecords, PutByOneProcessReadByAnother) {
    TempDir tmp;
    const auto dir = tmp.path() / "shared";
    const pid_t child = test::spawn([&] {
        Cache cache(dir);
        cache.put_record(key_of("from child"), R"({"who":"child"})");
        return 0;
    });
    ASSERT_EQ(test::wait_for(child), 0);
    Cache cache(dir);
    EXPECT_EQ(cache.get_record(key_of("from child")), R"({"who":"child"})");
    cache.put_record(key_of("from parent"), R"({"who":"parent"})");
    const pid_t reader = test::spawn([&] {
        return Cache(dir).get_record(key_of("from parent")) == R"({"who":"parent"})" ? 0 : 3;
    });
    EXPECT_EQ(test::wait_for(reader), 0);
}

TEST(CacheUnpacked, ManyThreadsShareOneUnpack) {
    TempDir tmp;
    Cache cache(tmp.path());
    const layer::LayerBlob blob = test::store_layer(cache, 1);
    std::atomic<int> unpacks{0};
    const Cache::Unpack real = test::unpack_from(cache, blob);
    const Cache::Unpack counted = [&](const std::filesystem::path& dir) {
        ++unpacks;
        return real(dir);
    };
    constexpr int kThreads = 8;
    std::vector<std::shared_ptr<const layer::MergedView::Layer>> got(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] { got[i] = cache.unpacked(blob.diff_id, counted); });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    EXPECT_EQ(unpacks.load(), 1);
    for (const auto& layer : got) {
        ASSERT_NE(layer, nullptr);
        EXPECT_EQ(layer.get(), got[0].get());
    }
    const auto place = tmp.path() / "unpacked" / std::string(blob.diff_id.hex());
    EXPECT_EQ(got[0]->dir, place / "root");
    ASSERT_FALSE(got[0]->entries.empty());
    for (const layer::Entry& e : got[0]->entries) {
        if (e.type == layer::EntryType::kRegular) {
            EXPECT_EQ(e.source_file, place / "root" / e.path);
            EXPECT_EQ(std::filesystem::file_size(e.source_file),
                      static_cast<std::uintmax_t>(e.size));
        }
    }
    EXPECT_EQ(layer::test::read_file(place / "root/etc/hostname"), "host-1");
    EXPECT_EQ(test::count_children(tmp.path() / "unpacked"), 1U);
    EXPECT_EQ(test::count_children(tmp.path() / "tmp"), 0U);

    // A second Cache on the directory (a later build) loads the entries saved beside the layer.
    Cache later(tmp.path());
    const auto loaded = later.unpacked(blob.diff_id, [](const std::filesystem::path&) {
        ADD_FAILURE() << "unpacked again";
        return std::vector<layer::Entry>{};
    });
    EXPECT_EQ(loaded->entries, got[0]->entries);
}

TEST(CacheUnpacked, RacingProcessesSeeOneWholeLayer) {
    TempDir tmp;
    const auto dir = tmp.path() / "cache";
    Cache setup(dir);
    const layer::LayerBlob blob = test::store_layer(setup, 2);
    // Children wait on a pipe so that they all start unpacking at the same moment.
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    constexpr int kProcesses = 3;
    std::vector<pid_t> children;
    for (int i = 0; i < kProcesses; ++i) {
        children.push_back(test::spawn([&, i] {
            ::close(gate[1]);
            char c = 0;
            [[maybe_unused]] const ssize_t n = ::read(gate[0], &c, 1);
            Cache cache(dir);
            const auto layer = cache.unpacked(blob.diff_id, test::unpack_from(cache, blob));
            std::string listing;
            for (const layer::Entry& e : layer->entries) {
                listing += e.path + " " + e.source_file.string() + "\n";
            }
            layer::test::write_file(tmp.path() / ("listing-" + std::to_string(i)), listing);
            return 0;
        }));
    }
    ::close(gate[0]);
    ::close(gate[1]);
    for (pid_t pid : children) {
        EXPECT_EQ(test::wait_for(pid), 0);
    }
    const std::string first = layer::test::read_file(tmp.path() / "listing-0");
    EXPECT_NE(first.find("etc/hostname " + (dir / "unpacked").string()), std::string::npos)
        << first;
    for (int i = 1; i < kProcesses; ++i) {
        EXPECT_EQ(layer::test::read_file(tmp.path() / ("listing-" + std::to_string(i))), first);
    }
    EXPECT_EQ(test::count_children(dir / "unpacked"), 1U);
    EXPECT_EQ(test::count_children(dir / "tmp"), 0U);
    EXPECT_EQ(layer::test::read_file(dir / "unpacked" / std::string(blob.diff_id.hex()) /
                                     "root/etc/hostname"),
              "host-2");
}

TEST(CacheUnpacked, AFailedUnpackLeavesNothingAndIsRetried) {
    TempDir tmp;
    Cache cache(tmp.path());
    const layer::LayerBlob blob = test::store_layer(cache, 3);
    EXPECT_THROW(cache.unpacked(blob.diff_id,
                                [](const std::filesystem::path& dir) -> std::vector<layer::Entry> {
                                    std::filesystem::create_directories(dir / "half");
                                    throw Error(ErrorCode::kIo, "disk full");
                                }),
                 Error);
    EXPECT_EQ(test::count_children(tmp.path() / "unpacked"), 0U);
    EXPECT_EQ(test::count_children(tmp.path() / "tmp"), 0U);
    const auto layer = cache.unpacked(blob.diff_id, test::unpack_from(cache, blob));
    EXPECT_EQ(layer::test::read_file(layer->dir / "etc/hostname"), "host-3");
}

}  // namespace
}  // namespace xarch::cache
