// SPDX-License-Identifier: Apache-2.0
// COPY source resolution over a scanned context: literal files and directories, the root,
// wildcards (which may match nothing, as in BuildKit), symlinks followed inside the context,
// escapes refused, missing sources named, and the destination rule for several sources.
#include "context_test_util.hpp"

#include <xarch/context.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xarch_context_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using xarch::BuildContext;
using xarch::CopySourceMatch;
using xarch::Error;
using xarch::ErrorCode;
using xarch::ScanOptions;

class CopySourcesTest : public ::testing::Test {
protected:
    void SetUp() override {
        t_.file("Dockerfile", "FROM x\n");
        t_.file("a.txt", "a");
        t_.file("b.txt", "b");
        t_.file("c.md", "c");
        t_.file("src/main.c", "int main;");
        t_.file("src/util.c", "u");
        t_.file("src/inc/util.h", "h");
        t_.file("real/file", "f");
        t_.symlink("real", "linkdir");
        t_.symlink("/real/file", "abslink");
        t_.symlink("loop2", "loop1");
        t_.symlink("loop1", "loop2");
        t_.symlink("../../etc/passwd", "escape");
        ScanOptions options;
        options.use_cache = false;
        ctx_.emplace(BuildContext::from_directory(t_.root()));
        ctx_->scan(options);
    }

    std::vector<std::string> one(const std::string& source) {
        const std::vector<CopySourceMatch> m = ctx_->resolve_copy_sources({source});
        EXPECT_EQ(m.size(), 1u);
        EXPECT_EQ(m[0].source, source);
        return paths(m[0].entries);
    }
    Error error(const std::vector<std::string>& sources, const std::string& dest = {}) {
        try {
            ctx_->resolve_copy_sources(sources, dest);
        } catch (const Error& e) {
            return e;
        }
        ADD_FAILURE() << "no error for " << sources.front();
        return Error(ErrorCode::kInternal, "");
    }

    TempTree t_;
    std::optional<BuildContext> ctx_;
};

TEST_F(CopySourcesTest, LiteralFile) {
    EXPECT_THAT(one("a.txt"), ElementsAre("a.txt"));
    EXPECT_THAT(one("./a.txt"), ElementsAre("a.txt"));
    EXPECT_THAT(one("/a.txt"), ElementsAre("a.txt")) << "a leading / is the context root";
    EXPECT_THAT(one("src/../a.txt"), ElementsAre("a.txt"));
}

TEST_F(CopySourcesTest, DirectoryBringsItsContents) {
    EXPECT_THAT(one("src"),
                ElementsAre("src", "src/inc", "src/inc/util.h", "src/main.c", "src/util.c"));
    EXPECT_THAT(one("src/"),
                ElementsAre("src", "src/inc", "src/inc/util.h", "src/main.c", "src/util.c"));
}

TEST_F(CopySourcesTest, RootIsEverything) {
    EXPECT_EQ(one(".").size(), ctx_->entries().size());
    EXPECT_EQ(one("/").size(), ctx_->entries().size());
}

TEST_F(CopySourcesTest, Wildcards) {
    EXPECT_THAT(one("*.txt"), ElementsAre("a.txt", "b.txt"));
    EXPECT_THAT(one("src/*.c"), ElementsAre("src/main.c", "src/util.c"));
    EXPECT_THAT(one("?.md"), ElementsAre("c.md"));
    EXPECT_THAT(one("[ab].txt"), ElementsAre("a.txt", "b.txt"));
    EXPECT_THAT(one("[^a].txt"), ElementsAre("b.txt"));
    EXPECT_THAT(one("s*"),
                ElementsAre("src", "src/inc", "src/inc/util.h", "src/main.c", "src/util.c"))
        << "a matched directory brings its contents";
    EXPECT_THAT(one("*/inc/*.h"), ElementsAre("src/inc/util.h"));
}

TEST_F(CopySourcesTest, WildcardMatchingNothingIsEmptyNotAnError) {
    EXPECT_THAT(one("*.none"), IsEmpty());
}

TEST_F(CopySourcesTest, SymlinksAreFollowedInsideTheContext) {
    EXPECT_THAT(one("linkdir/file"), ElementsAre("real/file"));
    EXPECT_THAT(one("linkdir"), ElementsAre("real", "real/file"));
    EXPECT_THAT(one("abslink"), ElementsAre("real/file")) << "an absolute target is rooted";
}

TEST_F(CopySourcesTest, SymlinkLoopIsAnError) {
    const Error e = error({"loop1"});
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("too many levels of symbolic links"));
}

TEST_F(CopySourcesTest, SymlinkOutOfTheContextStaysInside) {
    // "../../etc/passwd" stops at the context root: /etc/passwd of the context, which is absent.
    const Error e = error({"escape"});
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
}

TEST_F(CopySourcesTest, MissingSourceIsNamed) {
    const Error e = error({"missing.txt"});
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("\"/missing.txt\": not found"));
    EXPECT_THAT(error({"src/nope/x"}).what(), HasSubstr("\"/src/nope/x\": not found"));
}

TEST_F(CopySourcesTest, EscapesAreRefused) {
    for (const std::string s : {"../x", "a/../../x", "/../etc/passwd", "./../x"}) {
        const Error e = error({s});
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << s;
        EXPECT_THAT(e.what(), HasSubstr("outside the build context")) << s;
        EXPECT_THAT(e.what(), HasSubstr("\"" + s + "\"")) << s;
    }
}

TEST_F(CopySourcesTest, BadPattern) {
    const Error e = error({"[a-"});
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("syntax error in pattern"));
}

TEST_F(CopySourcesTest, SeveralSourcesNeedADirectoryDestination) {
    const Error e = error({"a.txt", "b.txt"}, "/dst");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("must be a directory and end with a /"));
    const auto m = ctx_->resolve_copy_sources({"a.txt", "src/*.c", "*.none"}, "/dst/");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_THAT(paths(m[0].entries), ElementsAre("a.txt"));
    EXPECT_THAT(paths(m[1].entries), ElementsAre("src/main.c", "src/util.c"));
    EXPECT_THAT(paths(m[2].entries), IsEmpty());
    EXPECT_EQ(ctx_->resolve_copy_sources({"*.txt"}, "/dst").size(), 1u)
        << "one wildcard source may go to a file destination";
}

TEST_F(CopySourcesTest, RecordsCarryDigests) {
    const auto m = ctx_->resolve_copy_sources({"a.txt"});
    EXPECT_EQ(m[0].entries[0].digest, xarch::Digest::of("a"));
}

TEST_F(CopySourcesTest, NoSourcesIsAnError) {
    EXPECT_THROW(ctx_->resolve_copy_sources({}), Error);
}

}  // namespace
}  // namespace xarch_context_test
