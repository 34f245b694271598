// SPDX-License-Identifier: Apache-2.0
// route_platforms: declared before native before emulated, nodes that are down skipped, wanted
// order kept, platforms compared normalized, and the error when no node builds a platform.
#include "drivers/builders/routing.hpp"

#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xarch::drivers {
namespace {

using ::testing::HasSubstr;

std::vector<Platform> platforms(std::initializer_list<const char*> names) {
    std::vector<Platform> out;
    for (const char* n : names) {
        out.push_back(Platform::parse(n));
    }
    return out;
}

NodeSpec node(std::string name, std::initializer_list<const char*> declared = {}) {
    return NodeSpec{.name = std::move(name),
                    .driver = Driver::kDocker,
                    .endpoint = {},
                    .platforms = platforms(declared)};
}

NodeStatus running(std::vector<Platform> native, std::vector<Platform> emulated = {}) {
    NodeStatus s;
    s.status = "running";
    s.version = "20.10.24+dfsg1";
    s.native = std::move(native);
    s.emulated = std::move(emulated);
    return s;
}

NodeStatus down(std::string why, std::vector<Platform> declared = {}) {
    NodeStatus s;
    s.status = "error";
    s.error = std::move(why);
    s.native = std::move(declared);
    return s;
}

TEST(RoutePlatformsTest, NativeBeatsAnEarlierEmulatingNode) {
    const BuilderSpec b{.name = "b", .nodes = {node("b0"), node("b1")}};
    const auto routes =
        route_platforms(b,
                        {running(platforms({"amd64", "386"}), platforms({"arm64", "arm"})),
                         running(platforms({"arm64", "arm"}))},
                        platforms({"amd64", "arm64", "arm"}));
    ASSERT_EQ(routes.size(), 3u);
    EXPECT_EQ(routes[0].platform, Platform("linux", "amd64"));
    EXPECT_EQ(routes[0].node, 0u);
    EXPECT_FALSE(routes[0].emulated);
    EXPECT_EQ(routes[1].platform, Platform("linux", "arm64"));
    EXPECT_EQ(routes[1].node, 1u);
    EXPECT_FALSE(routes[1].emulated);
    EXPECT_EQ(routes[2].platform, Platform("linux", "arm", "v7"));
    EXPECT_EQ(routes[2].node, 1u);
    EXPECT_FALSE(routes[2].emulated);
}

TEST(RoutePlatformsTest, DeclaredBeatsAnEarlierNativeNode) {
    // Both run amd64 natively; the second was created with --platform linux/amd64.
    const BuilderSpec b{.name = "b", .nodes = {node("b0"), node("b1", {"linux/amd64"})}};
    const auto routes = route_platforms(
        b, {running(platforms({"amd64", "386"})), running(platforms({"amd64", "386"}))},
        platforms({"386", "amd64"}));
    ASSERT_EQ(routes.size(), 2u);
    EXPECT_EQ(routes[0].platform, Platform("linux", "386"));
    EXPECT_EQ(routes[0].node, 0u);
    EXPECT_EQ(routes[1].platform, Platform("linux", "amd64"));
    EXPECT_EQ(routes[1].node, 1u);
    EXPECT_FALSE(routes[1].emulated);
}

TEST(RoutePlatformsTest, EmulatedWhenNoNodeRunsItNatively) {
    const BuilderSpec b{.name = "b", .nodes = {node("b0"), node("b1")}};
    const auto routes = route_platforms(
        b, {running(platforms({"amd64"})), running(platforms({"amd64"}), platforms({"riscv64"}))},
        platforms({"riscv64"}));
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0].node, 1u);
    EXPECT_TRUE(routes[0].emulated);
}

TEST(RoutePlatformsTest, NodesThatAreDownAreSkipped) {
    // b0 declares arm64 but cannot be reached: b1 emulates it.
    const BuilderSpec b{.name = "b", .nodes = {node("b0", {"arm64"}), node("b1")}};
    const auto routes = route_platforms(b,
                                        {down("cannot connect", platforms({"arm64"})),
                                         running(platforms({"amd64"}), platforms({"arm64"}))},
                                        platforms({"linux/arm64"}));
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0].node, 1u);
    EXPECT_TRUE(routes[0].emulated);
}

TEST(RoutePlatformsTest, PlatformsCompareNormalized) {
    // "linux/arm" unnormalized is linux/arm/v7; "linux/arm64/v8" is linux/arm64.
    const BuilderSpec b{.name = "b", .nodes = {node("b0")}};
    const auto routes = route_platforms(b, {running(platforms({"arm64", "arm"}))},
                                        {Platform::parse_unnormalized("linux/arm"),
                                         Platform::parse_unnormalized("linux/arm64/v8")});
    ASSERT_EQ(routes.size(), 2u);
    EXPECT_EQ(routes[0].platform, Platform("linux", "arm", "v7"));
    EXPECT_EQ(routes[1].platform, Platform("linux", "arm64"));
    EXPECT_EQ(routes[1].node, 0u);
}

TEST(RoutePlatformsTest, NoNodeForAPlatformNamesEveryNode) {
    const BuilderSpec b{.name = "b", .nodes = {node("b0"), node("b1")}};
    try {
        route_platforms(b,
                        {running(platforms({"amd64", "386"}), platforms({"arm64"})),
                         down("cannot connect to the Docker Engine at unix:///x.sock")},
                        platforms({"amd64", "s390x"}));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
        const std::string what = e.what();
        EXPECT_THAT(what, HasSubstr("no node of builder \"b\" builds linux/s390x"));
        EXPECT_THAT(what, HasSubstr("b0 (running): linux/amd64, linux/386, emulated: linux/arm64"));
        EXPECT_THAT(what,
                    HasSubstr("b1 (error: cannot connect to the Docker Engine at unix:///x.sock)"));
        EXPECT_THAT(what, HasSubstr("xarch create --append --name b"));
        EXPECT_THAT(what, HasSubstr("xarch emulators install linux/s390x"));
    }
}

TEST(RoutePlatformsTest, StatusesMustMatchTheNodes) {
    const BuilderSpec b{.name = "b", .nodes = {node("b0"), node("b1")}};
    try {
        route_platforms(b, {running(platforms({"amd64"}))}, platforms({"amd64"}));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    }
}

}  // namespace
}  // namespace xarch::drivers
