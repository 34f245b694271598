// SPDX-License-Identifier: Apache-2.0
// xarch_error_last and xarch_error_code_name: codes, messages, clearing, NULL arguments, threads.
#include "capi_test_util.hpp"

#include <string>
#include <thread>

namespace xarch_capi_test {
namespace {

using ::testing::HasSubstr;

TEST(CapiError, CodesHaveFixedValues) {
    EXPECT_EQ(XARCH_OK, 0);
    EXPECT_EQ(XARCH_EINVAL, -1);
    EXPECT_EQ(XARCH_ENOTFOUND, -2);
    EXPECT_EQ(XARCH_EPERM, -3);
    EXPECT_EQ(XARCH_EUNSUPPORTED, -4);
    EXPECT_EQ(XARCH_EIO, -5);
    EXPECT_EQ(XARCH_EEXIST, -6);
    EXPECT_EQ(XARCH_ECANCELLED, -7);
    EXPECT_EQ(XARCH_EINTERNAL, -8);
    EXPECT_EQ(XARCH_ENOMEM, -9);
    EXPECT_EQ(XARCH_EUSER, -10);
    EXPECT_EQ(XARCH_EBUILD, -15);
}

TEST(CapiError, CodeNames) {
    EXPECT_STREQ(xarch_error_code_name(XARCH_OK), "XARCH_OK");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EINVAL), "XARCH_EINVAL");
    EXPECT_STREQ(xarch_error_code_name(XARCH_ENOTFOUND), "XARCH_ENOTFOUND");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EPERM), "XARCH_EPERM");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EUNSUPPORTED), "XARCH_EUNSUPPORTED");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EIO), "XARCH_EIO");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EEXIST), "XARCH_EEXIST");
    EXPECT_STREQ(xarch_error_code_name(XARCH_ECANCELLED), "XARCH_ECANCELLED");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EINTERNAL), "XARCH_EINTERNAL");
    EXPECT_STREQ(xarch_error_code_name(XARCH_ENOMEM), "XARCH_ENOMEM");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EUSER), "XARCH_EUSER");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EBUILD), "XARCH_EBUILD");
    EXPECT_STREQ(xarch_error_code_name(-1000), "XARCH_E?");
    EXPECT_STREQ(xarch_error_code_name(7), "XARCH_E?");
}

TEST(CapiError, NeverNullAndEmptyOnAFreshThread) {
    std::thread([] {
        const xarch_error* error = xarch_error_last();
        ASSERT_NE(error, nullptr);
        EXPECT_EQ(error->code, XARCH_OK);
        ASSERT_NE(error->message, nullptr);
        ASSERT_NE(error->class_name, nullptr);
        EXPECT_STREQ(error->message, "");
        EXPECT_STREQ(error->class_name, "");
    }).join();
}

TEST(CapiError, BadPlatformIsEinvalQuotingTheInput) {
    xarch_platform* platform = reinterpret_cast<xarch_platform*>(0x1);  // must be reset to NULL
    EXPECT_EQ(xarch_platform_parse(&platform, "linux/arm/v7/x"), XARCH_EINVAL);
    EXPECT_EQ(platform, nullptr);
    const xarch_error* error = xarch_error_last();
    EXPECT_EQ(error->code, XARCH_EINVAL);
    EXPECT_THAT(std::string(error->message), HasSubstr("\"linux/arm/v7/x\""));
    EXPECT_STREQ(error->class_name, "xarch::Error");
}

TEST(CapiError, SuccessClearsTheError) {
    xarch_platform* platform = nullptr;
    ASSERT_EQ(xarch_platform_parse(&platform, "not a platform"), XARCH_EINVAL);
    ASSERT_EQ(last_code(), XARCH_EINVAL);
    ASSERT_EQ(xarch_platform_parse(&platform, "arm"), XARCH_OK);
    PlatformPtr owner(platform);
    EXPECT_EQ(last_code(), XARCH_OK);
    EXPECT_EQ(last_message(), "");
    EXPECT_EQ(last_class(), "");
}

TEST(CapiError, GettersAndFreeKeepTheError) {
    PlatformPtr arm = parse("arm");
    xarch_platform* bad = nullptr;
    ASSERT_EQ(xarch_platform_parse(&bad, "bad/"), XARCH_EINVAL);
    const std::string message = last_message();
    EXPECT_STREQ(xarch_platform_to_string(arm.get()), "linux/arm/v7");
    xarch_platform_free(nullptr);
    arm.reset();
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    EXPECT_EQ(last_message(), message);
}

TEST(CapiError, NullArgumentsAreEinvalNotACrash) {
    EXPECT_EQ(xarch_platform_parse(nullptr, "arm"), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("'out'"));
    xarch_platform* platform = nullptr;
    EXPECT_EQ(xarch_platform_parse(&platform, nullptr), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("'text'"));
    EXPECT_EQ(last_class(), "xarch::Error");
    EXPECT_EQ(platform, nullptr);
}

TEST(CapiError, GetterOnNullHandleSetsEinval) {
    PlatformPtr ok = parse("arm64");  // clears the error
    EXPECT_EQ(xarch_platform_os(nullptr), nullptr);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("'platform'"));
}

TEST(CapiError, IsThreadLocal) {
    // Each thread fails with its own input and must see its own message, whatever the others do.
    auto worker = [](const char* input, std::string* seen, int* code) {
        for (int i = 0; i < 200; ++i) {
            xarch_platform* platform = nullptr;
            *code = xarch_platform_parse(&platform, input);
            *seen = xarch_error_last()->message;
            if (seen->find(input) == std::string::npos) {
                return;
            }
            PlatformPtr ok = parse("amd64");  // clears, then fail again next round
        }
        xarch_platform* platform = nullptr;
        *code = xarch_platform_parse(&platform, input);
        *seen = xarch_error_last()->message;
    };
    std::string seen_a;
    std::string seen_b;
    int code_a = 0;
    int code_b = 0;
    std::thread a(worker, "thread-a/x/y/z", &seen_a, &code_a);
    std::thread b(worker, "thread-b//", &seen_b, &code_b);
    a.join();
    b.join();
    EXPECT_EQ(code_a, XARCH_EINVAL);
    EXPECT_EQ(code_b, XARCH_EINVAL);
    EXPECT_THAT(seen_a, HasSubstr("thread-a/x/y/z"));
    EXPECT_THAT(seen_b, HasSubstr("thread-b//"));
    EXPECT_EQ(seen_a.find("thread-b"), std::string::npos);
    EXPECT_EQ(seen_b.find("thread-a"), std::string::npos);

    // This thread's state is untouched by theirs.
    PlatformPtr ok = parse("arm64");
    EXPECT_EQ(last_code(), XARCH_OK);
}

}  // namespace
}  // namespace xarch_capi_test
