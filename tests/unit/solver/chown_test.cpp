// SPDX-License-Identifier: Apache-2.0
// --chown resolution as BuildKit's readUser does it: numbers, names from the stage's passwd and
// group files, a user's primary group, and the silent 0 for names the files lack.
#include "solver/chown.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xarch::solver {
namespace {

// A stage filesystem holding only these two files; records which were read.
struct Files {
    std::vector<std::string> read;
    bool has_files = true;
    std::optional<std::string> operator()(std::string_view path) {
        read.emplace_back(path);
        if (!has_files) {
            return std::nullopt;
        }
        if (path == "/etc/passwd") {
            return "root:x:0:0:root:/root:/bin/sh\n"
                   "# comment\n"
                   "app:x:1000:1001::/home/app:/bin/sh\n"
                   "short:x:77\n";
        }
        if (path == "/etc/group") {
            return "root:x:0:\nstaff:x:50:app\n";
        }
        return std::nullopt;
    }
};

Owner chown(std::string_view spec, Files& files) {
    return resolve_chown(spec, [&](std::string_view p) { return files(p); });
}

TEST(Chown, NumbersNeedNoFiles) {
    Files files;
    EXPECT_EQ(chown("42", files), (Owner{42, 42}));
    EXPECT_EQ(chown("42:7", files), (Owner{42, 7}));
    EXPECT_EQ(chown("root", files), (Owner{0, 0}));
    EXPECT_EQ(chown("0:root", files), (Owner{0, 0}));
    EXPECT_TRUE(files.read.empty());
}

TEST(Chown, NamesComeFromPasswdAndGroup) {
    Files files;
    EXPECT_EQ(chown("app", files), (Owner{1000, 1001}));  // the user's primary group
    EXPECT_EQ(chown("app:staff", files), (Owner{1000, 50}));
    EXPECT_EQ(chown("app:9", files), (Owner{1000, 9}));
    EXPECT_EQ(chown("5:staff", files), (Owner{5, 50}));
    EXPECT_EQ(chown(":staff", files), (Owner{0, 50}));
    EXPECT_EQ(chown("short", files), (Owner{77, 0}));
    EXPECT_EQ(files.read,
              (std::vector<std::string>{"/etc/passwd", "/etc/passwd", "/etc/group", "/etc/passwd",
                                        "/etc/group", "/etc/group", "/etc/passwd"}));
}

TEST(Chown, UnknownNamesAndMissingFilesGiveZeroAsBuildKit) {
    Files files;
    EXPECT_EQ(chown("nobody-here", files), (Owner{0, 0}));
    EXPECT_EQ(chown("app:no-group", files), (Owner{1000, 1001}));
    Files none;
    none.has_files = false;
    EXPECT_EQ(chown("app:staff", none), (Owner{0, 0}));
}

TEST(Chown, EmptyOrOutOfRangeIsRefused) {
    Files files;
    try {
        chown("", files);
        FAIL() << "an empty --chown was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find("--chown"), std::string::npos);
    }
    // A number past 32 bits is not an id: it is looked up as a name, as BuildKit does.
    EXPECT_EQ(chown("99999999999", files), (Owner{0, 0}));
}

// USER for RUN, as moby's user lookup resolves it.
RunUser run_user(std::string_view spec, Files& files) {
    return resolve_run_user(spec, [&](std::string_view p) { return files(p); });
}

TEST(RunUser, EmptyIsRootWithItsHome) {
    Files files;
    const RunUser u = run_user("", files);
    EXPECT_EQ(u.uid, 0U);
    EXPECT_EQ(u.gid, 0U);
    EXPECT_EQ(u.home, "/root");
}

TEST(RunUser, NameGivesItsIdsAndTheGroupsListingIt) {
    Files files;
    const RunUser u = run_user("app", files);
    EXPECT_EQ(u.uid, 1000U);
    EXPECT_EQ(u.gid, 1001U);
    EXPECT_EQ(u.groups, std::vector<std::uint32_t>{50});
    EXPECT_EQ(u.home, "/home/app");
}

TEST(RunUser, NumberInPasswdTakesItsPrimaryGroup) {
    Files files;
    EXPECT_EQ(run_user("1000", files).gid, 1001U);
}

TEST(RunUser, NumberNotInPasswdRunsWithGroupZero) {
    Files files;
    const RunUser u = run_user("4242", files);
    EXPECT_EQ(u.uid, 4242U);
    EXPECT_EQ(u.gid, 0U);
    EXPECT_TRUE(u.groups.empty());
    EXPECT_EQ(u.home, "/");
}

TEST(RunUser, ExplicitGroupByNameOrNumber) {
    Files files;
    EXPECT_EQ(run_user("app:staff", files).gid, 50U);
    EXPECT_EQ(run_user("app:7", files).gid, 7U);
    EXPECT_EQ(run_user("root:root", files).gid, 0U);
}

TEST(RunUser, UnknownNamesAreNotFoundWithBuildKitsWords) {
    Files files;
    try {
        run_user("nobody", files);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound);
        EXPECT_STREQ(e.what(), "unable to find user nobody: no matching entries in passwd file");
    }
    EXPECT_THROW(run_user("app:wheel", files), Error);
}

TEST(RunUser, RootWithoutPasswdIsZero) {
    Files files;
    files.has_files = false;
    EXPECT_EQ(run_user("root", files), RunUser{});
}

}  // namespace
}  // namespace xarch::solver
