// SPDX-License-Identifier: Apache-2.0
#include "registry/challenge.hpp"

#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace {

using xarch::registry::Challenge;
using xarch::registry::parse_challenges;
using xarch::registry::pick_challenge;

struct Case {
    const char* name;
    const char* header;
    std::vector<Challenge> want;
};

// Headers as real registries send them (captured from their /v2/ and 401 answers).
const std::vector<Case> kCases = {
    {"docker_hub",
     R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io")",
     {{"bearer", {{"realm", "https://auth.docker.io/token"}, {"service", "registry.docker.io"}}}}},
    {"docker_hub_scope",
     R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")",
     {{"bearer",
       {{"realm", "https://auth.docker.io/token"},
        {"service", "registry.docker.io"},
        {"scope", "repository:library/busybox:pull"}}}}},
    {"ghcr",
     R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull")",
     {{"bearer",
       {{"realm", "https://ghcr.io/token"},
        {"service", "ghcr.io"},
        {"scope", "repository:user/image:pull"}}}}},
    {"ecr_basic",
     R"(Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com")",
     {{"basic",
       {{"realm", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"},
        {"service", "ecr.amazonaws.com"}}}}},
    {"quay",
     R"(Bearer realm="https://quay.io/v2/auth",service="quay.io")",
     {{"bearer", {{"realm", "https://quay.io/v2/auth"}, {"service", "quay.io"}}}}},
    {"distribution_basic",
     R"(Basic realm="Registry Realm")",
     {{"basic", {{"realm", "Registry Realm"}}}}},
    {"insufficient_scope",
     R"(Bearer realm="http://127.0.0.1:5001/token",service="svc",scope="repository:a/b:pull,push",error="insufficient_scope")",
     {{"bearer",
       {{"realm", "http://127.0.0.1:5001/token"},
        {"service", "svc"},
        {"scope", "repository:a/b:pull,push"},
        {"error", "insufficient_scope"}}}}},
    {"two_scopes_in_one",
     R"(Bearer realm="r",scope="repository:a:pull repository:b:pull,push")",
     {{"bearer", {{"realm", "r"}, {"scope", "repository:a:pull repository:b:pull,push"}}}}},
    {"escapes",
     R"(Basic realm="say \"hi\" \\ there")",
     {{"basic", {{"realm", R"(say "hi" \ there)"}}}}},
    {"comma_and_equals_in_quotes",
     R"(Bearer realm="https://x/token?a=1,b=2",service="s, t")",
     {{"bearer", {{"realm", "https://x/token?a=1,b=2"}, {"service", "s, t"}}}}},
    {"case_and_blanks",
     "  BEARER   Realm = \"r\" ,  SERVICE=s  ",
     {{"bearer", {{"realm", "r"}, {"service", "s"}}}}},
    {"unquoted_values",
     "Bearer realm=https://auth.example/token,service=registry.example",
     {{"bearer", {{"realm", "https://auth.example/token"}, {"service", "registry.example"}}}}},
    {"two_challenges",
     R"(Basic realm="a", Bearer realm="b",service="c")",
     {{"basic", {{"realm", "a"}}}, {"bearer", {{"realm", "b"}, {"service", "c"}}}}},
    {"negotiate_then_basic",
     R"(Negotiate, Basic realm="corp")",
     {{"negotiate", {}}, {"basic", {{"realm", "corp"}}}}},
    {"token68",
     R"(Negotiate abc123==, Basic realm="x")",
     {{"negotiate", {{"abc123", ""}}}, {"basic", {{"realm", "x"}}}}},
    {"scheme_only", "Basic", {{"basic", {}}}},
    {"unterminated_quote",
     R"(Bearer realm="https://x/token)",
     {{"bearer", {{"realm", "https://x/token"}}}}},
    {"empty_value", R"(Bearer realm="",service=)", {{"bearer", {{"realm", ""}, {"service", ""}}}}},
    {"empty", "", {}},
    {"junk_is_skipped",
     R"(Bearer realm="r", "junk", service="s")",
     {{"bearer", {{"realm", "r"}, {"service", "s"}}}}},
};

// gtest prints the case by its name rather than as bytes.
void PrintTo(const Case& c, std::ostream* out) {
    *out << c.name;
}

class ChallengeTable : public testing::TestWithParam<Case> {};

TEST_P(ChallengeTable, Parses) {
    const Case& c = GetParam();
    const std::vector<Challenge> got = parse_challenges(c.header);
    ASSERT_EQ(got.size(), c.want.size()) << c.header;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].scheme, c.want[i].scheme) << c.header;
        EXPECT_EQ(got[i].params, c.want[i].params) << c.header;
    }
}

INSTANTIATE_TEST_SUITE_P(RealWorld,
                         ChallengeTable,
                         testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& param) {
                             return param.param.name;
                         });

TEST(Challenge, SeveralHeadersAreConcatenated) {
    const auto got =
        parse_challenges(std::vector<std::string>{R"(Basic realm="a")", R"(Bearer realm="b")"});
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].param("realm"), "b");
}

TEST(Challenge, PicksBearerThenBasic) {
    EXPECT_EQ(pick_challenge(parse_challenges(R"(Basic realm="a", Bearer realm="b")"))->scheme,
              "bearer");
    EXPECT_EQ(pick_challenge(parse_challenges(R"(Negotiate, Basic realm="a")"))->scheme, "basic");
    EXPECT_FALSE(pick_challenge(parse_challenges("Negotiate")).has_value());
    EXPECT_FALSE(pick_challenge({}).has_value());
}

TEST(Challenge, MissingParameterIsEmpty) {
    const auto got = parse_challenges(R"(Bearer realm="r")");
    EXPECT_EQ(got.at(0).param("service"), "");
}

TEST(Challenge, HostileInputDoesNotHang) {
    const std::string junk(100'000, ',');
    EXPECT_TRUE(parse_challenges(junk).empty());
    std::string quotes = "Bearer realm=";
    quotes += std::string(50'000, '"');
    EXPECT_EQ(parse_challenges(quotes).size(), 1u);
    EXPECT_FALSE(parse_challenges(std::string("\x01\x02=\"\\", 5)).size() > 1);
}

}  // namespace
