// SPDX-License-Identifier: Apache-2.0
// The stat cache: hits on an unchanged context, misses when size, mtime, inode or mode change,
// what it deliberately trusts (same size, mtime and inode, as fsutil trusts size and mtime),
// racily fresh files, deleted files, and corrupt or truncated cache files.
#include "context/stat_cache.hpp"

#include "context_test_util.hpp"

#include <xarch/context.hpp>
#include <xarch/digest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace xarch_context_test {
namespace {

using xarch::BuildContext;
using xarch::Digest;
using xarch::ScanOptions;
using xarch::ScanStats;
using xarch::context::StatCache;
using xarch::context::StatKey;

class StatCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        ctx_.file("a.txt", "alpha");
        ctx_.file("dir/b.txt", "bravo");
        ctx_.file("dir/c.txt", "charlie");
        ctx_.age_all();
    }

    ScanStats scan() {
        BuildContext ctx = BuildContext::from_directory(ctx_.root());
        ScanOptions options;
        options.cache_dir = cache_.root();
        ctx.scan(options);
        last_ = ctx.entries();
        return ctx.last_scan_stats();
    }
    Digest digest(const std::string& path) const { return find(last_, path)->digest; }
    fs::path cache_file() const {
        std::error_code ec;
        return StatCache::file_for(cache_.root(), fs::canonical(ctx_.root(), ec));
    }

    TempTree ctx_;
    TempTree cache_;
    std::vector<xarch::ContextEntry> last_;
};

TEST_F(StatCacheTest, WarmScanHashesNothing) {
    ScanStats first = scan();
    EXPECT_EQ(first.hashed, 3u);
    EXPECT_EQ(first.cache_hits, 0u);
    EXPECT_TRUE(fs::exists(cache_file()));
    ScanStats second = scan();
    EXPECT_EQ(second.hashed, 0u);
    EXPECT_EQ(second.cache_hits, 3u);
    EXPECT_EQ(digest("dir/c.txt"), Digest::of("charlie"));
}

TEST_F(StatCacheTest, SizeChangeIsAMiss) {
    scan();
    ctx_.file("a.txt", "alpha, longer");
    ctx_.age("a.txt");
    const ScanStats s = scan();
    EXPECT_EQ(s.hashed, 1u);
    EXPECT_EQ(digest("a.txt"), Digest::of("alpha, longer"));
}

TEST_F(StatCacheTest, MtimeChangeIsAMiss) {
    scan();
    ctx_.file("a.txt", "ALPHA");  // same size
    ctx_.age("a.txt", 1800);      // another mtime
    const ScanStats s = scan();
    EXPECT_EQ(s.hashed, 1u);
    EXPECT_EQ(digest("a.txt"), Digest::of("ALPHA"));
}

TEST_F(StatCacheTest, ModeChangeIsAMiss) {
    scan();
    ::chmod((ctx_ / "a.txt").c_str(), 0600);
    EXPECT_EQ(scan().hashed, 1u);
}

// Same size, same mtime, new inode: a file replaced by rename, as editors save. fsutil would
// trust the stat; the inode in the key catches it.
TEST_F(StatCacheTest, ReplacedFileWithSameSizeAndMtimeIsAMiss) {
    scan();
    struct stat before {};
    ASSERT_EQ(::stat((ctx_ / "a.txt").c_str(), &before), 0);
    ctx_.file("a.tmp", "ALPHA");
    fs::rename(ctx_ / "a.tmp", ctx_ / "a.txt");
    ctx_.set_mtime("a.txt", before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
    struct stat after {};
    ASSERT_EQ(::stat((ctx_ / "a.txt").c_str(), &after), 0);
    ASSERT_NE(after.st_ino, before.st_ino);
    ASSERT_EQ(after.st_size, before.st_size);
    EXPECT_EQ(scan().hashed, 1u);
    EXPECT_EQ(digest("a.txt"), Digest::of("ALPHA"));
}

// What the cache trusts, like BuildKit's file sync: content rewritten in place with the same size
// and the mtime put back is not noticed. This pins the documented behaviour.
TEST_F(StatCacheTest, InPlaceRewriteWithRestoredMtimeIsTrusted) {
    scan();
    struct stat before {};
    ASSERT_EQ(::stat((ctx_ / "a.txt").c_str(), &before), 0);
    std::ofstream(ctx_ / "a.txt", std::ios::binary | std::ios::in) << "ALPHA";
    ctx_.set_mtime("a.txt", before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
    const ScanStats s = scan();
    EXPECT_EQ(s.hashed, 0u);
    EXPECT_EQ(digest("a.txt"), Digest::of("alpha"));
}

TEST_F(StatCacheTest, FreshFilesAreNotCached) {
    scan();
    ctx_.file("new.txt", "just written");  // mtime now: racily clean
    EXPECT_EQ(scan().hashed, 1u);
    EXPECT_EQ(scan().hashed, 1u) << "still too fresh to trust";
    ctx_.age("new.txt");
    EXPECT_EQ(scan().hashed, 1u);
    EXPECT_EQ(scan().hashed, 0u);
}

TEST_F(StatCacheTest, DeletedFilesLeaveTheCache) {
    scan();
    fs::remove(ctx_ / "dir/b.txt");
    scan();
    const auto content = xarch::context::StatCache(cache_file());
    EXPECT_EQ(content.loaded_size(), 2u);
}

TEST_F(StatCacheTest, CorruptCacheIsIgnoredAndRewritten) {
    scan();
    std::ofstream(cache_file(), std::ios::binary | std::ios::trunc) << "\x01garbage\nnot a cache";
    EXPECT_TRUE(StatCache(cache_file()).was_corrupt());
    ScanStats s = scan();
    EXPECT_EQ(s.hashed, 3u);
    EXPECT_EQ(digest("a.txt"), Digest::of("alpha"));
    EXPECT_FALSE(StatCache(cache_file()).was_corrupt());
    EXPECT_EQ(scan().hashed, 0u);
}

TEST_F(StatCacheTest, TruncatedCacheIsIgnored) {
    scan();
    std::ifstream in(cache_file(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    in.close();
    std::ofstream(cache_file(), std::ios::binary | std::ios::trunc)
        << content.substr(0, content.size() - 10);
    EXPECT_EQ(scan().hashed, 3u);
}

TEST_F(StatCacheTest, UnwritableCacheDirectoryOnlyCostsTime) {
    BuildContext ctx = BuildContext::from_directory(ctx_.root());
    ScanOptions options;
    ctx_.file("not-a-dir", "");
    options.cache_dir = ctx_ / "not-a-dir";
    ctx.scan(options);
    EXPECT_EQ(ctx.last_scan_stats().hashed, 4u);
}

TEST(StatCacheFormat, RoundTripsAnyPath) {
    std::vector<std::pair<std::string, StatCache::Record>> records = {
        {"plain", {StatKey{1, 2, 3, 0100644}, Digest::of("1")}},
        {"with space and\nnewline", {StatKey{0, -5, 1ULL << 40, 0100755}, Digest::of("2")}},
    };
    const std::string text = StatCache::serialize(records);
    const auto parsed = StatCache::parse(text);
    ASSERT_TRUE(parsed.has_value());
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ(parsed->at("with space and\nnewline").key, (StatKey{0, -5, 1ULL << 40, 0100755}));
    EXPECT_EQ(parsed->at("plain").digest, Digest::of("1"));
    EXPECT_FALSE(StatCache::parse(""));
    EXPECT_FALSE(StatCache::parse(text.substr(0, text.size() - 1)));
    std::string flipped = text;
    flipped[flipped.size() - 3] ^= 1;
    EXPECT_FALSE(StatCache::parse(flipped));
}

}  // namespace
}  // namespace xarch_context_test
