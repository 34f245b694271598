// SPDX-License-Identifier: Apache-2.0
// The filtered context walk beyond the corpus scenarios: real permissions, symlinks, SkipDir
// from the callback, errors from patterns, and a large ignored tree that must not be read.
#include "context/walk_filter.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using xarch::context::FilterOptions;
using xarch::context::WalkAction;
using xarch::context::WalkEntry;
using xarch::context::WalkFilter;
using xarch::context::WalkOptions;
using Listing = std::vector<std::string>;

class WalkFilterTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "xarch-walk-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::permissions(root_ / "locked", fs::perms::owner_all, ec);
        fs::remove_all(root_, ec);
    }
    void dir(const std::string& rel) { fs::create_directories(root_ / rel); }
    void file(const std::string& rel) { std::ofstream(root_ / rel) << "x"; }

    Listing walk(const FilterOptions& options, const WalkOptions& walk_options = {}) {
        Listing out;
        const WalkFilter filter(options);
        xarch::context::walk_directory(root_, filter.wrap([&](const WalkEntry& e, std::error_code) {
            out.push_back((e.is_dir ? "dir " : "file ") + e.path);
            return WalkAction::kContinue;
        }),
                                       walk_options);
        return out;
    }

    fs::path root_;
};

TEST_F(WalkFilterTest, ByteOrderDepthFirst) {
    dir("b/c");
    file("b/c/d");
    file("B");
    file("a.txt");
    file("b.txt");
    EXPECT_EQ(walk({}),
              (Listing{"file B", "file a.txt", "dir b", "dir b/c", "file b/c/d", "file b.txt"}));
}

TEST_F(WalkFilterTest, IgnoredTreeIsNeverRead) {
    dir("node_modules/a/b");
    file("node_modules/a/b/c");
    file("keep");
    int reads = 0;
    WalkOptions options;
    options.before_read = [&](std::string_view d) {
        reads += d.rfind("node_modules", 0) == 0 ? 1 : 0;
        return std::error_code();
    };
    EXPECT_EQ(walk({{}, {"node_modules"}}, options), (Listing{"file keep"}));
    EXPECT_EQ(reads, 0);
    // An exception with a wildcard could match anything: the walk has to look inside.
    EXPECT_EQ(walk({{}, {"node_modules", "!**/c"}}, options),
              (Listing{"file keep", "dir node_modules", "dir node_modules/a",
                       "dir node_modules/a/b", "file node_modules/a/b/c"}));
    EXPECT_GT(reads, 0);
}

TEST_F(WalkFilterTest, RealUnreadableDirectory) {
    dir("locked/inner");
    file("other");
    fs::permissions(root_ / "locked", fs::perms::none);
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    // Root reads through permissions: the walk runs in a child that is `nobody` when the test
    // runs as root. The child reports through its exit status.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            ::_exit(10);
        }
        int status = 0;
        try {
            if (walk({{}, {"locked"}}) != Listing{"file other"}) {
                status = 11;  // an ignored unreadable directory must not be read
            } else {
                walk({});
                status = 12;  // reading it must fail
            }
        } catch (const xarch::context::WalkError&) {
        } catch (...) {
            status = 13;
        }
        ::_exit(status);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "10 setuid failed, 11 wrong listing, 12 no error, 13 another exception";
}

TEST_F(WalkFilterTest, SymlinksAreEntriesNotFollowed) {
    dir("real");
    file("real/f");
    fs::create_directory_symlink("real", root_ / "link");
    fs::create_directory_symlink("..", root_ / "real/up");  // a loop if it were followed
    EXPECT_EQ(walk({}), (Listing{"file link", "dir real", "file real/f", "file real/up"}));
}

TEST_F(WalkFilterTest, SkipDirFromTheCallback) {
    dir("a/x");
    file("a/x/1");
    file("a/y");
    file("a/z");
    file("b");
    Listing out;
    const WalkFilter filter(FilterOptions{});
    xarch::context::walk_directory(root_, filter.wrap([&](const WalkEntry& e, std::error_code) {
        out.push_back(e.path);
        // SkipDir on a directory skips it; on a file, the rest of its directory.
        return e.path == "a/x" || e.path == "a/y" ? WalkAction::kSkipDir : WalkAction::kContinue;
    }));
    EXPECT_EQ(out, (Listing{"a", "a/x", "a/y", "b"}));
}

TEST_F(WalkFilterTest, PatternErrors) {
    file("x");
    EXPECT_THROW(WalkFilter(FilterOptions{{}, {"!"}}), xarch::Error);
    EXPECT_THROW(WalkFilter(FilterOptions{{"["}, {}}), xarch::Error);
    try {
        walk({{}, {"[z-a]"}});
        ADD_FAILURE() << "no error";
    } catch (const xarch::Error& e) {
        EXPECT_NE(std::string(e.what()).find("failed to match excludepatterns"), std::string::npos);
    }
    EXPECT_THROW(
        xarch::context::walk_directory(
            root_ / "x", [](const WalkEntry&, std::error_code) { return WalkAction::kContinue; }),
        xarch::Error);
}

TEST_F(WalkFilterTest, IncludeAndExcludeTogether) {
    dir("src/gen");
    file("src/a.go");
    file("src/gen/b.go");
    file("README");
    EXPECT_EQ(walk({{"src"}, {"src/gen"}}), (Listing{"dir src", "file src/a.go"}));
    const WalkFilter filter({{"src"}, {"src/gen"}});
    EXPECT_TRUE(filter.allows("src/a.go"));
    EXPECT_FALSE(filter.allows("src/gen/b.go"));
    EXPECT_FALSE(filter.allows("README"));
}

}  // namespace
