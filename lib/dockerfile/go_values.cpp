// SPDX-License-Identifier: Apache-2.0
// Go's parsers for durations, booleans, integers, byte sizes and CSV records, reimplemented for
// the inputs a Dockerfile gives them.
#include "go_values.hpp"

#include <cmath>
#include <limits>

namespace xarch::dockerfile {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The unit at the start of `s` and its length in nanoseconds, as time.ParseDuration knows them.
std::optional<std::pair<std::size_t, std::uint64_t>> duration_unit(std::string_view s) {
    struct Unit {
        std::string_view name;
        std::uint64_t ns;
    };
    static constexpr Unit kUnits[] = {
        {"ns", 1ULL},
        {"us", 1000ULL},
        {"\xC2\xB5s", 1000ULL},  // U+00B5 micro sign
        {"\xCE\xBCs", 1000ULL},  // U+03BC Greek mu
        {"ms", 1000000ULL},
        {"s", 1000000000ULL},
        {"m", 60ULL * 1000000000ULL},
        {"h", 3600ULL * 1000000000ULL},
    };
    // The unit runs to the next digit or '.', as in Go; then it must be one of the names.
    std::size_t n = 0;
    while (n < s.size() && s[n] != '.' && !is_digit(s[n])) {
        ++n;
    }
    for (const Unit& u : kUnits) {
        if (s.substr(0, n) == u.name) {
            return std::pair{n, u.ns};
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s == "0") {
        return std::chrono::nanoseconds(0);
    }
    if (s.empty()) {
        return std::nullopt;
    }
    constexpr std::uint64_t kMax = static_cast<std::uint64_t>(1) << 63;
    std::uint64_t total = 0;
    while (!s.empty()) {
        if (s.front() != '.' && !is_digit(s.front())) {
            return std::nullopt;
        }
        // The integer part, then an optional fraction.
        std::uint64_t whole = 0;
        bool any_digits = false;
        bool overflow = false;
        while (!s.empty() && is_digit(s.front())) {
            if (whole > (kMax - 1) / 10) {
                overflow = true;
            }
            whole = whole * 10 + static_cast<std::uint64_t>(s.front() - '0');
            any_digits = true;
            s.remove_prefix(1);
        }
        if (overflow || whole > kMax) {
            return std::nullopt;
        }
        std::uint64_t fraction = 0;
        double scale = 1;
        if (!s.empty() && s.front() == '.') {
            s.remove_prefix(1);
            while (!s.empty() && is_digit(s.front())) {
                if (fraction <= (kMax - 1) / 10) {  // Go drops digits beyond what fits
                    fraction = fraction * 10 + static_cast<std::uint64_t>(s.front() - '0');
                    scale *= 10;
                }
                any_digits = true;
                s.remove_prefix(1);
            }
        }
        if (!any_digits) {
            return std::nullopt;
        }
        const auto unit = duration_unit(s);
        if (!unit) {
            return std::nullopt;  // a missing unit ("10") or an unknown one ("10x")
        }
        s.remove_prefix(unit->first);
        const std::uint64_t per = unit->second;
        if (whole > kMax / per) {
            return std::nullopt;
        }
        std::uint64_t value = whole * per;
        if (fraction > 0) {
            value += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                                (static_cast<double>(per) / scale));
        }
        total += value;
        if (total > kMax) {
            return std::nullopt;
        }
    }
    if (!negative && total > kMax - 1) {
        return std::nullopt;
    }
    const auto signed_total = static_cast<std::int64_t>(total == kMax ? kMax - 1 : total);
    return std::chrono::nanoseconds(negative ? -signed_total : signed_total);
}

std::string format_go_duration(std::chrono::nanoseconds d) {
    std::int64_t ns = d.count();
    if (ns == 0) {
        return "0s";
    }
    std::string sign = ns < 0 ? "-" : "";
    const std::uint64_t u =
        ns < 0 ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
    // Below a second Go prints one unit with a fraction: 1.5ms, 300ns.
    auto with_fraction = [](std::uint64_t value, std::uint64_t unit, const char* name) {
        std::string out = std::to_string(value / unit);
        std::uint64_t rest = value % unit;
        if (rest != 0) {
            std::string digits = std::to_string(rest);
            std::string padded(std::to_string(unit).size() - 1 - digits.size(), '0');
            padded += digits;
            while (!padded.empty() && padded.back() == '0') {
                padded.pop_back();
            }
            out += '.' + padded;
        }
        return out + name;
    };
    if (u < 1000ULL) {
        return sign + std::to_string(u) + "ns";
    }
    if (u < 1000000ULL) {
        return sign + with_fraction(u, 1000ULL, "\xC2\xB5s");
    }
    if (u < 1000000000ULL) {
        return sign + with_fraction(u, 1000000ULL, "ms");
    }
    const std::uint64_t hours = u / 3600000000000ULL;
    const std::uint64_t minutes = (u / 60000000000ULL) % 60;
    const std::uint64_t rest = u % 60000000000ULL;
    std::string out = sign;
    if (hours > 0) {
        out += std::to_string(hours) + "h";
    }
    if (hours > 0 || minutes > 0) {
        out += std::to_string(minutes) + "m";
    }
    return out + with_fraction(rest, 1000000000ULL, "s");
}

std::optional<bool> parse_go_bool(std::string_view text) {
    if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
        text == "True") {
        return true;
    }
    if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
        text == "False") {
        return false;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_go_uint(std::string_view text, int base, int bits) {
    if (text.empty()) {
        return std::nullopt;
    }
    const std::uint64_t max =
        bits >= 64 ? std::numeric_limits<std::uint64_t>::max() : (1ULL << bits) - 1;
    std::uint64_t value = 0;
    for (char c : text) {
        int digit = -1;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'z') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'Z') {
            digit = c - 'A' + 10;
        }
        if (digit < 0 || digit >= base) {
            return std::nullopt;
        }
        const auto b = static_cast<std::uint64_t>(base);
        if (value > (max - static_cast<std::uint64_t>(digit)) / b) {
            return std::nullopt;
        }
        value = value * b + static_cast<std::uint64_t>(digit);
    }
    return value;
}

std::optional<std::int64_t> parse_go_int32(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    const auto magnitude = parse_go_uint(text, 10, 32);
    if (!magnitude) {
        return std::nullopt;
    }
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
    if (*magnitude > limit + (negative ? 1 : 0)) {
        return std::nullopt;
    }
    const auto value = static_cast<std::int64_t>(*magnitude);
    return negative ? -value : value;
}

std::optional<std::int64_t> parse_ram_in_bytes(std::string_view text) {
    // ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$
    std::size_t i = 0;
    while (i < text.size() && is_digit(text[i])) {
        ++i;
    }
    if (i == 0) {
        return std::nullopt;
    }
    while (i < text.size() && text[i] == '.') {
        const std::size_t start = ++i;
        while (i < text.size() && is_digit(text[i])) {
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
    }
    const std::string number(text.substr(0, i));
    if (i < text.size() && text[i] == ' ') {
        ++i;
    }
    double multiplier = 1;
    if (i < text.size()) {
        switch (text[i]) {
            case 'k':
            case 'K':
                multiplier = 1024.0;
                ++i;
                break;
            case 'm':
            case 'M':
                multiplier = 1024.0 * 1024;
                ++i;
                break;
            case 'g':
            case 'G':
                multiplier = 1024.0 * 1024 * 1024;
                ++i;
                break;
            case 't':
            case 'T':
                multiplier = 1024.0 * 1024 * 1024 * 1024;
                ++i;
                break;
            case 'p':
            case 'P':
                multiplier = 1024.0 * 1024 * 1024 * 1024 * 1024;
                ++i;
                break;
            default:
                break;
        }
    }
    if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) {
        ++i;
    }
    if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) {
        ++i;
    }
    if (i != text.size()) {
        return std::nullopt;
    }
    double value = 0;
    try {
        value =
            std::stod(number);  // "1.2.3" reads as 1.2, as Go's ParseFloat on the match would fail
    } catch (...) {
        return std::nullopt;
    }
    if (number.find('.') != number.rfind('.')) {
        return std::nullopt;
    }
    const double bytes = value * multiplier;
    if (!std::isfinite(bytes) || bytes >= 9.2e18) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(bytes);
}

std::optional<std::vector<std::string>> parse_csv_fields(std::string_view text) {
    std::vector<std::string> fields;
    std::string field;
    std::size_t i = 0;
    while (true) {
        field.clear();
        if (i < text.size() && text[i] == '"') {
            ++i;
            bool closed = false;
            while (i < text.size()) {
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    closed = true;
                    ++i;
                    break;
                }
                field += text[i++];
            }
            if (!closed || (i < text.size() && text[i] != ',')) {
                return std::nullopt;
            }
        } else {
            while (i < text.size() && text[i] != ',') {
                if (text[i] == '"') {
                    return std::nullopt;  // a bare quote inside an unquoted field
                }
                field += text[i++];
            }
        }
        fields.push_back(field);
        if (i >= text.size()) {
            break;
        }
        ++i;  // the comma
    }
    return fields;
}

}  // namespace xarch::dockerfile
