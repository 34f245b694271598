// SPDX-License-Identifier: Apache-2.0
#include "emulation/spec.hpp"

#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xarch::emulation {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> names(std::string_view spec) {
    std::vector<std::string> out;
    for (const auto* emulator : resolve_spec(spec)) {
        out.push_back(emulator->handler_name());
    }
    return out;
}

Error error_of(std::string_view spec) {
    try {
        resolve_spec(spec);
    } catch (const Error& e) {
        return e;
    }
    return Error(ErrorCode::kInternal, "no error for '" + std::string(spec) + "'");
}

TEST(EmulationSpec, RecognizesAll) {
    EXPECT_TRUE(is_all("all"));
    EXPECT_TRUE(is_all(" ALL "));
    EXPECT_FALSE(is_all("all,arm64"));
    EXPECT_FALSE(is_all("al"));
    EXPECT_FALSE(is_all(""));
}

TEST(EmulationSpec, ResolvesPlatformsAndEmulatorNamesInOrder) {
    EXPECT_EQ(names("arm64,arm,linux/riscv64"),
              (std::vector<std::string>{"qemu-aarch64", "qemu-arm", "qemu-riscv64"}));
    EXPECT_EQ(names("qemu-s390x, ppc64le ,mips64el,linux/mips64,loong64"),
              (std::vector<std::string>{"qemu-s390x", "qemu-ppc64le", "qemu-mips64el",
                                        "qemu-mips64", "qemu-loongarch64"}));
    EXPECT_EQ(names("x86_64,386"), (std::vector<std::string>{"qemu-x86_64", "qemu-i386"}));
}

TEST(EmulationSpec, DropsDuplicates) {
    EXPECT_EQ(names("qemu-aarch64,aarch64,arm64,linux/arm64/v8"),
              (std::vector<std::string>{"qemu-aarch64"}));
    EXPECT_EQ(names("arm,arm/v6,linux/arm/v7"), (std::vector<std::string>{"qemu-arm"}));
}

TEST(EmulationSpec, RejectsUnknownItemsQuotingThemAndListingTheKnownOnes) {
    const auto e = error_of("arm64,sparc64");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("\"sparc64\""));
    EXPECT_THAT(e.what(), HasSubstr("\"arm64,sparc64\""));
    EXPECT_THAT(e.what(), HasSubstr("linux/arm/v7"));
    EXPECT_THAT(e.what(), HasSubstr("qemu-aarch64"));

    EXPECT_THAT(error_of("qemu-nope").what(), HasSubstr("\"qemu-nope\""));
    EXPECT_THAT(error_of("not a/platform/at/all").what(), HasSubstr("\"not a/platform/at/all\""));
    EXPECT_THAT(error_of("windows/amd64").what(), HasSubstr("Linux programs only"));
}

TEST(EmulationSpec, RejectsEmptyLists) {
    for (const auto* spec : {"", " ", "arm64,,arm", "arm64,", ",arm64"}) {
        const auto e = error_of(spec);
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << spec;
        EXPECT_THAT(e.what(), HasSubstr("\"" + std::string(spec) + "\""));
    }
}

}  // namespace
}  // namespace xarch::emulation
