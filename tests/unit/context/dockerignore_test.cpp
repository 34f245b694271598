// SPDX-License-Identifier: Apache-2.0
// Reading ignore files (ignorefile.ReadAll) and choosing which one a build uses.
#include "context/dockerignore.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using xarch::context::read_ignore_patterns;
using Patterns = std::vector<std::string>;

TEST(ReadIgnorePatterns, LinesCommentsAndCleaning) {
    EXPECT_EQ(read_ignore_patterns(""), Patterns{});
    EXPECT_EQ(read_ignore_patterns("a\r\nb\r\n\r\n"), (Patterns{"a", "b"}));
    EXPECT_EQ(read_ignore_patterns("\xEF\xBB\xBF"
                                   "a\n\xEF\xBB\xBF"
                                   "b"),
              (Patterns{"a",
                        "\xEF\xBB\xBF"
                        "b"}));
    // '#' starts a comment only in the first column.
    EXPECT_EQ(read_ignore_patterns("# c\n  # not a comment\n"), (Patterns{"# not a comment"}));
    EXPECT_EQ(read_ignore_patterns("/a/b/../c/\n//x\n/\n./\n"), (Patterns{"a/c", "x", "/", "."}));
    EXPECT_EQ(read_ignore_patterns("!  /keep/./me\n!\n"), (Patterns{"!keep/me", "!"}));
    EXPECT_EQ(read_ignore_patterns("\t spaced out \u00a0\n"), (Patterns{"spaced out"}));
    EXPECT_EQ(read_ignore_patterns("no newline at end"), (Patterns{"no newline at end"}));
}

TEST(ReadIgnorePatterns, LongLinesFailAsInBuildKit) {
    const std::string ok(65535, 'a');
    EXPECT_EQ(read_ignore_patterns(ok + "\nb"), (Patterns{ok, "b"}));
    EXPECT_EQ(read_ignore_patterns(ok), (Patterns{ok}));
    EXPECT_THROW(read_ignore_patterns(ok + "a\n"), xarch::Error);
    EXPECT_THROW(read_ignore_patterns("x\n" + ok + "a"), xarch::Error);
}

TEST(ReadIgnorePatterns, ManyLinesAndGarbage) {
    std::string content;
    for (int i = 0; i < 100000; ++i) {
        content += "dir" + std::to_string(i) + "/**\n";
    }
    EXPECT_EQ(read_ignore_patterns(content).size(), 100000U);
    std::string garbage;
    for (int i = 0; i < 65536; ++i) {
        garbage += static_cast<char>(i * 7919 % 251);
    }
    EXPECT_NO_THROW(read_ignore_patterns(garbage));
}

class IgnoreFileChoice : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "xarch-ignore-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        fs::create_directories(root_ / "sub");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    void write(const fs::path& rel, const std::string& content) {
        std::ofstream(root_ / rel, std::ios::binary) << content;
    }

    fs::path root_;
};

TEST_F(IgnoreFileChoice, DockerfileSpecificFileWins) {
    using xarch::context::find_ignore_file;
    using xarch::context::load_ignore_patterns;
    EXPECT_FALSE(find_ignore_file(root_, root_ / "Dockerfile").has_value());
    EXPECT_EQ(load_ignore_patterns(root_, root_ / "Dockerfile"), Patterns{});

    write(".dockerignore", "context\n");
    EXPECT_EQ(load_ignore_patterns(root_, root_ / "Dockerfile"), Patterns{"context"});
    EXPECT_EQ(load_ignore_patterns(root_, "-"), Patterns{"context"});

    write("sub/app.Dockerfile.dockerignore", "specific\n");
    EXPECT_EQ(load_ignore_patterns(root_, root_ / "sub/app.Dockerfile"), Patterns{"specific"});
    EXPECT_EQ(load_ignore_patterns(root_, root_ / "sub/other.Dockerfile"), Patterns{"context"});

    write(".dockerignore", std::string(70000, 'x'));
    try {
        load_ignore_patterns(root_, root_ / "Dockerfile");
        ADD_FAILURE() << "no error";
    } catch (const xarch::Error& e) {
        EXPECT_NE(std::string(e.what()).find("failed parsing"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(".dockerignore"), std::string::npos) << e.what();
    }
}

}  // namespace
