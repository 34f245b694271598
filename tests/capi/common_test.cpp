// SPDX-License-Identifier: Apache-2.0
// xarch_version, xarch_abi_version, xarch_features, xarch_init/shutdown and the memory functions.
#include "capi_test_util.hpp"

#include <cstring>
#include <string>

namespace xarch_capi_test {
namespace {

TEST(CapiVersion, LibraryMatchesHeaders) {
    const std::string expected = std::to_string(XARCH_VERSION_MAJOR) + "." +
                                 std::to_string(XARCH_VERSION_MINOR) + "." +
                                 std::to_string(XARCH_VERSION_PATCH);
    ASSERT_NE(xarch_version(), nullptr);
    EXPECT_EQ(std::string(xarch_version()), expected);
    EXPECT_EQ(xarch_version(), xarch_version()) << "a static string";
    EXPECT_EQ(xarch_abi_version(), 0);
}

TEST(CapiVersion, NumberAndCheckMacros) {
    EXPECT_EQ(XARCH_VERSION_NUMBER,
              XARCH_VERSION_MAJOR * 10000 + XARCH_VERSION_MINOR * 100 + XARCH_VERSION_PATCH);
    EXPECT_TRUE(XARCH_VERSION_CHECK(0, 0, 0));
    EXPECT_TRUE(XARCH_VERSION_CHECK(XARCH_VERSION_MAJOR, XARCH_VERSION_MINOR, XARCH_VERSION_PATCH));
    EXPECT_FALSE(XARCH_VERSION_CHECK(XARCH_VERSION_MAJOR, XARCH_VERSION_MINOR + 1, 0));
    EXPECT_FALSE(XARCH_VERSION_CHECK(XARCH_VERSION_MAJOR + 1, 0, 0));
}

TEST(CapiFeatures, PlatformAndEmulatorsOnLinux) {
    const uint32_t features = xarch_features();
    EXPECT_NE(features & XARCH_FEATURE_PLATFORM, 0u);
    EXPECT_NE(features & XARCH_FEATURE_REGISTRY, 0u);
    EXPECT_NE(features & XARCH_FEATURE_CONTEXT, 0u);
#if defined(__linux__)
    EXPECT_NE(features & XARCH_FEATURE_EMULATORS, 0u);
#endif
}

TEST(CapiInit, IsReferenceCounted) {
    EXPECT_EQ(xarch_init(), XARCH_OK);
    EXPECT_EQ(xarch_init(), XARCH_OK);
    EXPECT_EQ(last_code(), XARCH_OK);
    xarch_shutdown();
    PlatformPtr platform = parse("arm64");  // still usable between the calls
    EXPECT_NE(platform, nullptr);
    xarch_shutdown();
    xarch_shutdown();  // one more than the inits: a no-op
    EXPECT_EQ(xarch_init(), XARCH_OK);
    xarch_shutdown();
}

TEST(CapiMemory, DisposeAndFreeAcceptNull) {
    xarch_buf_dispose(nullptr);
    xarch_strarray_dispose(nullptr);
    xarch_free(nullptr);
    xarch_buf empty_buf = XARCH_BUF_INIT;
    xarch_buf_dispose(&empty_buf);
    xarch_strarray empty_array = XARCH_STRARRAY_INIT;
    xarch_strarray_dispose(&empty_array);
    EXPECT_EQ(empty_buf.ptr, nullptr);
    EXPECT_EQ(empty_array.strings, nullptr);
}

TEST(CapiMemory, BufDisposeResets) {
    PlatformListPtr list;
    xarch_platform_list* raw = nullptr;
    ASSERT_EQ(xarch_platform_parse_list(&raw, "arm64"), XARCH_OK);
    list.reset(raw);
    xarch_buf buf = XARCH_BUF_INIT;
    ASSERT_EQ(xarch_platform_list_format(&buf, list.get()), XARCH_OK);
    ASSERT_NE(buf.ptr, nullptr);
    EXPECT_EQ(buf.size, std::strlen(buf.ptr));
    xarch_buf_dispose(&buf);
    EXPECT_EQ(buf.ptr, nullptr);
    EXPECT_EQ(buf.size, 0u);
    xarch_buf_dispose(&buf);  // twice is fine
}

TEST(CapiMemory, TakenBufferIsReleasedWithXarchFree) {
    xarch_platform_list* raw = nullptr;
    ASSERT_EQ(xarch_platform_parse_list(&raw, "amd64,arm"), XARCH_OK);
    PlatformListPtr list(raw);
    xarch_buf buf = XARCH_BUF_INIT;
    ASSERT_EQ(xarch_platform_list_format(&buf, list.get()), XARCH_OK);
    char* taken = buf.ptr;
    buf = XARCH_BUF_INIT;
    EXPECT_STREQ(taken, "linux/amd64,linux/arm/v7");
    xarch_free(taken);
}

TEST(CapiMemory, TakenStringsAreReleasedWithXarchFree) {
    PlatformPtr platform;
    xarch_platform* raw = nullptr;
    ASSERT_EQ(xarch_platform_parse_unnormalized(&raw, "windows(10.0.17763+win32k+a)/amd64"),
              XARCH_OK)
        << last_message();
    platform.reset(raw);
    xarch_strarray features = XARCH_STRARRAY_INIT;
    ASSERT_EQ(xarch_platform_os_features(&features, platform.get()), XARCH_OK);
    ASSERT_EQ(features.count, 2u);
    for (size_t i = 0; i < features.count; ++i) {
        xarch_free(features.strings[i]);
    }
    xarch_free(features.strings);
}

}  // namespace
}  // namespace xarch_capi_test
