// SPDX-License-Identifier: Apache-2.0
// PatternMatcher details the conformance corpus does not pin down: how Go's regular expression
// syntax shows through patterns, malformed patterns, and large inputs.
#include "context/pattern_matcher.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using xarch::context::PatternMatcher;

bool excluded(const std::string& path, const std::vector<std::string>& patterns) {
    return PatternMatcher(patterns).matches_or_parent_matches(path);
}

TEST(PatternMatcher, ExceptionsAndOrder) {
    EXPECT_TRUE(excluded("node_modules/x/y.js", {"node_modules"}));
    EXPECT_FALSE(excluded("docs/README.md", {"docs", "!docs/README.md"}));
    EXPECT_TRUE(excluded("docs/README.md", {"docs", "!docs/README.md", "docs/*.md"}));
    EXPECT_TRUE(excluded("a.go", {"!a.go", "*.go"}));
    EXPECT_FALSE(excluded("src/a.go", {"*.go"}));  // '*' does not cross '/'
    EXPECT_TRUE(excluded("src/a.go", {"**/*.go"}));
    EXPECT_TRUE(excluded("x", {"  x  "}));
    EXPECT_TRUE(excluded("x", {"x\u3000"}));  // Unicode white space is trimmed too
}

TEST(PatternMatcher, GoRegexpSyntaxShowsThrough) {
    EXPECT_TRUE(excluded("a", {"[[:alpha:]]"}));
    EXPECT_FALSE(excluded("1", {"[[:alpha:]]"}));
    EXPECT_TRUE(excluded("a5", {"a\\d"}));
    EXPECT_FALSE(excluded("ad", {"a\\d"}));
    EXPECT_TRUE(excluded("!", {"[!a]"}));  // '!' is no negation in a class
    EXPECT_TRUE(excluded("a.b", {"a\\.b"}));
    // Only an "exact" pattern (no wildcard, class or escape) is compared byte for byte.
    EXPECT_TRUE(excluded("a^b", {"a^b"}));
    EXPECT_FALSE(excluded("a^b", {"a^b*"}));
    // "**x" is a suffix pattern: it also matches "profile" for "**file".
    EXPECT_TRUE(excluded("profile", {"**file"}));
    // \Q quotes the rest of the generated expression, escapes and end anchor included.
    EXPECT_TRUE(excluded("ab\\.c$", {"\\Qab.c"}));
    EXPECT_TRUE(excluded("ab\\.c$x", {"\\Qab.c"}));
    EXPECT_FALSE(excluded("ab.c", {"\\Qab.c"}));
}

TEST(PatternMatcher, MalformedPatterns) {
    for (const char* bad : {"!", "[", "a[", "[^", "\\", "[]"}) {
        EXPECT_THROW(PatternMatcher({bad}), xarch::Error) << bad;
    }
    // Accepted by filepath.Match but not by Go's regexp: fails when matched, every time.
    for (const char* late : {"[z-a]", "a\\q", "[Local-Only]/", "[[:nope:]]", "a\\1"}) {
        const PatternMatcher pm({late});
        EXPECT_THROW(pm.matches_or_parent_matches("x"), xarch::Error) << late;
        EXPECT_THROW(pm.matches_or_parent_matches("x"), xarch::Error) << late;
        EXPECT_EQ(pm.patterns().front().match_type(), "bad");
    }
    // Not supported: Unicode classes, which Go would accept. They fail as bad patterns.
    EXPECT_THROW(PatternMatcher({"a\\pL"}).matches_or_parent_matches("ab"), xarch::Error);
}

TEST(PatternMatcher, ExpressionsAsPatternmatcherBuildsThem) {
    const PatternMatcher pm({"a*/b?", "**/x/**", "dir/**", "**/foo", "a(b)c"});
    EXPECT_EQ(pm.patterns()[0].expression(), "^a[^/]*/b[^/]$");
    EXPECT_EQ(pm.patterns()[1].expression(), "^(.*/)?x/.*$");
    EXPECT_EQ(pm.patterns()[2].match_type(), "prefix");
    EXPECT_EQ(pm.patterns()[3].match_type(), "suffix");
    EXPECT_EQ(pm.patterns()[4].match_type(), "exact");
}

TEST(PatternMatcher, LargeInputsAreBounded) {
    const auto start = std::chrono::steady_clock::now();
    std::string path;
    for (int i = 0; i < 500; ++i) {
        path += "dir/";
    }
    path += "file.txt";
    EXPECT_TRUE(excluded(path, {"**/*.txt"}));
    EXPECT_FALSE(excluded(path, {"**/*.go", "**/dir/nope/**"}));
    std::string stars;
    for (int i = 0; i < 500; ++i) {
        stars += "*?";
    }
    EXPECT_FALSE(excluded(std::string(400, 'a'), {stars}));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(PatternMatcher, DeprecatedMatchesChecksOneParentLevel) {
    // Matches tries a pattern against the parent with as many components as the pattern.
    const PatternMatcher pm({"a/b"});
    EXPECT_TRUE(pm.matches("a/b/c/d"));
    const PatternMatcher one({"b"});
    EXPECT_FALSE(one.matches("a/b/c"));
    EXPECT_FALSE(one.matches_or_parent_matches("a/b/c"));
    EXPECT_TRUE(PatternMatcher({"a"}).matches("a/b/c"));
}

}  // namespace
