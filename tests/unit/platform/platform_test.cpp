// SPDX-License-Identifier: Apache-2.0
// Platform: parsing (buildx and containerd flavours), lists, normalization, formatting, errors
// and hashing.
#include "platform/internal.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/platform.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

using testing::HasSubstr;
using xarch::Error;
using xarch::ErrorCode;
using xarch::Platform;

const Platform kAmd64Host("linux", "amd64");

// The message of the Error that parsing `text` throws, or "" when it parses.
template <typename Parse>
std::string error_of(Parse&& parse) {
    try {
        parse();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        return e.what();
    }
    return "";
}

std::string parse_error(std::string_view text) {
    return error_of([&] { xarch::platform::parse(text, kAmd64Host); });
}

// ---- parse(): what buildx makes of one --platform value ----

struct Form {
    const char* input;
    const char* expected;
};

class ParseForm : public testing::TestWithParam<Form> {};

TEST_P(ParseForm, GivesNormalizedPlatform) {
    const Platform p = xarch::platform::parse(GetParam().input, kAmd64Host);
    EXPECT_EQ(p.to_string(), GetParam().expected);
    EXPECT_EQ(p, p.normalized());
}

INSTANTIATE_TEST_SUITE_P(BuildxForms,
                         ParseForm,
                         testing::Values(Form{"amd64", "linux/amd64"},
                                         Form{"arm", "linux/arm/v7"},
                                         Form{"arm64", "linux/arm64"},
                                         Form{"linux/arm/v7", "linux/arm/v7"},
                                         Form{"linux/arm/v6", "linux/arm/v6"},
                                         Form{"linux/arm", "linux/arm/v7"},
                                         Form{"aarch64", "linux/arm64"},
                                         Form{"Aarch64", "linux/arm64"},
                                         Form{"x86_64", "linux/amd64"},
                                         Form{"x86-64", "linux/amd64"},
                                         Form{"armhf", "linux/arm/v7"},
                                         Form{"armel", "linux/arm/v6"},
                                         Form{"i386", "linux/386"},
                                         Form{"386", "linux/386"},
                                         Form{"ppc64le", "linux/ppc64le"},
                                         Form{"s390x", "linux/s390x"},
                                         Form{"riscv64", "linux/riscv64"},
                                         Form{"mips64le", "linux/mips64le"},
                                         Form{"loong64", "linux/loong64"},
                                         Form{"windows/amd64", "windows/amd64"},
                                         Form{"darwin/arm64", "darwin/arm64"},
                                         Form{"arm64/v8", "linux/arm64"},
                                         Form{"linux/arm64/v8", "linux/arm64"},
                                         Form{"linux/arm64/v9.0", "linux/arm64/v9"},
                                         Form{"linux/amd64/v1", "linux/amd64"},
                                         Form{"linux/amd64/v3", "linux/amd64/v3"},
                                         Form{"Linux/X86_64", "linux/amd64"},
                                         Form{"macos", "darwin/amd64"},
                                         Form{"macOS/arm64", "darwin/arm64"},
                                         Form{"linux", "linux/amd64"},
                                         Form{"windows", "windows/amd64"},
                                         Form{"local", "linux/amd64"},
                                         Form{"LOCAL", "linux/amd64"},
                                         Form{"Local", "linux/amd64"}));

TEST(PlatformParse, ArchVariantShorthand) {
    // containerd reads "arm64/v8" as OS "arm64", architecture "v8", which matches no image;
    // parse() takes an architecture in the OS position as arch/variant on the host OS.
    using xarch::platform::parse;
    EXPECT_EQ(parse("arm64/v8", kAmd64Host), Platform("linux", "arm64"));
    EXPECT_EQ(parse("arm/v6", kAmd64Host), Platform("linux", "arm", "v6"));
    EXPECT_EQ(parse("aarch64/v9.0", kAmd64Host), Platform("linux", "arm64", "v9"));
    EXPECT_EQ(parse("amd64/v2", Platform("freebsd", "amd64")), Platform("freebsd", "amd64", "v2"));
    // A known OS always wins, and parse_unnormalized() stays containerd's Parse.
    EXPECT_EQ(parse("linux/v8", kAmd64Host), Platform("linux", "v8"));
    EXPECT_EQ(xarch::platform::parse_unnormalized("arm64/v8", kAmd64Host), Platform("arm64", "v8"));
}

TEST(PlatformParse, LocalIsTheHost) {
    const Platform arm_host("linux", "arm", "v6");
    EXPECT_EQ(xarch::platform::parse("local", arm_host).to_string(), "linux/arm/v6");
    EXPECT_EQ(xarch::platform::parse("lOcAl", Platform("linux", "arm64", "v8")).to_string(),
              "linux/arm64");
    EXPECT_EQ(Platform::parse("local"), Platform::host());
}

TEST(PlatformParse, PublicParseUsesTheRealHost) {
    EXPECT_EQ(Platform::parse("linux/arm/v7").to_string(), "linux/arm/v7");
    EXPECT_EQ(Platform::parse("arm64").os(), Platform::host().os());
    EXPECT_EQ(Platform::parse("linux").architecture(), Platform::host().architecture());
}

TEST(PlatformParse, KeepsOsVersionAndFeatures) {
    const Platform p = xarch::platform::parse("windows(10.0.17763+win32k)/amd64", kAmd64Host);
    EXPECT_EQ(p.os(), "windows");
    EXPECT_EQ(p.os_version(), "10.0.17763");
    EXPECT_EQ(p.os_features(), std::vector<std::string>{"win32k"});
    EXPECT_EQ(p.to_string(), "windows/amd64");
    EXPECT_EQ(p.to_string_all(), "windows(10.0.17763+win32k)/amd64");
}

// ---- parse_unnormalized(): containerd's Parse ----

TEST(PlatformParseUnnormalized, LeavesArmV7Implicit) {
    using xarch::platform::parse_unnormalized;
    EXPECT_EQ(parse_unnormalized("arm", kAmd64Host), Platform("linux", "arm"));
    EXPECT_EQ(parse_unnormalized("armhf", kAmd64Host), Platform("linux", "arm"));
    EXPECT_EQ(parse_unnormalized("linux/arm", kAmd64Host), Platform("linux", "arm"));
    EXPECT_EQ(parse_unnormalized("linux/arm/v7", kAmd64Host), Platform("linux", "arm", "v7"));
    EXPECT_EQ(parse_unnormalized("armel", kAmd64Host), Platform("linux", "arm", "v6"));
}

TEST(PlatformParseUnnormalized, SpellsArm64V8OnlyWithThreeParts) {
    using xarch::platform::parse_unnormalized;
    EXPECT_EQ(parse_unnormalized("linux/arm64", kAmd64Host), Platform("linux", "arm64"));
    EXPECT_EQ(parse_unnormalized("linux/arm64/v8", kAmd64Host), Platform("linux", "arm64", "v8"));
    EXPECT_EQ(parse_unnormalized("linux/aarch64/8", kAmd64Host), Platform("linux", "arm64", "v8"));
}

TEST(PlatformParseUnnormalized, TakesMissingPartsFromTheHost) {
    using xarch::platform::parse_unnormalized;
    EXPECT_EQ(parse_unnormalized("linux", Platform("linux", "s390x")), Platform("linux", "s390x"));
    EXPECT_EQ(parse_unnormalized("arm64", Platform("freebsd", "amd64")),
              Platform("freebsd", "arm64"));
    // Only an arm host lends its variant, and v7 stays implicit.
    EXPECT_EQ(parse_unnormalized("linux", Platform("linux", "arm", "v6")),
              Platform("linux", "arm", "v6"));
    EXPECT_EQ(parse_unnormalized("linux", Platform("linux", "arm", "v7")),
              Platform("linux", "arm"));
    EXPECT_EQ(parse_unnormalized("linux", Platform("linux", "arm64", "v8")),
              Platform("linux", "arm64"));
}

TEST(PlatformParseUnnormalized, KeepsFeatureOrderAndDecodes) {
    const Platform p = xarch::platform::parse_unnormalized("linux(+zz+aa%2Bb)/amd64", kAmd64Host);
    EXPECT_EQ(p.os_features(), (std::vector<std::string>{"zz", "aa+b"}));
    EXPECT_EQ(p.normalized().os_features(), (std::vector<std::string>{"aa+b", "zz"}));
    EXPECT_EQ(xarch::platform::parse_unnormalized("windows(50%25done)", kAmd64Host).os_version(),
              "50%done");
}

TEST(PlatformParseUnnormalized, PublicFunctionAgrees) {
    EXPECT_EQ(Platform::parse_unnormalized("linux/arm"), Platform("linux", "arm"));
}

// ---- errors: every bad input is quoted, with what to write instead ----

TEST(PlatformErrors, QuoteInputAndSuggestTheForm) {
    EXPECT_EQ(parse_error("a/b/c/d"),
              "invalid platform \"a/b/c/d\": too many '/'-separated parts; expected "
              "os/arch[/variant], e.g. linux/arm64");
    const std::vector<std::string> bad = {"",
                                          "linux/",
                                          "/linux/arm",
                                          "linux/arm/",
                                          "linux /arm",
                                          "linux/&arm",
                                          "linux/arm/foo/bar",
                                          "*",
                                          "linux/*",
                                          "foo",
                                          "linux(",
                                          "linux(+)",
                                          "linux(+a+)",
                                          "linux(1%zz)",
                                          "linux((x))",
                                          "li.nux/amd64",
                                          "linux\t/amd64",
                                          "a/b/c/d/e/f"};
    for (const std::string& text : bad) {
        const std::string message = parse_error(text);
        EXPECT_THAT(message, HasSubstr(xarch::util::quote(text))) << "input " << text;
        EXPECT_THAT(message, HasSubstr("e.g.")) << "input " << text;
    }
}

TEST(PlatformErrors, NameTheProblem) {
    EXPECT_THAT(parse_error(""), HasSubstr("empty"));
    EXPECT_THAT(parse_error("linux/"), HasSubstr("the architecture is empty"));
    EXPECT_THAT(parse_error("linux/arm/"), HasSubstr("the variant is empty"));
    EXPECT_THAT(parse_error("/arm"), HasSubstr("the OS is empty"));
    EXPECT_THAT(parse_error("linux /arm"), HasSubstr("a space is not allowed in the OS"));
    EXPECT_THAT(parse_error("linux/&arm"), HasSubstr("'&' is not allowed in the architecture"));
    EXPECT_THAT(parse_error("linux/*"), HasSubstr("wildcards"));
    EXPECT_THAT(parse_error("foo"), HasSubstr("unknown operating system or architecture"));
    EXPECT_THAT(parse_error("linux(1%zz)"), HasSubstr("percent-encoding"));
    EXPECT_THAT(parse_error("linux(+)"), HasSubstr("empty OS feature"));
}

TEST(PlatformErrors, HostileInputNeverCrashes) {
    const std::string huge(10 * 1024, 'a');
    const std::string message = parse_error(huge);
    EXPECT_LT(message.size(), 400U);
    EXPECT_THAT(message, HasSubstr("...\" (10240 bytes)"));

    const std::string slashes(10 * 1024, '/');
    EXPECT_THAT(parse_error(slashes), HasSubstr("(10240 bytes)"));

    const std::string nul("linux/a\0m", 9);
    EXPECT_THAT(parse_error(nul), HasSubstr("\"linux/a\\x00m\""));
    EXPECT_THAT(parse_error(nul), HasSubstr("byte 0x00"));

    EXPECT_THAT(parse_error("linux/\xc3\xa4rm"), HasSubstr("\"linux/\\xc3\\xa4rm\""));
    EXPECT_THAT(parse_error("\"quoted\"\\"), HasSubstr("\"\\\"quoted\\\"\\\\\""));
    EXPECT_THAT(parse_error("linux\n"), HasSubstr("\"linux\\x0a\""));
    EXPECT_THAT(error_of([&] { xarch::platform::parse_list(huge + "," + huge, kAmd64Host); }),
                HasSubstr("(20481 bytes)"));
    // containerd accepts any well-formed os/arch pair, however long.
    EXPECT_THAT(parse_error("linux/" + huge), testing::IsEmpty());
}

TEST(PlatformErrors, RandomInputEitherParsesOrThrowsError) {
    // Pieces of real syntax plus bytes that must be rejected, so that most paths are reached.
    const std::vector<std::string> pieces = {"linux",      "windows",
                                             "arm",        "arm64",
                                             "amd64",      "v7",
                                             "v8.2",       "local",
                                             "/",          "/",
                                             ",",          ",",
                                             "(",          ")",
                                             "+",          "%",
                                             "%2B",        "%zz",
                                             "*",          " ",
                                             ".",          "..",
                                             "x86_64",     "aarch64",
                                             "macOS",      std::string(1, '\0'),
                                             "\xff",       "\xc3\xa4",
                                             "10.0.17763", "win32k",
                                             "v9999999999"};
    std::mt19937 random(42);  // fixed seed: failures reproduce
    for (int i = 0; i < 5000; ++i) {
        std::string text;
        const auto count = random() % 8;
        for (unsigned j = 0; j < count; ++j) {
            text += pieces[random() % pieces.size()];
        }
        try {
            for (const Platform& p : xarch::platform::parse_list(text, kAmd64Host)) {
                EXPECT_EQ(p.normalized(), p) << text;
                // Matching what was parsed must not blow up either.
                const xarch::PlatformMatcher m = xarch::PlatformMatcher::only(p);
                (void)m.match(p);
            }
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        }
    }
}

// ---- parse_list(): a --platform value ----

std::vector<std::string> list(std::string_view text, const Platform& host = kAmd64Host) {
    std::vector<std::string> out;
    for (const Platform& p : xarch::platform::parse_list(text, host)) {
        out.push_back(p.to_string());
    }
    return out;
}

TEST(PlatformParseList, KeepsOrder) {
    EXPECT_EQ(list("amd64,arm,arm64"),
              (std::vector<std::string>{"linux/amd64", "linux/arm/v7", "linux/arm64"}));
    EXPECT_EQ(list("arm64,amd64"), (std::vector<std::string>{"linux/arm64", "linux/amd64"}));
    EXPECT_EQ(list("linux/riscv64"), (std::vector<std::string>{"linux/riscv64"}));
}

TEST(PlatformParseList, DropsDuplicatesAfterNormalizing) {
    EXPECT_EQ(list("linux/amd64,amd64,x86_64,arm,linux/arm/v7,armhf,local"),
              (std::vector<std::string>{"linux/amd64", "linux/arm/v7"}));
    EXPECT_EQ(list("LOCAL,linux/riscv64", Platform("linux", "arm64", "v8")),
              (std::vector<std::string>{"linux/arm64", "linux/riscv64"}));
}

TEST(PlatformParseList, RejectsEmptyElementsAndSpaces) {
    auto list_error = [](std::string_view text) {
        return error_of([&] { xarch::platform::parse_list(text, kAmd64Host); });
    };
    EXPECT_THAT(list_error("amd64,,arm"), HasSubstr("\"amd64,,arm\": element 2 is empty"));
    EXPECT_THAT(list_error("amd64,"), HasSubstr("\"amd64,\": element 2 is empty"));
    EXPECT_THAT(list_error(",amd64"), HasSubstr("element 1 is empty"));
    EXPECT_THAT(list_error(""), HasSubstr("empty"));
    EXPECT_THAT(list_error("linux/amd64, linux/arm64"),
                HasSubstr("element 2 \" linux/arm64\" has surrounding whitespace"));
    EXPECT_THAT(list_error("amd64 ,arm"), HasSubstr("element 1 \"amd64 \""));
    EXPECT_THAT(list_error("amd64,foo"),
                HasSubstr("element 2: invalid platform \"foo\": unknown operating system"));
}

TEST(PlatformParseList, PublicFunctionAgrees) {
    const std::vector<Platform> platforms = Platform::parse_list("linux/arm64,linux/amd64");
    ASSERT_EQ(platforms.size(), 2U);
    EXPECT_EQ(platforms[0], Platform("linux", "arm64"));
}

// ---- normalized() ----

TEST(PlatformNormalized, CanonicalNames) {
    EXPECT_EQ(Platform("Linux", "AMD64", "V3").normalized(), Platform("linux", "amd64", "v3"));
    EXPECT_EQ(Platform("macOS", "aarch64").normalized(), Platform("darwin", "arm64"));
    EXPECT_EQ(Platform("linux", "arm", "7").normalized(), Platform("linux", "arm", "v7"));
    EXPECT_EQ(Platform("linux", "arm64", "v8.0").normalized(), Platform("linux", "arm64"));
    EXPECT_EQ(Platform("linux", "i386", "v7").normalized(), Platform("linux", "386"));
    EXPECT_EQ(Platform("", "amd64").normalized().os(), xarch::platform::kBuildOs);
    EXPECT_EQ(Platform("linux", "sparc64", "X").normalized(), Platform("linux", "sparc64", "x"));
}

TEST(PlatformNormalized, IsIdempotent) {
    for (const char* text : {"arm", "armel", "arm64", "linux/arm64/v9.0", "x86_64", "i386",
                             "linux(+b+a+b)/amd64", "windows(10.0.17763)/amd64/v2"}) {
        const Platform once = xarch::platform::parse(text, kAmd64Host);
        EXPECT_EQ(once.normalized(), once) << text;
    }
}

// ---- formatting ----

TEST(PlatformFormat, OsArchVariant) {
    EXPECT_EQ(Platform("linux", "arm", "v7").to_string(), "linux/arm/v7");
    EXPECT_EQ(Platform("linux", "amd64").to_string(), "linux/amd64");
    EXPECT_EQ(Platform("linux", "").to_string(), "linux");
    EXPECT_EQ(Platform().to_string(), "unknown");
    EXPECT_EQ(Platform().to_string_all(), "unknown");
    // Go's path.Join cleans the result; containerd's Format inherits it.
    EXPECT_EQ(Platform("linux", "..").to_string(), ".");
    EXPECT_EQ(Platform("linux", ".", "v7").to_string(), "linux/v7");
}

TEST(PlatformFormat, AllEncodesOptions) {
    EXPECT_EQ(Platform("windows", "amd64", "", "10.0.17763").to_string_all(),
              "windows(10.0.17763)/amd64");
    EXPECT_EQ(Platform("linux", "amd64", "", "", {"b", "a", "", "b"}).to_string_all(),
              "linux(+a+b)/amd64");
    EXPECT_EQ(Platform("linux", "arm", "v7", "1.0(beta)", {"x/y"}).to_string_all(),
              "linux(1.0%28beta%29+x%2Fy)/arm/v7");
    EXPECT_EQ(Platform("linux", "amd64", "", "", {""}).to_string_all(), "linux/amd64");
}

TEST(PlatformFormat, RoundTrips) {
    for (const char* text :
         {"linux/amd64", "linux/arm/v7", "linux/arm/v6", "linux/arm64", "linux/386",
          "windows/amd64", "darwin/arm64", "linux/riscv64", "linux/arm64/v9",
          "windows(10.0.17763+win32k)/amd64", "linux(+gpu+simd)/arm64/v8.2",
          "windows(1.0%28beta%29%2B1)/amd64", "linux(+100%25gpu)/amd64"}) {
        const Platform p = xarch::platform::parse(text, kAmd64Host);
        EXPECT_EQ(p.to_string_all(), text);
        EXPECT_EQ(xarch::platform::parse(p.to_string_all(), kAmd64Host), p) << text;
        EXPECT_EQ(xarch::platform::parse(p.to_string(), kAmd64Host).to_string(), p.to_string());
    }
}

// ---- equality and hashing ----

TEST(PlatformHash, ConsistentWithEquality) {
    const std::hash<Platform> hash;
    const Platform a = xarch::platform::parse("arm", kAmd64Host);
    const Platform b("linux", "arm", "v7");
    EXPECT_EQ(a, b);
    EXPECT_EQ(hash(a), hash(b));
    EXPECT_NE(Platform("linux", "arm"), b);
    EXPECT_NE(Platform("linux", "amd64", "", "", {"a", "b"}),
              Platform("linux", "amd64", "", "", {"b", "a"}));

    const std::vector<Platform> distinct = {Platform("linux", "amd64"),
                                            Platform("linux", "arm64"),
                                            Platform("linux", "arm", "v7"),
                                            Platform("linux", "arm", "v6"),
                                            Platform("windows", "amd64"),
                                            Platform("windows", "amd64", "", "10.0.17763"),
                                            Platform("linux", "amd64", "", "", {"gpu"}),
                                            Platform("linux", "amd64v"),
                                            Platform("linuxa", "md64"),
                                            Platform()};
    std::unordered_set<Platform> set(distinct.begin(), distinct.end());
    EXPECT_EQ(set.size(), distinct.size());
    for (const Platform& p : distinct) {
        EXPECT_EQ(set.count(Platform(p)), 1U);
    }
    set.insert(Platform("linux", "amd64"));
    EXPECT_EQ(set.size(), distinct.size());
}

}  // namespace
