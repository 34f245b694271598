// SPDX-License-Identifier: Apache-2.0
#include "registry/token_cache.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace xarch::registry;
using namespace std::chrono_literals;

TEST(TokenResponse, ReadsTokenOrAccessToken) {
    EXPECT_EQ(parse_token_response(R"({"token":"t1"})").token, "t1");
    EXPECT_EQ(parse_token_response(R"({"access_token":"a1"})").token, "a1");
    // Docker Hub sends both, equal; `token` wins when they differ.
    EXPECT_EQ(parse_token_response(R"({"token":"t","access_token":"a"})").token, "t");
    EXPECT_EQ(parse_token_response(R"({"token":"","access_token":"a"})").token, "a");
}

TEST(TokenResponse, ExpiresInDefaultsToSixtySeconds) {
    EXPECT_EQ(parse_token_response(R"({"token":"t"})").expires_in, 60s);
    EXPECT_EQ(parse_token_response(R"({"token":"t","expires_in":300})").expires_in, 300s);
    EXPECT_EQ(parse_token_response(R"({"token":"t","expires_in":0})").expires_in, 60s);
    EXPECT_EQ(parse_token_response(R"({"token":"t","expires_in":-5})").expires_in, 60s);
    EXPECT_EQ(parse_token_response(R"({"token":"t","expires_in":"300"})").expires_in, 60s);
    EXPECT_EQ(parse_token_response(R"({"token":"t","expires_in":90.5})").expires_in, 90s);
}

TEST(TokenResponse, IssuedAtAndRefreshToken) {
    const auto response = parse_token_response(
        R"({"token":"t","issued_at":"2024-01-02T03:04:05Z","refresh_token":"r"})");
    ASSERT_TRUE(response.issued_at);
    EXPECT_EQ(
        *response.issued_at,
        std::chrono::sys_days(std::chrono::year(2024) / std::chrono::January / 2) + 3h + 4min + 5s);
    EXPECT_EQ(response.refresh_token, "r");
    EXPECT_FALSE(parse_token_response(R"({"token":"t","issued_at":"yesterday"})").issued_at);
}

TEST(TokenResponse, GarbageIsAnAuthErrorWithoutTheBody) {
    for (const char* body : {"", "not json", "[]", R"({"token":5})", R"({"token":""})",
                             R"({"error":"secret-looking-value"})"}) {
        try {
            parse_token_response(body);
            ADD_FAILURE() << body;
        } catch (const xarch::AuthError& e) {
            EXPECT_EQ(std::string(e.what()).find("secret-looking-value"), std::string::npos);
        }
    }
}

TEST(TokenRfc3339, Formats) {
    const auto base = std::chrono::sys_days(std::chrono::year(2024) / 2 / 29) + 23h + 59min + 59s;
    EXPECT_EQ(parse_rfc3339("2024-02-29T23:59:59Z"), base);
    EXPECT_EQ(parse_rfc3339("2024-02-29T23:59:59.5Z"), base + 500ms);
    EXPECT_EQ(parse_rfc3339("2024-02-29T23:59:59.123456789Z"), base + 123456789ns);
    EXPECT_EQ(parse_rfc3339("2024-03-01T01:59:59+02:00"), base);
    EXPECT_EQ(parse_rfc3339("2024-02-29T20:59:59-03:00"), base);
    for (const char* bad : {"", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
                            "2024-02-29T24:00:00Z", "2024-02-29T23:59:59", "2024-02-29T23:59:59.Z",
                            "2024-02-29T23:59:59Zjunk", "2024-02-29 23:59:59+2:00"}) {
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
    }
}

TEST(TokenScopes, RepositoryScope) {
    EXPECT_EQ(repository_scope("library/busybox", "pull"), "repository:library/busybox:pull");
    EXPECT_EQ(repository_scope("a/b", "pull,push"), "repository:a/b:pull,push");
}

TEST(TokenScopes, NormalizeMergesActionsAndSorts) {
    EXPECT_EQ(normalize_scopes({"repository:b:pull", "repository:a:push", "repository:a:pull"}),
              (std::vector<std::string>{"repository:a:pull,push", "repository:b:pull"}));
    EXPECT_EQ(normalize_scopes({"repository:a:push,pull", "repository:a:pull"}),
              (std::vector<std::string>{"repository:a:pull,push"}));
    // A challenge's scope parameter may list several, space-separated.
    EXPECT_EQ(normalize_scopes({"repository:x:pull repository:y:pull,push", ""}),
              (std::vector<std::string>{"repository:x:pull", "repository:y:pull,push"}));
    // Names with colons (host:port/repo) keep them; the actions are after the last colon.
    EXPECT_EQ(normalize_scopes({"repository:localhost:5000/a:pull"}),
              (std::vector<std::string>{"repository:localhost:5000/a:pull"}));
    EXPECT_EQ(normalize_scopes({"registry:catalog:*"}),
              (std::vector<std::string>{"registry:catalog:*"}));
    EXPECT_EQ(normalize_scopes({"odd", "odd"}), (std::vector<std::string>{"odd"}));
    EXPECT_TRUE(normalize_scopes({}).empty());
    // Order does not matter.
    EXPECT_EQ(normalize_scopes({"repository:m:pull", "repository:src:pull"}),
              normalize_scopes({"repository:src:pull", "repository:m:pull"}));
}

TEST(TokenScopes, Cover) {
    const std::vector<std::string> have = {"repository:a:pull,push", "repository:b:pull"};
    EXPECT_TRUE(scopes_cover(have, {"repository:a:pull"}));
    EXPECT_TRUE(scopes_cover(have, {"repository:a:push", "repository:b:pull"}));
    EXPECT_TRUE(scopes_cover(have, {}));
    EXPECT_FALSE(scopes_cover(have, {"repository:b:push"}));
    EXPECT_FALSE(scopes_cover(have, {"repository:c:pull"}));
    EXPECT_TRUE(scopes_cover({"repository:a:*"}, {"repository:a:pull,push,delete"}));
    EXPECT_FALSE(scopes_cover({}, {"repository:a:pull"}));
}

TokenResponse token(std::string value, std::chrono::seconds lifetime = 60s) {
    TokenResponse response;
    response.token = std::move(value);
    response.expires_in = lifetime;
    return response;
}

TEST(TokenCache, RefreshesBeforeExpiry) {
    EXPECT_EQ(TokenCache::usable_for(60s), 48s);
    EXPECT_EQ(TokenCache::usable_for(3600s), 3570s);  // the margin is at most 30 s
    EXPECT_EQ(TokenCache::usable_for(2s), 1600ms);

    TokenCache cache;
    const auto t0 = TokenCache::Clock::now();
    cache.store("reg", {"repository:a:pull"}, token("t1"), t0);
    EXPECT_EQ(cache.find("reg", {"repository:a:pull"}, t0 + 47s), "t1");
    EXPECT_FALSE(cache.find("reg", {"repository:a:pull"}, t0 + 48s));
    EXPECT_FALSE(cache.find("other", {"repository:a:pull"}, t0));
}

TEST(TokenCache, ATokenWithMoreScopesServesFewer) {
    TokenCache cache;
    const auto t0 = TokenCache::Clock::now();
    cache.store("reg", {"repository:a:pull,push", "repository:b:pull"}, token("wide"), t0);
    EXPECT_EQ(cache.find("reg", {"repository:a:pull"}, t0), "wide");
    EXPECT_EQ(cache.find("reg", {"repository:b:pull"}, t0), "wide");
    EXPECT_FALSE(cache.find("reg", {"repository:b:push"}, t0));
}

TEST(TokenCache, GetFetchesOnceAndReuses) {
    TokenCache cache;
    int calls = 0;
    const auto fetch = [&] {
        ++calls;
        return token("t" + std::to_string(calls));
    };
    EXPECT_EQ(cache.get("reg", {"repository:a:pull"}, fetch), "t1");
    EXPECT_EQ(cache.get("reg", {"repository:a:pull"}, fetch), "t1");
    EXPECT_EQ(cache.get("reg", {"repository:a:pull"}, fetch, /*force=*/true), "t2");
    EXPECT_EQ(cache.get("reg", {"repository:a:pull"}, fetch), "t2");
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(cache.fetches(), 2u);
    cache.clear("reg");
    EXPECT_EQ(cache.get("reg", {"repository:a:pull"}, fetch), "t3");
}

TEST(TokenCache, ConcurrentCallersShareOneFetch) {
    TokenCache cache;
    std::atomic<int> calls{0};
    const auto fetch = [&] {
        ++calls;
        std::this_thread::sleep_for(100ms);
        return token("shared");
    };
    std::vector<std::thread> threads;
    std::vector<std::string> got(8);
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] { got[i] = cache.get("reg", {"repository:a:pull"}, fetch); });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(calls.load(), 1);
    for (const auto& value : got) {
        EXPECT_EQ(value, "shared");
    }
}

TEST(TokenCache, FetchFailureReachesEveryWaiterAndIsNotCached) {
    TokenCache cache;
    std::atomic<int> calls{0};
    const auto failing = [&]() -> TokenResponse {
        ++calls;
        std::this_thread::sleep_for(50ms);
        throw xarch::AuthError("denied");
    };
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            try {
                cache.get("reg", {"repository:a:pull"}, failing);
            } catch (const xarch::AuthError&) {
                ++failures;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(failures.load(), 4);
    EXPECT_GE(calls.load(), 1);
    EXPECT_EQ(cache.get("reg", {"repository:a:pull"}, [] { return token("ok"); }), "ok");
}

}  // namespace
