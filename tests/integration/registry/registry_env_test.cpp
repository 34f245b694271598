// SPDX-License-Identifier: Apache-2.0
// registry_env.hpp against the shared test registries: the env file, the fault proxy's control
// endpoint and the token issuer, as the registry suites use them. Skips without the registries.
#include "integration/registry/registry_env.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

using xarch::test::http_request;
using xarch::test::load_registry_env;

TEST(RegistryEnvFile, NamesEveryRegistryAndTheSeededIndex) {
    std::string why;
    auto reg = load_registry_env(&why);
    if (!reg) {
        GTEST_SKIP() << why;
    }
    for (const std::string* addr : {&reg->plain, &reg->tls, &reg->token, &reg->fault_proxy}) {
        EXPECT_EQ(addr->rfind("127.0.0.1:", 0), 0U) << *addr;
    }
    EXPECT_FALSE(reg->password.empty());
    EXPECT_EQ(reg->busybox_repo, "library/busybox");
    EXPECT_EQ(reg->busybox_index_digest.rfind("sha256:", 0), 0U);
    for (const char* platform : {"linux/amd64", "linux/arm64", "linux/arm/v7"}) {
        EXPECT_EQ(reg->busybox_manifest(platform).size(), 71U) << platform;
    }
    EXPECT_EQ(reg->busybox_manifest("linux/s390x"), "");
    EXPECT_EQ(http_request("GET", "http://" + reg->plain + "/v2/").status, 200);
}

TEST(RegistryEnvFile, MissingFileGivesTheReason) {
    ASSERT_EQ(::setenv(xarch::test::kRegistryEnvVar, "/nonexistent/env", 1), 0);
    std::string why;
    EXPECT_FALSE(load_registry_env(&why));
    EXPECT_NE(why.find("registry_start"), std::string::npos) << why;
    ASSERT_EQ(::unsetenv(xarch::test::kRegistryEnvVar), 0);
    EXPECT_FALSE(load_registry_env(&why));
    EXPECT_NE(why.find("not set"), std::string::npos) << why;
}

TEST(RegistryEnvFaults, RuleHoldsForItsScopeAndCount) {
    std::string why;
    auto reg = load_registry_env(&why);
    if (!reg) {
        GTEST_SKIP() << why;
    }
    const std::string url = "http://" + reg->fault_proxy + "/v2/infra-cpp/x/tags/list";
    {
        xarch::test::ScopedFault fault(
            *reg, R"({"kind":"status429","retry_after":4,"path":"^/v2/infra-cpp/","count":-1})");
        for (int i = 0; i < 2; ++i) {
            auto reply = http_request("GET", url);
            EXPECT_EQ(reply.status, 429);
            EXPECT_NE(reply.headers.find("Retry-After: 4"), std::string::npos) << reply.headers;
        }
    }
    EXPECT_EQ(http_request("GET", url).status, 404);  // NAME_UNKNOWN from the registry itself
    EXPECT_THROW(xarch::test::add_fault(*reg, R"({"kind":"nonsense"})"), std::runtime_error);
    EXPECT_NE(xarch::test::proxy_log(*reg).find("/v2/infra-cpp/x/tags/list"), std::string::npos);
}

TEST(RegistryEnvToken, IssuerGivesAnonymousPullOnPublic) {
    std::string why;
    auto reg = load_registry_env(&why);
    if (!reg) {
        GTEST_SKIP() << why;
    }
    auto reply = http_request("GET", reg->token_realm + "?service=" + reg->token_service +
                                         "&scope=repository:public/infra-cpp:pull,push");
    EXPECT_EQ(reply.status, 200);
    EXPECT_NE(reply.body.find("\"access_token\""), std::string::npos);
    EXPECT_NE(xarch::test::token_log(*reg).find(
                  R"({"type": "repository", "name": "public/infra-cpp", "actions": ["pull"]})"),
              std::string::npos);
}

}  // namespace
