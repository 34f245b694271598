// SPDX-License-Identifier: Apache-2.0
#include "registry/retry.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <random>
#include <string>
#include <thread>

namespace xarch::registry {

namespace {

int parse_int(std::string_view text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty() ? value : -1;
}

int month_index(std::string_view name) {
    constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
        if (kMonths[i] == name) {
            return static_cast<int>(i) + 1;
        }
    }
    return -1;
}

// "HH:MM:SS" into seconds since midnight; -1 when malformed.
int parse_clock(std::string_view text) {
    if (text.size() != 8 || text[2] != ':' || text[5] != ':') {
        return -1;
    }
    const int h = parse_int(text.substr(0, 2));
    const int m = parse_int(text.substr(3, 2));
    const int s = parse_int(text.substr(6, 2));
    if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) {
        return -1;
    }
    return h * 3600 + m * 60 + s;
}

std::optional<std::chrono::system_clock::time_point> make_time(int year,
                                                               int month,
                                                               int day,
                                                               int seconds) {
    if (year < 0 || month < 1 || day < 1 || seconds < 0) {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year(year),
                                           std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) {
        return std::nullopt;
    }
    return std::chrono::sys_days(date) + std::chrono::seconds(seconds);
}

// The three date formats of RFC 9110 section 5.6.7.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (text.size() == 29 && text[3] == ',' && text.substr(25) == " GMT") {
        return make_time(parse_int(text.substr(12, 4)), month_index(text.substr(8, 3)),
                         parse_int(text.substr(5, 2)), parse_clock(text.substr(17, 8)));
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are 1970-2069.
    if (const std::size_t comma = text.find(", "); comma != std::string_view::npos &&
                                                   text.size() == comma + 24 &&
                                                   text.substr(comma + 20) == " GMT") {
        const std::string_view rest = text.substr(comma + 2);
        if (rest[2] != '-' || rest[6] != '-') {
            return std::nullopt;
        }
        int year = parse_int(rest.substr(7, 2));
        if (year >= 0) {
            year += year < 70 ? 2000 : 1900;
        }
        return make_time(year, month_index(rest.substr(3, 3)), parse_int(rest.substr(0, 2)),
                         parse_clock(rest.substr(10, 8)));
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (text.size() == 24 && text[3] == ' ' && text[7] == ' ') {
        const std::string_view day = util::trim(text.substr(8, 2));
        return make_time(parse_int(text.substr(20, 4)), month_index(text.substr(4, 3)),
                         parse_int(day), parse_clock(text.substr(11, 8)));
    }
    return std::nullopt;
}

}  // namespace

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy,
                                        int retry,
                                        std::uint64_t random) {
    const auto initial =
        std::max<std::chrono::milliseconds::rep>(policy.initial_backoff.count(), 0);
    const auto cap = std::max<std::chrono::milliseconds::rep>(policy.max_backoff.count(), 0);
    // Doubling stops once past the cap, which also keeps the shift from overflowing.
    std::chrono::milliseconds::rep upper = initial;
    for (int i = 1; i < retry && upper < cap; ++i) {
        upper *= 2;
    }
    upper = std::min(upper, cap);
    if (!policy.jitter || upper == 0) {
        return std::chrono::milliseconds(upper);
    }
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(
        random % (static_cast<std::uint64_t>(upper) + 1)));
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry) {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return backoff_delay(policy, retry, generator());
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
    value = util::trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        // delta-seconds; absurdly long values saturate rather than overflow.
        if (value.size() > 9) {
            return std::chrono::milliseconds(std::chrono::seconds(999'999'999));
        }
        return std::chrono::milliseconds(std::chrono::seconds(parse_int(value)));
    }
    const auto date = parse_http_date(value);
    if (!date) {
        return std::nullopt;
    }
    if (*date <= now) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*date - now);
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy,
                                      int retry,
                                      std::optional<std::chrono::milliseconds> retry_after) {
    if (retry_after) {
        return std::clamp(*retry_after, std::chrono::milliseconds(0),
                          std::max(policy.max_retry_after, std::chrono::milliseconds(0)));
    }
    return backoff_delay(policy, retry);
}

bool is_replayable_method(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "PATCH";
}

bool sleep_unless_cancelled(std::chrono::milliseconds delay, const std::atomic<bool>* cancel) {
    // Slices short enough that a cancelled build stops waiting promptly.
    constexpr std::chrono::milliseconds kSlice{50};
    const auto until = std::chrono::steady_clock::now() + delay;
    while (true) {
        if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
            return false;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= until) {
            return true;
        }
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(until - now, kSlice));
    }
}

}  // namespace xarch::registry
