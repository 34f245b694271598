// SPDX-License-Identifier: Apache-2.0
// xarch_reference: parsing and normalization, the borrowed parts, derived copies, NULL arguments.
#include "capi_test_util.hpp"

#include <memory>
#include <string>

namespace xarch_capi_test {
namespace {

using ::testing::HasSubstr;

using ReferencePtr = std::unique_ptr<xarch_reference, Deleter<xarch_reference_free>>;

ReferencePtr parse_reference(const char* text) {
    xarch_reference* reference = nullptr;
    EXPECT_EQ(xarch_reference_parse(&reference, text), XARCH_OK) << text << ": " << last_message();
    return ReferencePtr(reference);
}

TEST(CapiReference, ParseNormalizesLikeDocker) {
    ReferencePtr busybox = parse_reference("busybox");
    ASSERT_NE(busybox, nullptr);
    EXPECT_STREQ(xarch_reference_registry(busybox.get()), "docker.io");
    EXPECT_STREQ(xarch_reference_repository(busybox.get()), "library/busybox");
    EXPECT_STREQ(xarch_reference_tag(busybox.get()), "latest");
    EXPECT_STREQ(xarch_reference_digest(busybox.get()), "");
    EXPECT_STREQ(xarch_reference_name(busybox.get()), "docker.io/library/busybox");
    EXPECT_STREQ(xarch_reference_to_string(busybox.get()), "docker.io/library/busybox:latest");
    EXPECT_STREQ(xarch_reference_familiar(busybox.get()), "busybox:latest");

    ReferencePtr full = parse_reference("index.docker.io/library/busybox:latest");
    EXPECT_EQ(xarch_reference_equal(busybox.get(), full.get()), 1);

    const std::string digest = "sha256:" + std::string(64, 'a');
    ReferencePtr pinned = parse_reference(("localhost:5000/a/b@" + digest).c_str());
    EXPECT_STREQ(xarch_reference_registry(pinned.get()), "localhost:5000");
    EXPECT_STREQ(xarch_reference_repository(pinned.get()), "a/b");
    EXPECT_STREQ(xarch_reference_tag(pinned.get()), "") << "a digest without a tag keeps no tag";
    EXPECT_EQ(xarch_reference_digest(pinned.get()), digest);
    EXPECT_EQ(xarch_reference_equal(busybox.get(), pinned.get()), 0);
    EXPECT_EQ(last_code(), XARCH_OK);
}

TEST(CapiReference, BadInputIsEinvalQuotingIt) {
    for (const char* text : {"", "Upper/Case", "a b", "host:99999999/x", "name:bad tag"}) {
        xarch_reference* reference = reinterpret_cast<xarch_reference*>(0x1);
        EXPECT_EQ(xarch_reference_parse(&reference, text), XARCH_EINVAL) << text;
        EXPECT_EQ(reference, nullptr) << "*out is NULL on failure";
        EXPECT_EQ(last_code(), XARCH_EINVAL);
        if (*text != '\0') {
            EXPECT_THAT(last_message(), HasSubstr(text));
        }
    }
}

TEST(CapiReference, ParseRepositoryRefusesTagsAndDigests) {
    xarch_reference* repository = nullptr;
    ASSERT_EQ(xarch_reference_parse_repository(&repository, "localhost:5000/x/y"), XARCH_OK)
        << last_message();
    ReferencePtr owner(repository);
    EXPECT_STREQ(xarch_reference_tag(repository), "");
    EXPECT_STREQ(xarch_reference_to_string(repository), "localhost:5000/x/y");

    xarch_reference* tagged = nullptr;
    EXPECT_EQ(xarch_reference_parse_repository(&tagged, "localhost:5000/x/y:tag"), XARCH_EINVAL);
    EXPECT_EQ(tagged, nullptr);
    EXPECT_THAT(last_message(), HasSubstr("localhost:5000/x/y:tag"));
}

TEST(CapiReference, DerivedCopiesAreIndependent) {
    ReferencePtr original = parse_reference("localhost:5000/app:1.0");
    xarch_reference* retagged = nullptr;
    ASSERT_EQ(xarch_reference_with_tag(&retagged, original.get(), "2.0"), XARCH_OK);
    ReferencePtr retagged_owner(retagged);
    xarch_reference* clone = nullptr;
    ASSERT_EQ(xarch_reference_clone(&clone, original.get()), XARCH_OK);
    original.reset();  // the copies do not borrow from it
    EXPECT_STREQ(xarch_reference_to_string(retagged), "localhost:5000/app:2.0");
    EXPECT_STREQ(xarch_reference_to_string(clone), "localhost:5000/app:1.0");

    const std::string digest = "sha256:" + std::string(64, 'b');
    xarch_reference* pinned = nullptr;
    ASSERT_EQ(xarch_reference_with_digest(&pinned, clone, digest.c_str()), XARCH_OK);
    ReferencePtr pinned_owner(pinned);
    EXPECT_EQ(std::string(xarch_reference_to_string(pinned)), "localhost:5000/app:1.0@" + digest);
    xarch_reference* untagged = nullptr;
    ASSERT_EQ(xarch_reference_with_tag(&untagged, pinned, ""), XARCH_OK) << "\"\" removes the tag";
    ReferencePtr untagged_owner(untagged);
    EXPECT_EQ(std::string(xarch_reference_to_string(untagged)), "localhost:5000/app@" + digest);
    xarch_reference_free(clone);

    xarch_reference* bad = nullptr;
    EXPECT_EQ(xarch_reference_with_tag(&bad, pinned, "no spaces"), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("no spaces"));
    EXPECT_EQ(xarch_reference_with_digest(&bad, pinned, "sha256:short"), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("sha256:short"));
    EXPECT_EQ(bad, nullptr);
}

TEST(CapiReference, NullArguments) {
    xarch_reference* out = nullptr;
    EXPECT_EQ(xarch_reference_parse(nullptr, "busybox"), XARCH_EINVAL);
    EXPECT_EQ(xarch_reference_parse(&out, nullptr), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("text"));
    EXPECT_EQ(xarch_reference_parse_repository(&out, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_reference_clone(&out, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_reference_with_tag(&out, nullptr, "x"), XARCH_EINVAL);
    ReferencePtr busybox = parse_reference("busybox");
    EXPECT_EQ(xarch_reference_with_tag(&out, busybox.get(), nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_reference_with_digest(&out, busybox.get(), nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_reference_equal(nullptr, busybox.get()), XARCH_EINVAL);
    EXPECT_EQ(out, nullptr);
    for (auto getter : {&xarch_reference_registry, &xarch_reference_repository,
                        &xarch_reference_tag, &xarch_reference_digest, &xarch_reference_name,
                        &xarch_reference_to_string, &xarch_reference_familiar}) {
        xarch_reference_free(nullptr);  // a no-op
        EXPECT_EQ(getter(nullptr), nullptr);
        EXPECT_EQ(last_code(), XARCH_EINVAL);
    }
}

}  // namespace
}  // namespace xarch_capi_test
