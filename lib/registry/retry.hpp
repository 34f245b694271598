// SPDX-License-Identifier: Apache-2.0
// When and how long to wait before trying a registry request again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace xarch::registry {

// Exponential backoff with full jitter (the delay before retry n is uniform in
// [0, min(max_backoff, initial_backoff * 2^(n-1))]), as AWS's architecture blog recommends and
// go-containerregistry does, so that many clients hitting one overloaded registry spread out.
struct RetryPolicy {
    int max_attempts = 5;  // including the first; 1 disables retries
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{10'000};
    bool jitter = true;  // false: always the upper bound (tests)
    // A Retry-After longer than this is cut to it: a registry must not park a build for hours.
    std::chrono::milliseconds max_retry_after{60'000};
};

// The delay before retry number `retry` (1 for the first retry). `random` is uniform over all
// 64-bit values; it picks the point inside the jitter window.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, std::uint64_t random);

// The same with a random draw from a per-thread generator.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry);

// The delay a Retry-After header asks for: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or
// asctime) relative to `now`; a date in the past is zero. nullopt when the value is malformed.
// The result is not capped; see retry_delay().
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The delay before retry `retry`: the server's Retry-After (capped at max_retry_after) when it
// gave one, else the backoff.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy,
                                      int retry,
                                      std::optional<std::chrono::milliseconds> retry_after);

// True for the methods whose requests may be sent again after a failure without changing the
// outcome (given a body that can be replayed): GET, HEAD, PUT, PATCH.
bool is_replayable_method(std::string_view method);

// Sleeps for `delay`, waking early when `*cancel` becomes true. Returns false when cancelled.
bool sleep_unless_cancelled(std::chrono::milliseconds delay, const std::atomic<bool>* cancel);

}  // namespace xarch::registry
