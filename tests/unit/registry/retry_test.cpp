// SPDX-License-Identifier: Apache-2.0
#include "registry/retry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>

namespace {

using namespace xarch::registry;
using namespace std::chrono_literals;

TEST(Retry, BackoffDoublesUpToTheCap) {
    RetryPolicy policy;
    policy.initial_backoff = 100ms;
    policy.max_backoff = 1000ms;
    policy.jitter = false;
    EXPECT_EQ(backoff_delay(policy, 1, 0), 100ms);
    EXPECT_EQ(backoff_delay(policy, 2, 0), 200ms);
    EXPECT_EQ(backoff_delay(policy, 3, 0), 400ms);
    EXPECT_EQ(backoff_delay(policy, 4, 0), 800ms);
    EXPECT_EQ(backoff_delay(policy, 5, 0), 1000ms);
    EXPECT_EQ(backoff_delay(policy, 1000, 0), 1000ms);  // no overflow
}

TEST(Retry, FullJitterStaysInsideTheWindow) {
    RetryPolicy policy;
    policy.initial_backoff = 100ms;
    policy.max_backoff = 1000ms;
    EXPECT_EQ(backoff_delay(policy, 3, 0), 0ms);
    EXPECT_EQ(backoff_delay(policy, 3, 400), 400ms);
    EXPECT_EQ(backoff_delay(policy, 3, 401), 0ms);
    EXPECT_LE(backoff_delay(policy, 3, std::numeric_limits<std::uint64_t>::max()), 400ms);
    bool varied = false;
    for (int i = 0; i < 200; ++i) {
        const auto delay = backoff_delay(policy, 10);
        EXPECT_GE(delay, 0ms);
        EXPECT_LE(delay, 1000ms);
        varied = varied || delay != backoff_delay(policy, 10);
    }
    EXPECT_TRUE(varied);
}

TEST(Retry, RetryAfterSeconds) {
    EXPECT_EQ(parse_retry_after("0"), 0ms);
    EXPECT_EQ(parse_retry_after("5"), 5000ms);
    EXPECT_EQ(parse_retry_after(" 120 "), 120'000ms);
    EXPECT_EQ(parse_retry_after("99999999999999"), std::chrono::milliseconds(999'999'999'000));
    for (const char* bad : {"", "-1", "1.5", "soon", "5s"}) {
        EXPECT_FALSE(parse_retry_after(bad)) << bad;
    }
}

TEST(Retry, RetryAfterHttpDate) {
    const auto now = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 7s;
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 30'000ms);
    EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 30'000ms);
    EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), 30'000ms);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0ms);  // in the past
    EXPECT_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now));
    EXPECT_FALSE(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now));
    EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", now));
}

TEST(Retry, DelayHonorsRetryAfterWithACap) {
    RetryPolicy policy;
    policy.max_retry_after = 10s;
    EXPECT_EQ(retry_delay(policy, 1, 3000ms), 3000ms);
    EXPECT_EQ(retry_delay(policy, 1, 3600s), 10s);
    policy.jitter = false;
    EXPECT_EQ(retry_delay(policy, 2, std::nullopt), 2 * policy.initial_backoff);
}

TEST(Retry, ReplayableMethods) {
    for (const char* method : {"GET", "HEAD", "PUT", "PATCH"}) {
        EXPECT_TRUE(is_replayable_method(method)) << method;
    }
    for (const char* method : {"POST", "DELETE", "get", "CONNECT"}) {
        EXPECT_FALSE(is_replayable_method(method)) << method;
    }
}

TEST(Retry, SleepStopsWhenCancelled) {
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(50ms);
        cancel = true;
    });
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(sleep_unless_cancelled(10s, &cancel));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    canceller.join();
    EXPECT_TRUE(sleep_unless_cancelled(1ms, nullptr));
}

}  // namespace
