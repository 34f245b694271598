// SPDX-License-Identifier: Apache-2.0
// The offline parts of the registry operations: Link pagination, Content-Type, query building,
// list bodies, and parallel execution with cancellation and error propagation.
#include "registry/operations.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace xarch::registry;

TEST(RegistryOperations, FindsTheNextLink) {
    Headers h;
    EXPECT_EQ(next_link(h), "");
    h.add("Link", R"(</v2/a/tags/list?last=b&n=2>; rel="next")");
    EXPECT_EQ(next_link(h), "/v2/a/tags/list?last=b&n=2");

    Headers several;
    several.add("Link",
                R"(<https://r/prev>; rel="prev", <https://r/v2/_catalog?n=2&last=x>; rel=next)");
    EXPECT_EQ(next_link(several), "https://r/v2/_catalog?n=2&last=x");

    Headers other;
    other.add("Link", R"(</v2/a/tags/list?last=b>; rel="prev")");
    EXPECT_EQ(next_link(other), "");
}

TEST(RegistryOperations, StripsContentTypeParameters) {
    EXPECT_EQ(bare_media_type("application/vnd.oci.image.index.v1+json"),
              "application/vnd.oci.image.index.v1+json");
    EXPECT_EQ(bare_media_type(" application/json ; charset=utf-8"), "application/json");
    EXPECT_EQ(bare_media_type(""), "");
}

TEST(RegistryOperations, AppendsQueryParameters) {
    EXPECT_EQ(with_query("/v2/a/blobs/uploads/", "mount", "sha256:ab"),
              "/v2/a/blobs/uploads/?mount=sha256%3Aab");
    EXPECT_EQ(with_query("http://h/u?_state=x", "digest", "sha256:ab"),
              "http://h/u?_state=x&digest=sha256%3Aab");
}

TEST(RegistryOperations, ParsesStringLists) {
    EXPECT_EQ(parse_string_list(R"({"name":"a","tags":["1","2"]})", "tags"),
              (std::vector<std::string>{"1", "2"}));
    EXPECT_TRUE(parse_string_list(R"({"name":"a","tags":null})", "tags").empty());
    EXPECT_TRUE(parse_string_list(R"({"name":"a"})", "tags").empty());
    for (const char* bad : {"[]", "{", R"({"tags":"x"})", R"({"tags":[1]})", "<html>"}) {
        try {
            parse_string_list(bad, "tags");
            ADD_FAILURE() << bad;
        } catch (const xarch::Error& e) {
            EXPECT_EQ(e.code(), xarch::ErrorCode::kRegistry) << bad;
        }
    }
}

TEST(RegistryOperations, RunsTasksInParallelAndRethrowsTheFirstFailure) {
    xarch::TransferProgressCallback none;
    Operation op(none);
    std::atomic<int> done{0};
    std::vector<std::function<void()>> tasks(20, [&] { ++done; });
    run_parallel(tasks, 4, op);
    EXPECT_EQ(done.load(), 20);

    Operation failing(none);
    std::vector<std::function<void()>> bad = {[] { throw std::runtime_error("boom"); }};
    for (int i = 0; i < 10; ++i) {
        bad.emplace_back([] {});
    }
    EXPECT_THROW(run_parallel(bad, 3, failing), std::runtime_error);
    EXPECT_TRUE(failing.cancelled());
}

TEST(RegistryOperations, ProgressCallbackFalseCancels) {
    int calls = 0;
    xarch::TransferProgressCallback callback = [&](const xarch::TransferProgress& p) {
        ++calls;
        EXPECT_EQ(p.done, 15U);
        EXPECT_EQ(p.total, 100U);
        return false;
    };
    Operation op(callback);
    auto hook = op.hook(xarch::Digest::of("x"), 10, 100);
    ASSERT_TRUE(static_cast<bool>(hook));
    hook(TransferProgress{5, std::nullopt});
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(op.cancelled());
    try {
        op.check();
        FAIL();
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kCancelled);
    }
}

}  // namespace
