// SPDX-License-Identifier: Apache-2.0
// inspect_node on this host (embedded: xarch's version, the host's native platforms, what a fake
// binfmt_misc emulates) and on an engine that is not there (status "error", the reason, the
// declared platforms still listed). A running engine is inspected in tests/cli/builders.
#include "drivers/builders/inspect.hpp"

#include "unit/emulation/fake_binfmt.hpp"

#include <xarch/emulators.hpp>
#include <xarch/version.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace xarch::drivers {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// An enabled handler for arm64 as Debian's binfmt-support registers it.
constexpr const char* kAarch64Entry =
    "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: OPF\noffset 0\n"
    "magic 7f454c460201010000000000000000000200b700\n"
    "mask ffffffffffffff00fffffffffffffffffeffffff\n";

bool runs_natively(const Platform& p) {
    for (const Platform& n : emulators::native_platforms()) {
        if (n == p) {
            return true;
        }
    }
    return false;
}

TEST(InspectNodeTest, EmbeddedNodeIsThisHost) {
    test::FakeBinfmt binfmt;
    binfmt.add_entry("qemu-aarch64", kAarch64Entry);
    InspectOptions options;
    options.emulators.binfmt_mount = binfmt.dir();
    const NodeSpec node{.name = "e0",
                        .driver = Driver::kEmbedded,
                        .endpoint = {},
                        .platforms = {Platform("linux", "riscv64")}};
    const NodeStatus status = inspect_node(node, options);
    EXPECT_TRUE(status.running());
    EXPECT_EQ(status.error, "");
    EXPECT_EQ(status.version, std::string(xarch::version()));
    const std::vector<Platform> native = emulators::native_platforms();
    ASSERT_EQ(status.native.size(), native.size() + 1);
    // Declared first, then the host's.
    EXPECT_EQ(status.native[0], Platform("linux", "riscv64"));
    EXPECT_EQ(std::vector<Platform>(status.native.begin() + 1, status.native.end()), native);
    if (runs_natively(Platform("linux", "arm64"))) {
        EXPECT_THAT(status.emulated, Not(Contains(Platform("linux", "arm64"))));
    } else {
        EXPECT_EQ(status.emulated, std::vector<Platform>{Platform("linux", "arm64")});
    }
}

TEST(InspectNodeTest, EmbeddedNodeWithoutBinfmtStillRuns) {
    test::TempDir empty;  // no `status` file: not a binfmt_misc, and it cannot be mounted there
    InspectOptions options;
    options.emulators.binfmt_mount = (empty.path() / "missing").string();
    const NodeStatus status = inspect_node(
        NodeSpec{.name = "e0", .driver = Driver::kEmbedded, .endpoint = {}, .platforms = {}},
        options);
    EXPECT_TRUE(status.running());
    EXPECT_EQ(status.native, emulators::native_platforms());
}

TEST(InspectNodeTest, MissingEngineSocketIsAnErrorStatus) {
    test::TempDir dir;
    const std::string endpoint = "unix://" + (dir.path() / "none.sock").string();
    const NodeSpec node{.name = "b10",
                        .driver = Driver::kDocker,
                        .endpoint = endpoint,
                        .platforms = {Platform("linux", "amd64"), Platform("linux", "arm64")}};
    const NodeStatus status = xarch::inspect_node(node);
    EXPECT_EQ(status.status, "error");
    EXPECT_FALSE(status.running());
    EXPECT_THAT(status.error, HasSubstr(endpoint));
    EXPECT_EQ(status.version, "");
    EXPECT_EQ(status.native, node.platforms);
    EXPECT_TRUE(status.emulated.empty());
}

TEST(InspectNodeTest, UnknownDockerContextIsAnErrorStatus) {
    test::TempDir docker_config;
    const NodeSpec node{
        .name = "n0", .driver = Driver::kDocker, .endpoint = "no-such-context", .platforms = {}};
    // DOCKER_CONFIG points at an empty folder, so the context cannot exist.
    const char* old = std::getenv("DOCKER_CONFIG");
    const std::string saved = old != nullptr ? old : "";
    ::setenv("DOCKER_CONFIG", docker_config.path().c_str(), 1);
    const NodeStatus status = xarch::inspect_node(node);
    if (old != nullptr) {
        ::setenv("DOCKER_CONFIG", saved.c_str(), 1);
    } else {
        ::unsetenv("DOCKER_CONFIG");
    }
    EXPECT_EQ(status.status, "error");
    EXPECT_THAT(status.error, HasSubstr("no-such-context"));
}

}  // namespace
}  // namespace xarch::drivers
