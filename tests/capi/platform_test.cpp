// SPDX-License-Identifier: Apache-2.0
// xarch_platform, xarch_platform_list and xarch_platform_matcher.
#include "capi_test_util.hpp"

#include <string>
#include <thread>
#include <vector>

namespace xarch_capi_test {
namespace {

using ::testing::HasSubstr;

PlatformPtr make(const char* os, const char* arch, const char* variant) {
    xarch_platform* platform = nullptr;
    EXPECT_EQ(xarch_platform_new(&platform, os, arch, variant), XARCH_OK) << last_message();
    return PlatformPtr(platform);
}

PlatformListPtr parse_list(const char* text) {
    xarch_platform_list* list = nullptr;
    EXPECT_EQ(xarch_platform_parse_list(&list, text), XARCH_OK) << text << ": " << last_message();
    return PlatformListPtr(list);
}

// ---- parse and fields ----

TEST(CapiPlatform, ParseNormalizesLikeBuildx) {
    struct Case {
        const char* text;
        const char* expected;
    };
    for (const Case& c : {Case{"arm", "linux/arm/v7"}, Case{"arm64", "linux/arm64"},
                          Case{"arm64/v8", "linux/arm64"}, Case{"x86_64", "linux/amd64"},
                          Case{"linux/amd64", "linux/amd64"}, Case{"linux/arm/v6", "linux/arm/v6"},
                          Case{"aarch64", "linux/arm64"}}) {
        PlatformPtr platform = parse(c.text);
        ASSERT_NE(platform, nullptr);
        EXPECT_STREQ(xarch_platform_to_string(platform.get()), c.expected) << c.text;
        EXPECT_EQ(last_code(), XARCH_OK);
    }
}

TEST(CapiPlatform, Fields) {
    PlatformPtr arm = parse("arm");
    EXPECT_STREQ(xarch_platform_os(arm.get()), "linux");
    EXPECT_STREQ(xarch_platform_architecture(arm.get()), "arm");
    EXPECT_STREQ(xarch_platform_variant(arm.get()), "v7");
    EXPECT_STREQ(xarch_platform_os_version(arm.get()), "");
    PlatformPtr amd64 = parse("amd64");
    EXPECT_STREQ(xarch_platform_variant(amd64.get()), "") << "absent is empty, not NULL";
}

TEST(CapiPlatform, ParseLocalIsTheHost) {
    PlatformPtr local = parse("LOCAL");
    xarch_platform* host = nullptr;
    ASSERT_EQ(xarch_platform_host(&host), XARCH_OK) << last_message();
    PlatformPtr host_owner(host);
    EXPECT_EQ(xarch_platform_equal(local.get(), host), 1);
    EXPECT_STREQ(xarch_platform_os(host), "linux");
    EXPECT_STRNE(xarch_platform_architecture(host), "");
#if defined(__x86_64__)
    EXPECT_STREQ(xarch_platform_to_string(host), "linux/amd64");
#elif defined(__aarch64__)
    EXPECT_STREQ(xarch_platform_to_string(host), "linux/arm64");
#endif
}

TEST(CapiPlatform, ParseUnnormalizedKeepsTheSpelling) {
    xarch_platform* platform = nullptr;
    ASSERT_EQ(xarch_platform_parse_unnormalized(&platform, "linux/arm"), XARCH_OK);
    PlatformPtr arm(platform);
    EXPECT_STREQ(xarch_platform_to_string(arm.get()), "linux/arm");
    EXPECT_STREQ(xarch_platform_variant(arm.get()), "");

    xarch_platform* normalized = nullptr;
    ASSERT_EQ(xarch_platform_normalize(&normalized, arm.get()), XARCH_OK);
    PlatformPtr normal(normalized);
    EXPECT_STREQ(xarch_platform_to_string(normal.get()), "linux/arm/v7");
    EXPECT_STREQ(xarch_platform_to_string(arm.get()), "linux/arm") << "the input is unchanged";
}

TEST(CapiPlatform, ParseErrors) {
    for (const char* bad : {"", "linux/arm/v7/extra", "linux//arm", "bad platform", "/arm"}) {
        xarch_platform* platform = nullptr;
        EXPECT_EQ(xarch_platform_parse(&platform, bad), XARCH_EINVAL) << bad;
        EXPECT_EQ(platform, nullptr);
        EXPECT_EQ(last_code(), XARCH_EINVAL);
        EXPECT_THAT(last_message(), HasSubstr("\"" + std::string(bad) + "\"")) << bad;
        EXPECT_EQ(xarch_platform_parse_unnormalized(&platform, bad), XARCH_EINVAL) << bad;
        EXPECT_EQ(platform, nullptr);
    }
    EXPECT_EQ(xarch_platform_parse_unnormalized(nullptr, "arm"), XARCH_EINVAL);
    xarch_platform* platform = nullptr;
    EXPECT_EQ(xarch_platform_parse_unnormalized(&platform, nullptr), XARCH_EINVAL);
}

TEST(CapiPlatform, NewStoresFieldsAsGiven) {
    PlatformPtr p = make("linux", "aarch64", nullptr);
    EXPECT_STREQ(xarch_platform_to_string(p.get()), "linux/aarch64");
    EXPECT_STREQ(xarch_platform_variant(p.get()), "");
    PlatformPtr v = make("linux", "arm", "v6");
    EXPECT_STREQ(xarch_platform_to_string(v.get()), "linux/arm/v6");

    xarch_platform* normalized = nullptr;
    ASSERT_EQ(xarch_platform_normalize(&normalized, p.get()), XARCH_OK);
    PlatformPtr n(normalized);
    EXPECT_STREQ(xarch_platform_to_string(n.get()), "linux/arm64");
}

TEST(CapiPlatform, NewErrors) {
    xarch_platform* platform = nullptr;
    EXPECT_EQ(xarch_platform_new(nullptr, "linux", "arm", nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_new(&platform, nullptr, "arm", nullptr), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("'os'"));
    EXPECT_EQ(xarch_platform_new(&platform, "linux", nullptr, nullptr), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("'architecture'"));
    EXPECT_EQ(xarch_platform_new(&platform, "", "arm", nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_new(&platform, "linux", "", nullptr), XARCH_EINVAL);
    EXPECT_EQ(platform, nullptr);
}

TEST(CapiPlatform, HostAndNormalizeAndCloneNullArguments) {
    EXPECT_EQ(xarch_platform_host(nullptr), XARCH_EINVAL);
    PlatformPtr arm = parse("arm");
    xarch_platform* out = nullptr;
    EXPECT_EQ(xarch_platform_normalize(nullptr, arm.get()), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_normalize(&out, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_clone(nullptr, arm.get()), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_clone(&out, nullptr), XARCH_EINVAL);
    EXPECT_EQ(out, nullptr);
}

TEST(CapiPlatform, CloneIsIndependent) {
    PlatformPtr original = parse("linux/arm64");
    xarch_platform* copy = nullptr;
    ASSERT_EQ(xarch_platform_clone(&copy, original.get()), XARCH_OK);
    PlatformPtr clone(copy);
    EXPECT_NE(clone.get(), original.get());
    EXPECT_EQ(xarch_platform_equal(clone.get(), original.get()), 1);
    EXPECT_EQ(xarch_platform_hash(clone.get()), xarch_platform_hash(original.get()));
    original.reset();
    EXPECT_STREQ(xarch_platform_to_string(clone.get()), "linux/arm64");
}

TEST(CapiPlatform, FreeNullIsANoOp) {
    xarch_platform_free(nullptr);
    xarch_platform_list_free(nullptr);
    xarch_platform_matcher_free(nullptr);
}

TEST(CapiPlatform, GettersOnNull) {
    EXPECT_EQ(xarch_platform_os(nullptr), nullptr);
    EXPECT_EQ(xarch_platform_architecture(nullptr), nullptr);
    EXPECT_EQ(xarch_platform_variant(nullptr), nullptr);
    EXPECT_EQ(xarch_platform_os_version(nullptr), nullptr);
    EXPECT_EQ(xarch_platform_to_string(nullptr), nullptr);
    EXPECT_EQ(xarch_platform_to_string_all(nullptr), nullptr);
    EXPECT_EQ(xarch_platform_hash(nullptr), 0u);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
}

TEST(CapiPlatform, OsVersionFeaturesAndToStringAll) {
    xarch_platform* raw = nullptr;
    ASSERT_EQ(xarch_platform_parse_unnormalized(&raw, "windows(10.0.17763+win32k)/amd64"), XARCH_OK)
        << last_message();
    PlatformPtr windows(raw);
    EXPECT_STREQ(xarch_platform_os(windows.get()), "windows");
    EXPECT_STREQ(xarch_platform_os_version(windows.get()), "10.0.17763");
    EXPECT_STREQ(xarch_platform_to_string(windows.get()), "windows/amd64");
    EXPECT_STREQ(xarch_platform_to_string_all(windows.get()), "windows(10.0.17763+win32k)/amd64");

    xarch_strarray features = XARCH_STRARRAY_INIT;
    ASSERT_EQ(xarch_platform_os_features(&features, windows.get()), XARCH_OK);
    ASSERT_EQ(features.count, 1u);
    EXPECT_STREQ(features.strings[0], "win32k");
    xarch_strarray_dispose(&features);
    EXPECT_EQ(features.strings, nullptr);
    EXPECT_EQ(features.count, 0u);

    PlatformPtr linux_arm = parse("arm");
    EXPECT_STREQ(xarch_platform_to_string_all(linux_arm.get()), "linux/arm/v7");
    ASSERT_EQ(xarch_platform_os_features(&features, linux_arm.get()), XARCH_OK);
    EXPECT_EQ(features.count, 0u);
    EXPECT_EQ(features.strings, nullptr);
    xarch_strarray_dispose(&features);

    EXPECT_EQ(xarch_platform_os_features(nullptr, linux_arm.get()), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_os_features(&features, nullptr), XARCH_EINVAL);
    EXPECT_EQ(features.count, 0u);
}

TEST(CapiPlatform, EqualAndHash) {
    PlatformPtr a = parse("arm");
    PlatformPtr b = parse("linux/arm/v7");
    PlatformPtr c = parse("arm64");
    EXPECT_EQ(xarch_platform_equal(a.get(), b.get()), 1);
    EXPECT_EQ(xarch_platform_equal(a.get(), c.get()), 0);
    EXPECT_EQ(xarch_platform_hash(a.get()), xarch_platform_hash(b.get()));
    EXPECT_EQ(xarch_platform_equal(a.get(), nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_equal(nullptr, a.get()), XARCH_EINVAL);
    PlatformPtr unnormalized = make("linux", "arm", nullptr);
    EXPECT_EQ(xarch_platform_equal(a.get(), unnormalized.get()), 0) << "no normalization";
}

TEST(CapiPlatform, OneHandleReadFromTwoThreads) {
    PlatformPtr platform = parse("arm");
    auto read = [&] {
        for (int i = 0; i < 1000; ++i) {
            ASSERT_STREQ(xarch_platform_to_string(platform.get()), "linux/arm/v7");
            ASSERT_STREQ(xarch_platform_to_string_all(platform.get()), "linux/arm/v7");
        }
    };
    std::thread a(read);
    std::thread b(read);
    a.join();
    b.join();
}

// ---- lists ----

TEST(CapiPlatformList, ParseGetSizeFormat) {
    PlatformListPtr list = parse_list("amd64,arm,arm64");
    ASSERT_EQ(xarch_platform_list_size(list.get()), 3u);
    EXPECT_STREQ(xarch_platform_to_string(xarch_platform_list_get(list.get(), 0)), "linux/amd64");
    EXPECT_STREQ(xarch_platform_to_string(xarch_platform_list_get(list.get(), 1)), "linux/arm/v7");
    EXPECT_STREQ(xarch_platform_to_string(xarch_platform_list_get(list.get(), 2)), "linux/arm64");
    xarch_buf buf = XARCH_BUF_INIT;
    ASSERT_EQ(xarch_platform_list_format(&buf, list.get()), XARCH_OK);
    EXPECT_STREQ(buf.ptr, "linux/amd64,linux/arm/v7,linux/arm64");
    EXPECT_EQ(buf.size, std::string("linux/amd64,linux/arm/v7,linux/arm64").size());
    xarch_buf_dispose(&buf);
}

TEST(CapiPlatformList, DuplicatesRemoved) {
    PlatformListPtr list = parse_list("amd64,x86_64,linux/amd64,arm");
    ASSERT_EQ(xarch_platform_list_size(list.get()), 2u);
    EXPECT_STREQ(xarch_platform_to_string(xarch_platform_list_get(list.get(), 1)), "linux/arm/v7");
}

TEST(CapiPlatformList, BorrowedItemsCanBeCloned) {
    PlatformListPtr list = parse_list("arm64");
    xarch_platform* copy = nullptr;
    ASSERT_EQ(xarch_platform_clone(&copy, xarch_platform_list_get(list.get(), 0)), XARCH_OK);
    PlatformPtr kept(copy);
    list.reset();
    EXPECT_STREQ(xarch_platform_to_string(kept.get()), "linux/arm64");
}

TEST(CapiPlatformList, Errors) {
    xarch_platform_list* list = nullptr;
    for (const char* bad : {"", "amd64,,arm", "amd64, arm", "amd64,bad platform"}) {
        EXPECT_EQ(xarch_platform_parse_list(&list, bad), XARCH_EINVAL) << bad;
        EXPECT_EQ(list, nullptr);
        EXPECT_THAT(last_message(), HasSubstr("\"" + std::string(bad) + "\""));
    }
    EXPECT_EQ(xarch_platform_parse_list(nullptr, "arm"), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_parse_list(&list, nullptr), XARCH_EINVAL);

    PlatformListPtr ok = parse_list("arm");
    EXPECT_EQ(xarch_platform_list_get(ok.get(), 1), nullptr);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("out of range"));
    EXPECT_EQ(xarch_platform_list_get(nullptr, 0), nullptr);
    EXPECT_EQ(xarch_platform_list_size(nullptr), 0u);
    EXPECT_EQ(last_code(), XARCH_EINVAL);

    xarch_buf buf = XARCH_BUF_INIT;
    EXPECT_EQ(xarch_platform_list_format(nullptr, ok.get()), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_list_format(&buf, nullptr), XARCH_EINVAL);
    EXPECT_EQ(buf.ptr, nullptr);
}

// ---- matchers ----

TEST(CapiMatcher, OnlyRunsWhatTheHostRuns) {
    PlatformPtr arm64 = parse("arm64");
    xarch_platform_matcher* raw = nullptr;
    ASSERT_EQ(xarch_platform_matcher_only(&raw, arm64.get()), XARCH_OK);
    MatcherPtr matcher(raw);
    arm64.reset();  // the matcher keeps its own copy
    PlatformPtr arm = parse("arm");
    PlatformPtr amd64 = parse("amd64");
    PlatformPtr same = parse("linux/arm64");
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), same.get()), 1);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), arm.get()), 1);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), amd64.get()), 0);
    EXPECT_EQ(xarch_platform_matcher_less(matcher.get(), same.get(), arm.get()), 1);
    EXPECT_EQ(xarch_platform_matcher_less(matcher.get(), arm.get(), same.get()), 0);

    const xarch_platform* candidates[] = {amd64.get(), arm.get(), same.get()};
    size_t best = 99;
    ASSERT_EQ(xarch_platform_matcher_best(&best, matcher.get(), candidates, 3), XARCH_OK);
    EXPECT_EQ(best, 2u);
    ASSERT_EQ(xarch_platform_matcher_best(&best, matcher.get(), candidates, 2), XARCH_OK);
    EXPECT_EQ(best, 1u);
}

TEST(CapiMatcher, OnlyStrict) {
    PlatformPtr arm64 = parse("arm64");
    xarch_platform_matcher* raw = nullptr;
    ASSERT_EQ(xarch_platform_matcher_only_strict(&raw, arm64.get()), XARCH_OK);
    MatcherPtr matcher(raw);
    PlatformPtr arm = parse("arm");
    xarch_platform* spelled = nullptr;
    ASSERT_EQ(xarch_platform_parse_unnormalized(&spelled, "linux/aarch64"), XARCH_OK);
    PlatformPtr aarch64(spelled);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), arm.get()), 0);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), aarch64.get()), 1);
}

TEST(CapiMatcher, OrderedPrefersListOrder) {
    PlatformPtr amd64 = parse("amd64");
    PlatformPtr arm64 = parse("arm64");
    PlatformPtr riscv = parse("riscv64");
    const xarch_platform* order[] = {amd64.get(), arm64.get()};
    xarch_platform_matcher* raw = nullptr;
    ASSERT_EQ(xarch_platform_matcher_ordered(&raw, order, 2), XARCH_OK);
    MatcherPtr matcher(raw);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), arm64.get()), 1);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), riscv.get()), 0);
    EXPECT_EQ(xarch_platform_matcher_less(matcher.get(), amd64.get(), arm64.get()), 1);
    EXPECT_EQ(xarch_platform_matcher_less(matcher.get(), arm64.get(), amd64.get()), 0);
    const xarch_platform* candidates[] = {riscv.get(), arm64.get(), amd64.get()};
    size_t best = 99;
    ASSERT_EQ(xarch_platform_matcher_best(&best, matcher.get(), candidates, 3), XARCH_OK);
    EXPECT_EQ(best, 2u);
}

TEST(CapiMatcher, AnyMatchesEachListed) {
    PlatformPtr amd64 = parse("amd64");
    PlatformPtr arm64 = parse("arm64");
    PlatformPtr riscv = parse("riscv64");
    const xarch_platform* set[] = {amd64.get(), arm64.get()};
    xarch_platform_matcher* raw = nullptr;
    ASSERT_EQ(xarch_platform_matcher_any(&raw, set, 2), XARCH_OK);
    MatcherPtr matcher(raw);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), amd64.get()), 1);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), arm64.get()), 1);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), riscv.get()), 0);
    const xarch_platform* candidates[] = {riscv.get(), arm64.get()};
    size_t best = 99;
    ASSERT_EQ(xarch_platform_matcher_best(&best, matcher.get(), candidates, 2), XARCH_OK);
    EXPECT_EQ(best, 1u);
}

TEST(CapiMatcher, EmptyMatchesNothing) {
    xarch_platform_matcher* raw = nullptr;
    ASSERT_EQ(xarch_platform_matcher_any(&raw, nullptr, 0), XARCH_OK);
    MatcherPtr any(raw);
    ASSERT_EQ(xarch_platform_matcher_ordered(&raw, nullptr, 0), XARCH_OK);
    MatcherPtr ordered(raw);
    PlatformPtr amd64 = parse("amd64");
    EXPECT_EQ(xarch_platform_matcher_match(any.get(), amd64.get()), 0);
    EXPECT_EQ(xarch_platform_matcher_match(ordered.get(), amd64.get()), 0);
}

TEST(CapiMatcher, BestNoneMatchesIsNotFound) {
    PlatformPtr amd64 = parse("amd64");
    PlatformPtr s390x = parse("s390x");
    xarch_platform_matcher* raw = nullptr;
    ASSERT_EQ(xarch_platform_matcher_only_strict(&raw, amd64.get()), XARCH_OK);
    MatcherPtr matcher(raw);
    const xarch_platform* candidates[] = {s390x.get()};
    size_t best = 42;
    EXPECT_EQ(xarch_platform_matcher_best(&best, matcher.get(), candidates, 1), XARCH_ENOTFOUND);
    EXPECT_EQ(last_code(), XARCH_ENOTFOUND);
    EXPECT_EQ(best, 42u) << "left alone";
    EXPECT_EQ(xarch_platform_matcher_best(&best, matcher.get(), nullptr, 0), XARCH_ENOTFOUND);
}

TEST(CapiMatcher, NullArguments) {
    PlatformPtr amd64 = parse("amd64");
    xarch_platform_matcher* raw = nullptr;
    EXPECT_EQ(xarch_platform_matcher_only(nullptr, amd64.get()), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_only(&raw, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_only_strict(&raw, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_ordered(&raw, nullptr, 2), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("'platforms'"));
    const xarch_platform* with_null[] = {amd64.get(), nullptr};
    EXPECT_EQ(xarch_platform_matcher_any(&raw, with_null, 2), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("index 1"));
    EXPECT_EQ(xarch_platform_matcher_ordered(nullptr, with_null, 1), XARCH_EINVAL);
    EXPECT_EQ(raw, nullptr);

    ASSERT_EQ(xarch_platform_matcher_only(&raw, amd64.get()), XARCH_OK);
    MatcherPtr matcher(raw);
    EXPECT_EQ(xarch_platform_matcher_match(nullptr, amd64.get()), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_match(matcher.get(), nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_less(matcher.get(), amd64.get(), nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_less(nullptr, amd64.get(), amd64.get()), XARCH_EINVAL);
    size_t best = 0;
    const xarch_platform* candidates[] = {amd64.get()};
    EXPECT_EQ(xarch_platform_matcher_best(nullptr, matcher.get(), candidates, 1), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_best(&best, nullptr, candidates, 1), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_best(&best, matcher.get(), nullptr, 1), XARCH_EINVAL);
    EXPECT_EQ(xarch_platform_matcher_best(&best, matcher.get(), with_null, 2), XARCH_EINVAL);
}

}  // namespace
}  // namespace xarch_capi_test
