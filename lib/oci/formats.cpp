// SPDX-License-Identifier: Apache-2.0
#include "oci/formats.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace xarch::oci {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// `count` digits at text[pos], as a number; nullopt when they are not all digits.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t count) {
    if (pos + count > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (!is_digit(text[i])) {
            return std::nullopt;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

int days_in_month(int year, int month) {
    constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) {
        return 29;
    }
    return kDays[static_cast<std::size_t>(month - 1)];
}

}  // namespace

bool is_date_time(std::string_view text) noexcept {
    // full-date "T" partial-time time-offset: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
    const auto year = digits(text, 0, 4);
    const auto month = digits(text, 5, 2);
    const auto day = digits(text, 8, 2);
    const auto hour = digits(text, 11, 2);
    const auto minute = digits(text, 14, 2);
    const auto second = digits(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' ||
        text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
        text[16] != ':') {
        return false;
    }
    if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month) ||
        *hour > 23 || *minute > 59 || *second > 60) {
        return false;
    }
    std::size_t pos = 19;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        while (pos < text.size() && is_digit(text[pos])) {
            ++pos;
        }
        if (pos == start) {
            return false;
        }
    }
    if (pos >= text.size()) {
        return false;
    }
    if (text[pos] == 'Z' || text[pos] == 'z') {
        return pos + 1 == text.size();
    }
    if (text[pos] != '+' && text[pos] != '-') {
        return false;
    }
    const auto offset_hour = digits(text, pos + 1, 2);
    const auto offset_minute = digits(text, pos + 4, 2);
    return offset_hour && offset_minute && text[pos + 3] == ':' && *offset_hour <= 23 &&
           *offset_minute <= 59 && pos + 6 == text.size();
}

bool is_absolute_uri(std::string_view text) noexcept {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_alpha(text[0])) {
        return false;
    }
    for (std::size_t i = 1; i < colon; ++i) {
        const char c = text[i];
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') {
            return false;
        }
    }
    // The rest: unreserved, sub-delims, ":", "@", "/", "?", "#", "[", "]" and percent escapes.
    constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/?#[]";
    for (std::size_t i = colon + 1; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) {
                return false;
            }
            i += 2;
        } else if (!is_alpha(c) && !is_digit(c) && kAllowed.find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

}  // namespace xarch::oci
