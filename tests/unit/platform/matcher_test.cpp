// SPDX-License-Identifier: Apache-2.0
// PlatformMatcher: which platforms a host runs, in which order, and best().
#include "platform/internal.hpp"

#include <xarch/platform.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using xarch::Platform;
using xarch::PlatformMatcher;

Platform p(const char* text) {
    return xarch::platform::parse_unnormalized(text, Platform("linux", "amd64"));
}

std::vector<Platform> ps(std::initializer_list<const char*> texts) {
    std::vector<Platform> out;
    for (const char* text : texts) {
        out.push_back(p(text));
    }
    return out;
}

std::vector<std::string> sorted(std::vector<Platform> platforms, const PlatformMatcher& m) {
    std::stable_sort(platforms.begin(), platforms.end(),
                     [&](const Platform& a, const Platform& b) { return m.less(a, b); });
    std::vector<std::string> out;
    for (const Platform& platform : platforms) {
        out.push_back(platform.to_string_all());
    }
    return out;
}

using Strings = std::vector<std::string>;

TEST(PlatformMatcherOnly, Amd64RunsLowerLevelsAnd386) {
    const PlatformMatcher m = PlatformMatcher::only(p("linux/amd64/v3"));
    for (const char* yes : {"linux/amd64", "linux/amd64/v1", "linux/amd64/v2", "linux/amd64/v3",
                            "linux/386", "linux/x86_64", "linux/i386"}) {
        EXPECT_TRUE(m.match(p(yes))) << yes;
    }
    for (const char* no : {"linux/amd64/v4", "linux/arm64", "windows/amd64", "linux/386/v1"}) {
        EXPECT_FALSE(m.match(p(no))) << no;
    }
    EXPECT_EQ(sorted(ps({"linux/386", "linux/amd64", "linux/amd64/v3", "linux/amd64/v2"}), m),
              (Strings{"linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"}));
}

TEST(PlatformMatcherOnly, ArmRunsDownToV5) {
    const PlatformMatcher m = PlatformMatcher::only(p("linux/arm/v7"));
    for (const char* yes : {"linux/arm", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5",
                            "linux/armhf", "linux/armel"}) {
        EXPECT_TRUE(m.match(p(yes))) << yes;
    }
    for (const char* no : {"linux/arm/v8", "linux/arm/v4", "linux/arm64"}) {
        EXPECT_FALSE(m.match(p(no))) << no;
    }
}

TEST(PlatformMatcherOnly, Arm64RunsArm) {
    const PlatformMatcher m = PlatformMatcher::only(p("linux/arm64"));
    EXPECT_EQ(
        sorted(
            ps({"linux/arm/v5", "linux/arm/v7", "linux/amd64", "linux/arm64/v8", "linux/arm/v8"}),
            m),
        (Strings{"linux/arm64/v8", "linux/arm/v8", "linux/arm/v7", "linux/arm/v5", "linux/amd64"}));
}

TEST(PlatformMatcherOnly, Arm64V9RunsV8UpToFiveMinorsMore) {
    const PlatformMatcher m = PlatformMatcher::only(p("linux/arm64/v9.2"));
    for (const char* yes : {"linux/arm64/v9.2", "linux/arm64/v9.1", "linux/arm64/v9",
                            "linux/arm64/v8.7", "linux/arm64/v8", "linux/arm64", "linux/arm/v8"}) {
        EXPECT_TRUE(m.match(p(yes))) << yes;
    }
    for (const char* no : {"linux/arm64/v9.3", "linux/arm64/v8.8", "linux/arm/v9"}) {
        EXPECT_FALSE(m.match(p(no))) << no;
    }
}

TEST(PlatformMatcherOnly, UnknownArm64VariantRunsNothing) {
    // containerd: an arm64 variant it has no table entry for yields an empty list.
    const PlatformMatcher m = PlatformMatcher::only(Platform("linux", "arm64", "v10"));
    EXPECT_FALSE(m.match(Platform("linux", "arm64", "v10")));
    EXPECT_FALSE(m.match(Platform("linux", "arm64")));
}

TEST(PlatformMatcherOnly, AbsurdLevelsStayCheap) {
    // containerd would list every level below v9999999999; we take it as an unknown level.
    const PlatformMatcher m = PlatformMatcher::only(Platform("linux", "amd64", "v9999999999"));
    EXPECT_TRUE(m.match(Platform("linux", "amd64", "v9999999999")));
    EXPECT_TRUE(m.match(Platform("linux", "386")));
    EXPECT_FALSE(m.match(Platform("linux", "amd64", "v2")));
    EXPECT_TRUE(PlatformMatcher::only(Platform("linux", "arm", "v64")).match(p("linux/arm/v5")));
}

TEST(PlatformMatcherOnlyStrict, NoSubPlatformsButAllSpellings) {
    const PlatformMatcher m = PlatformMatcher::only_strict(p("linux/arm64"));
    EXPECT_TRUE(m.match(p("linux/aarch64")));
    EXPECT_TRUE(m.match(p("linux/arm64/v8")));
    EXPECT_FALSE(m.match(p("linux/arm/v7")));
    EXPECT_FALSE(PlatformMatcher::only_strict(p("linux/amd64")).match(p("linux/386")));
}

TEST(PlatformMatcherOrdered, ListOrderWins) {
    const PlatformMatcher m = PlatformMatcher::ordered(ps({"linux/arm64", "linux/amd64"}));
    EXPECT_TRUE(m.less(p("linux/arm64"), p("linux/amd64")));
    EXPECT_FALSE(m.less(p("linux/amd64"), p("linux/arm64")));
    EXPECT_TRUE(m.less(p("linux/amd64"), p("linux/s390x")));
    EXPECT_FALSE(m.match(p("linux/386")));
    EXPECT_EQ(sorted(ps({"linux/s390x", "linux/amd64", "linux/arm64"}), m),
              (Strings{"linux/arm64", "linux/amd64", "linux/s390x"}));
}

TEST(PlatformMatcherAny, MatchesWithoutPreference) {
    const PlatformMatcher m = PlatformMatcher::any(ps({"linux/arm64", "linux/amd64"}));
    EXPECT_TRUE(m.match(p("linux/amd64")));
    EXPECT_FALSE(m.less(p("linux/arm64"), p("linux/amd64")));
    EXPECT_FALSE(m.less(p("linux/amd64"), p("linux/arm64")));
    EXPECT_TRUE(m.less(p("linux/amd64"), p("linux/s390x")));
}

TEST(PlatformMatcherFeatures, SubsetMatchesAndMoreFeaturesWin) {
    const PlatformMatcher m = PlatformMatcher::only(p("linux(+gpu+simd)/amd64"));
    EXPECT_TRUE(m.match(p("linux(+simd)/amd64")));
    EXPECT_TRUE(m.match(p("linux(+simd+gpu)/amd64")));
    EXPECT_FALSE(m.match(p("linux(+tpu)/amd64")));
    EXPECT_EQ(sorted(ps({"linux/amd64", "linux(+gpu)/amd64", "linux(+gpu+simd)/amd64"}), m),
              (Strings{"linux(+gpu+simd)/amd64", "linux(+gpu)/amd64", "linux/amd64"}));
}

TEST(PlatformMatcherOnlyOs, AnyArchitectureOwnFirst) {
    const PlatformMatcher m = PlatformMatcher::only_os(p("linux/arm64"));
    EXPECT_TRUE(m.match(p("linux/s390x")));
    EXPECT_FALSE(m.match(p("windows/arm64")));
    EXPECT_EQ(sorted(ps({"windows/arm64", "linux/amd64", "linux/arm64"}), m),
              (Strings{"linux/arm64", "linux/amd64", "windows/arm64"}));
}

TEST(PlatformMatcherWindows, OsVersionMajorMinorBuild) {
    const PlatformMatcher ltsc2019 = PlatformMatcher::only(p("windows(10.0.17763)/amd64"));
    EXPECT_TRUE(ltsc2019.match(p("windows(10.0.17763.1234)/amd64")));
    EXPECT_TRUE(ltsc2019.match(p("windows/amd64")));
    EXPECT_FALSE(ltsc2019.match(p("windows(10.0.20348)/amd64")));
    EXPECT_FALSE(ltsc2019.match(p("windows(6.3.17763)/amd64")));
    // From Windows Server 2022 on, a host also runs the previous LTSC up to itself.
    const PlatformMatcher ws2025 = PlatformMatcher::only(p("windows(10.0.26100)/amd64"));
    EXPECT_TRUE(ws2025.match(p("windows(10.0.20348)/amd64")));
    EXPECT_TRUE(ws2025.match(p("windows(10.0.26100)/amd64")));
    EXPECT_FALSE(ws2025.match(p("windows(10.0.17763)/amd64")));
    const PlatformMatcher v23h2 = PlatformMatcher::only(p("windows(10.0.25398)/amd64"));
    EXPECT_TRUE(v23h2.match(p("windows(10.0.20348)/amd64")));
    EXPECT_FALSE(v23h2.match(p("windows(10.0.26100)/amd64")));
    // An unparsable host version matches any.
    EXPECT_TRUE(PlatformMatcher::only(p("windows(99.x)/amd64")).match(p("windows(1.2.3)/amd64")));
}

TEST(PlatformMatcherWindows, Win32kIsIgnored) {
    const PlatformMatcher m = PlatformMatcher::only(p("windows(10.0.17763)/amd64"));
    EXPECT_TRUE(m.match(p("windows(10.0.17763+win32k)/amd64")));
    EXPECT_FALSE(m.match(p("windows(10.0.17763+win32k+gpu)/amd64")));
    EXPECT_FALSE(PlatformMatcher::only(p("linux/amd64")).match(p("linux(+win32k)/amd64")));
}

TEST(PlatformMatcherForHost, WindowsPrefersNewerVersions) {
    const PlatformMatcher m = PlatformMatcher::for_host(p("windows(10.0.17763.1)/amd64"));
    EXPECT_EQ(
        sorted(ps({"windows(10.0.17764.1)/amd64", "windows/amd64", "windows(10.0.17763.5)/amd64"}),
               m),
        (Strings{"windows(10.0.17763.5)/amd64", "windows/amd64", "windows(10.0.17764.1)/amd64"}));
    EXPECT_FALSE(m.match(p("windows/386")));
    // Elsewhere it is only().
    EXPECT_TRUE(PlatformMatcher::for_host(p("linux/amd64")).match(p("linux/386")));
}

TEST(PlatformMatcherBest, PicksTheMostPreferredMatch) {
    const std::vector<Platform> index =
        ps({"linux/s390x", "linux/386", "linux/arm/v7", "linux/amd64/v2", "linux/amd64"});
    EXPECT_EQ(PlatformMatcher::only(p("linux/amd64")).best(index), 4U);
    EXPECT_EQ(PlatformMatcher::only(p("linux/amd64/v3")).best(index), 3U);
    EXPECT_EQ(PlatformMatcher::only(p("linux/arm64")).best(index), 2U);
    EXPECT_EQ(PlatformMatcher::only(p("linux/riscv64")).best(index), std::nullopt);
    EXPECT_EQ(PlatformMatcher::only(p("linux/amd64")).best({}), std::nullopt);
    // Equally good candidates: the first wins.
    EXPECT_EQ(PlatformMatcher::any(ps({"linux/386", "linux/arm/v7"})).best(index), 1U);
    const std::vector<Platform> twins = ps({"linux/arm64", "linux/aarch64"});
    EXPECT_EQ(PlatformMatcher::only(p("linux/arm64")).best(twins), 0U);
}

TEST(PlatformMatcherValue, CopiesShareBehaviour) {
    const PlatformMatcher a = PlatformMatcher::only(p("linux/amd64"));
    PlatformMatcher b = a;
    EXPECT_TRUE(b.match(p("linux/386")));
    b = PlatformMatcher::only_strict(p("linux/arm64"));
    EXPECT_FALSE(b.match(p("linux/386")));
    EXPECT_TRUE(a.match(p("linux/386")));
    PlatformMatcher moved = std::move(b);
    EXPECT_TRUE(moved.match(p("linux/arm64")));
}

}  // namespace
