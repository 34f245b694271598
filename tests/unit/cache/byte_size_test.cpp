// SPDX-License-Identifier: Apache-2.0
// Byte sizes as `xarch prune --keep-storage` reads them and prints the total.
#include "cache/byte_size.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <cstdint>

namespace xarch::cache {
namespace {

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = kKiB * 1024;
constexpr std::int64_t kGiB = kMiB * 1024;

TEST(ByteSize, ParsesDockerUnitsAsPowersOf1024) {
    EXPECT_EQ(parse_byte_size("4096"), 4096);
    EXPECT_EQ(parse_byte_size("10gb"), 10 * kGiB);
    EXPECT_EQ(parse_byte_size("512MB"), 512 * kMiB);
    EXPECT_EQ(parse_byte_size("1.5GiB"), 3 * kGiB / 2);
    EXPECT_EQ(parse_byte_size("2k"), 2 * kKiB);
    EXPECT_EQ(parse_byte_size("3 m"), 3 * kMiB);
    EXPECT_EQ(parse_byte_size("1t"), 1024 * kGiB);
    EXPECT_EQ(parse_byte_size("7b"), 7);
    EXPECT_EQ(parse_byte_size("0"), 0);
}

TEST(ByteSize, RejectsWhatDockerRejectsQuotingIt) {
    for (const char* bad : {"", "gb", "-1", "1x", "1.", ".5g", "1gbb", "1  g", "ten", "1g "}) {
        try {
            parse_byte_size(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
            EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos)
                << e.what();
        }
    }
    EXPECT_THROW(parse_byte_size("99999999999p"), Error);
}

TEST(ByteSize, FormatsLikeHumanSize) {
    EXPECT_EQ(format_byte_size(0), "0B");
    EXPECT_EQ(format_byte_size(999), "999B");
    EXPECT_EQ(format_byte_size(1000), "1kB");
    EXPECT_EQ(format_byte_size(12290), "12.29kB");
    EXPECT_EQ(format_byte_size(1'200'000'000), "1.2GB");
    EXPECT_EQ(format_byte_size(512 * kMiB), "536.9MB");
}

}  // namespace
}  // namespace xarch::cache
