// SPDX-License-Identifier: Apache-2.0
// Context scans: the records (type, mode, size, mtime, link target, digest) in walk order,
// ignored trees not read, symlinks and loops recorded and never followed, FIFOs never opened,
// unreadable entries as clear errors (also for root, through a hook or a child without
// privileges), files vanishing mid-scan, and streaming digests of large files on several threads.
#include "context/scan.hpp"

#include "context_test_util.hpp"

#include <xarch/context.hpp>
#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace xarch_context_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using xarch::BuildContext;
using xarch::ContextEntry;
using xarch::ContextEntryType;
using xarch::Digest;
using xarch::Error;
using xarch::ErrorCode;
using xarch::ScanOptions;
using xarch::context::scan_directory;
using xarch::context::ScanRequest;

ScanOptions no_cache(unsigned threads = 0) {
    ScanOptions o;
    o.use_cache = false;
    o.threads = threads;
    return o;
}

TEST(Scan, RecordsEveryEntryInWalkOrder) {
    TempTree t;
    t.file("b/c", "hello");
    t.file("a-b", "");
    t.file("a/x", "1");
    t.symlink("../b/c", "a/link");
    ::chmod((t / "a/x").c_str(), 0750);
    t.set_mtime("b/c", 1'700'000'000, 123'456'789);
    BuildContext ctx = BuildContext::from_directory(t.root());
    const std::vector<ContextEntry>& entries = ctx.scan(no_cache());
    EXPECT_THAT(paths(entries), ElementsAre("a", "a/link", "a/x", "a-b", "b", "b/c"));

    const ContextEntry* c = find(entries, "b/c");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->type, ContextEntryType::kRegular);
    EXPECT_EQ(c->size, 5);
    EXPECT_EQ(c->digest, Digest::of("hello"));
    EXPECT_EQ(c->mtime_ns, 1'700'000'000'123'456'789LL);
    EXPECT_EQ(c->uid, ::getuid());
    EXPECT_EQ(c->gid, ::getgid());

    const ContextEntry* x = find(entries, "a/x");
    EXPECT_EQ(x->mode & 07777u, 0750u);
    EXPECT_TRUE(S_ISREG(x->mode));

    const ContextEntry* link = find(entries, "a/link");
    EXPECT_EQ(link->type, ContextEntryType::kSymlink);
    EXPECT_EQ(link->link_target, "../b/c");
    EXPECT_TRUE(link->digest.empty()) << "links are recorded, not followed";

    const ContextEntry* a = find(entries, "a");
    EXPECT_EQ(a->type, ContextEntryType::kDirectory);
    EXPECT_EQ(a->size, 0);
    EXPECT_EQ(find(entries, "a-b")->digest, Digest::of(""));

    const xarch::ScanStats& stats = ctx.last_scan_stats();
    EXPECT_EQ(stats.entries, 6u);
    EXPECT_EQ(stats.files, 3u);
    EXPECT_EQ(stats.hashed, 3u);
    EXPECT_EQ(stats.cache_hits, 0u);
    EXPECT_EQ(stats.bytes_hashed, 6);
}

TEST(Scan, SymlinkLoopsAndEscapesAreRecordedNotFollowed) {
    TempTree t;
    t.symlink("b", "a");
    t.symlink("a", "b");
    t.symlink(".", "self");
    t.symlink("..", "dir/up");
    t.symlink("/etc/passwd", "outside");
    BuildContext ctx = BuildContext::from_directory(t.root());
    const std::vector<ContextEntry>& entries = ctx.scan(no_cache());
    EXPECT_THAT(paths(entries), ElementsAre("a", "b", "dir", "dir/up", "outside", "self"));
    for (const ContextEntry& e : entries) {
        if (e.path != "dir") {
            EXPECT_EQ(e.type, ContextEntryType::kSymlink) << e.path;
            EXPECT_TRUE(e.digest.empty()) << e.path;
        }
    }
    EXPECT_EQ(find(entries, "outside")->link_target, "/etc/passwd");
}

TEST(Scan, FifoIsRecordedNeverOpened) {
    TempTree t;
    ASSERT_EQ(::mkfifo((t / "pipe").c_str(), 0644), 0);
    t.file("after", "y");
    BuildContext ctx = BuildContext::from_directory(t.root());
    const std::vector<ContextEntry>& entries = ctx.scan(no_cache());
    ASSERT_THAT(paths(entries), ElementsAre("after", "pipe"));
    EXPECT_EQ(entries[1].type, ContextEntryType::kOther);
    EXPECT_TRUE(S_ISFIFO(entries[1].mode));
    EXPECT_TRUE(entries[1].digest.empty());
}

TEST(Scan, IgnoredDirectoryIsNotRead) {
    TempTree t;
    t.file("node_modules/pkg/index.js");
    t.file("src/main.js");
    std::vector<std::string> read;
    ScanRequest request;
    request.root = t.root();
    request.exclude_patterns = {"node_modules"};
    request.before_read = [&](std::string_view dir) {
        read.emplace_back(dir);
        return std::error_code();
    };
    const auto result = scan_directory(request);
    EXPECT_THAT(paths(result.entries), ElementsAre("src", "src/main.js"));
    EXPECT_THAT(read, ElementsAre("", "src"));
}

TEST(Scan, ExceptionReachesIntoIgnoredDirectory) {
    TempTree t;
    t.file("node_modules/keep/a");
    t.file("node_modules/drop/b");
    ScanRequest request;
    request.root = t.root();
    request.exclude_patterns = {"node_modules", "!node_modules/keep"};
    const auto result = scan_directory(request);
    EXPECT_THAT(paths(result.entries),
                ElementsAre("node_modules", "node_modules/keep", "node_modules/keep/a"));
}

TEST(Scan, UnreadableDirectoryIsAClearError) {
    TempTree t;
    t.file("locked/secret");
    ScanRequest request;
    request.root = t.root();
    request.before_read = [](std::string_view dir) {
        return dir == "locked" ? std::make_error_code(std::errc::permission_denied)
                               : std::error_code();
    };
    try {
        scan_directory(request);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
        EXPECT_THAT(e.what(), HasSubstr("\"locked\""));
        EXPECT_THAT(e.what(), HasSubstr(".dockerignore"));
    }
    // Excluded, the same directory is no error.
    request.exclude_patterns = {"locked"};
    EXPECT_THAT(paths(scan_directory(request).entries), ElementsAre());
}

TEST(Scan, DirectoryRemovedMidScanIsSkipped) {
    TempTree t;
    t.file("gone/a");
    t.file("kept/b");
    ScanRequest request;
    request.root = t.root();
    request.before_read = [&](std::string_view dir) {
        if (dir == "gone") {
            fs::remove_all(t / "gone");
        }
        return std::error_code();
    };
    EXPECT_THAT(paths(scan_directory(request).entries), ElementsAre("gone", "kept", "kept/b"));
}

// Run in a child that has dropped root, so that permission bits apply even when the tests run
// as root; the child's exit status says what it saw.
TEST(Scan, UnreadableFileIsAClearError) {
    TempTree t;
    t.file("ok", "fine");
    t.file("private.key", "k");
    ::chmod((t / "private.key").c_str(), 0);
    ::chmod(t.root().c_str(), 0755);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            ::_exit(10);
        }
        int status = 11;
        try {
            BuildContext ctx = BuildContext::from_directory(t.root());
            ctx.scan(no_cache(2));
            status = 12;  // no error
        } catch (const Error& e) {
            const std::string what = e.what();
            status = e.code() == ErrorCode::kPermissionDenied &&
                             what.find("\"private.key\"") != std::string::npos &&
                             what.find("Permission denied") != std::string::npos
                         ? 0
                         : 13;
        } catch (...) {
            status = 14;
        }
        ::_exit(status);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setuid failed, 12 no error, 13 wrong error";
}

TEST(Scan, LargeFilesStreamOnSeveralThreads) {
    TempTree t;
    std::string big;
    big.reserve(5 << 20);
    for (int i = 0; big.size() < (5u << 20) + 17; ++i) {
        big += std::to_string(static_cast<long long>(i) * 7919) + ',';
    }
    t.file("big.bin", big);
    for (int i = 0; i < 64; ++i) {
        t.file("many/f" + std::to_string(i),
               std::string(static_cast<std::size_t>(i) * 1000, static_cast<char>('a' + i % 26)));
    }
    BuildContext ctx = BuildContext::from_directory(t.root());
    const std::vector<ContextEntry> one = ctx.scan(no_cache(1));
    const std::vector<ContextEntry> four = ctx.scan(no_cache(4));
    EXPECT_EQ(one, four);
    EXPECT_EQ(find(four, "big.bin")->digest, Digest::of(big));
    EXPECT_EQ(find(four, "big.bin")->size, static_cast<std::int64_t>(big.size()));
    EXPECT_EQ(find(four, "many/f63")->digest,
              Digest::of(std::string(63000, static_cast<char>('a' + 63 % 26))));
}

TEST(Scan, WalkOrderComparesComponentByComponent) {
    using xarch::context::walk_order_less;
    EXPECT_TRUE(walk_order_less("a", "a/b"));
    EXPECT_TRUE(walk_order_less("a/b", "a-b"));
    EXPECT_TRUE(walk_order_less("a/z", "a0"));
    EXPECT_FALSE(walk_order_less("b", "a/b"));
    EXPECT_FALSE(walk_order_less("a", "a"));
}

}  // namespace
}  // namespace xarch_context_test
