// SPDX-License-Identifier: Apache-2.0
// Go's filepath.Match, Clean and Dir on the cases that decide .dockerignore and COPY behaviour,
// beyond the conformance table: syntax errors found after a failed match, bytes versus runes,
// hostile patterns.
#include "context/filepath_match.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace {

using xarch::context::clean_path;
using xarch::context::dir_path;
using xarch::context::filepath_match;

TEST(FilepathMatch, Basics) {
    EXPECT_EQ(filepath_match("*.go", "main.go"), true);
    EXPECT_EQ(filepath_match("*.go", "cmd/main.go"), false);
    EXPECT_EQ(filepath_match("a/*/c", "a/b/c"), true);
    EXPECT_EQ(filepath_match("a?c", "a/c"), false);
    EXPECT_EQ(filepath_match("[a-c]*", "b.txt"), true);
    EXPECT_EQ(filepath_match("[^a-c]*", "b.txt"), false);
    EXPECT_EQ(filepath_match("\\*", "*"), true);
    EXPECT_EQ(filepath_match("", ""), true);
    EXPECT_EQ(filepath_match("", "a"), false);
    EXPECT_EQ(filepath_match("*", ""), true);
}

TEST(FilepathMatch, MalformedPatterns) {
    for (const char* bad :
         {"[", "[^", "[]", "[a-", "[a-]", "[-a]", "\\", "a\\", "[\\", "[a\\", "[x-\\"}) {
        EXPECT_FALSE(filepath_match(bad, "a").has_value()) << bad;
        EXPECT_FALSE(filepath_match(bad, "").has_value()) << bad;
    }
    // The rest of the pattern is checked even when the match failed before it.
    EXPECT_FALSE(filepath_match("x*[", "abc").has_value());
    EXPECT_FALSE(filepath_match("b[", "abc").has_value());
    EXPECT_FALSE(filepath_match("a*b*[", "ab").has_value());
    // ... except after a trailing star, which answers at once.
    EXPECT_EQ(filepath_match("[a]*", "ab"), true);
    // A reversed range is no syntax error for Match; it matches nothing.
    EXPECT_EQ(filepath_match("[z-a]", "m"), false);
    // Invalid UTF-8 in a class is.
    EXPECT_FALSE(filepath_match("[\xff]", "a").has_value());
}

TEST(FilepathMatch, RunesAndBytes) {
    EXPECT_EQ(filepath_match("?", "é"), true);
    EXPECT_EQ(filepath_match("??", "é"), false);
    EXPECT_EQ(filepath_match("[é]", "é"), true);
    EXPECT_EQ(filepath_match("?", "\xff"), true);
    // A literal is compared byte for byte.
    EXPECT_EQ(filepath_match("é", "é"), true);
}

TEST(FilepathMatch, HostileInputIsBounded) {
    const auto start = std::chrono::steady_clock::now();
    std::string pattern;
    for (int i = 0; i < 200; ++i) {
        pattern += "*a";
    }
    pattern += "b";
    EXPECT_EQ(filepath_match(pattern, std::string(5000, 'a')), false);
    EXPECT_EQ(filepath_match(std::string(100000, '*'), std::string(100000, 'x')), true);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(CleanPath, GoCases) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "."},
        {".", "."},
        {"..", ".."},
        {"/", "/"},
        {"//", "/"},
        {"/..", "/"},
        {"/../a", "/a"},
        {"a/..", "."},
        {"a/../..", ".."},
        {"../../a", "../../a"},
        {"a//b/./c/", "a/b/c"},
        {"./a", "a"},
        {"a/b/../c", "a/c"},
        {"abc/def/../../..", ".."},
        {"/abc/def/../../..", "/"},
        {"!foo/", "!foo"},
        {"**/", "**"},
    };
    for (const auto& [in, out] : cases) {
        EXPECT_EQ(clean_path(in), out) << in;
    }
}

TEST(DirPath, GoCases) {
    EXPECT_EQ(dir_path("a/b/c"), "a/b");
    EXPECT_EQ(dir_path("a"), ".");
    EXPECT_EQ(dir_path("/a"), "/");
    EXPECT_EQ(dir_path("a/b/"), "a/b");
    EXPECT_EQ(dir_path("a//b"), "a");
    EXPECT_EQ(dir_path(""), ".");
}

}  // namespace
