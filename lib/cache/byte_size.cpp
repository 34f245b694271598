// SPDX-License-Identifier: Apache-2.0
// Byte sizes in docker's go-units notation.
#include "cache/byte_size.hpp"

#include <xarch/error.hpp>

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace xarch::cache {

namespace {

[[noreturn]] void bad_size(std::string_view text) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid size: '" + std::string(text) +
                    "': give a number with an optional unit, like 512MB, 10gb or 1.5GiB");
}

}  // namespace

std::int64_t parse_byte_size(std::string_view text) {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
            ++i;
        }
        return i > start;
    };
    if (!digits()) {
        bad_size(text);
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digits()) {
            bad_size(text);
        }
    }
    const std::string number(text.substr(0, i));
    if (i < text.size() && text[i] == ' ') {
        ++i;
    }
    double multiplier = 1;
    if (i < text.size()) {
        constexpr std::string_view kPrefixes = "kmgtp";
        const auto at =
            kPrefixes.find(static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))));
        if (at != std::string_view::npos) {
            multiplier = std::pow(1024.0, static_cast<double>(at + 1));
            ++i;
        }
    }
    if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) {
        ++i;
    }
    if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) {
        ++i;
    }
    if (i != text.size()) {
        bad_size(text);
    }
    const double bytes = std::stod(number) * multiplier;
    if (!(bytes < static_cast<double>(std::numeric_limits<std::int64_t>::max()))) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid size: '" + std::string(text) + "' is too large");
    }
    return static_cast<std::int64_t>(bytes);
}

std::string format_byte_size(std::int64_t bytes) {
    static constexpr std::array<const char*, 9> kUnits = {"B",  "kB", "MB", "GB", "TB",
                                                          "PB", "EB", "ZB", "YB"};
    double size = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (size >= 1000.0 && unit + 1 < kUnits.size()) {
        size /= 1000.0;
        ++unit;
    }
    std::array<char, 64> buffer{};
    std::snprintf(buffer.data(), buffer.size(), "%.4g%s", size, kUnits[unit]);
    return buffer.data();
}

}  // namespace xarch::cache
