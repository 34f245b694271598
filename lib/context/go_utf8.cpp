// SPDX-License-Identifier: Apache-2.0
#include "context/go_utf8.hpp"

namespace xarch::context::go {
namespace {

bool is_continuation(unsigned char b) {
    return (b & 0xC0U) == 0x80U;
}

}  // namespace

DecodedRune decode_rune(std::string_view s) {
    if (s.empty()) {
        return {kRuneError, 0};
    }
    const auto b0 = static_cast<unsigned char>(s[0]);
    if (b0 < 0x80) {
        return {b0, 1};
    }
    // The lead byte gives the length and the range allowed for the second byte, which rules out
    // overlong forms, surrogates and values past U+10FFFF (utf8's acceptRanges).
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    char32_t r = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        r = b0 & 0x1FU;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        r = b0 & 0x0FU;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;
        hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        r = b0 & 0x07U;
        lo = b0 == 0xF0 ? 0x90 : 0x80;
        hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return {kRuneError, 1};
    }
    if (s.size() < len) {
        // A truncated sequence is one invalid byte, whatever follows.
        return {kRuneError, 1};
    }
    const auto b1 = static_cast<unsigned char>(s[1]);
    if (b1 < lo || b1 > hi) {
        return {kRuneError, 1};
    }
    r = (r << 6U) | (b1 & 0x3FU);
    for (std::size_t i = 2; i < len; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (!is_continuation(b)) {
            return {kRuneError, 1};
        }
        r = (r << 6U) | (b & 0x3FU);
    }
    return {r, len};
}

DecodedRune decode_last_rune(std::string_view s) {
    if (s.empty()) {
        return {kRuneError, 0};
    }
    const std::size_t end = s.size();
    if (static_cast<unsigned char>(s[end - 1]) < 0x80) {
        return {static_cast<unsigned char>(s[end - 1]), 1};
    }
    const std::size_t limit = end >= 4 ? end - 4 : 0;
    std::size_t start = end - 1;
    while (start > limit && is_continuation(static_cast<unsigned char>(s[start]))) {
        --start;
    }
    const DecodedRune d = decode_rune(s.substr(start));
    if (start + d.width != end) {
        return {kRuneError, 1};
    }
    return d;
}

void append_rune(std::string& out, char32_t r) {
    if ((r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF) {
        r = kRuneError;
    }
    if (r < 0x80) {
        out += static_cast<char>(r);
    } else if (r < 0x800) {
        out += static_cast<char>(0xC0U | (r >> 6U));
        out += static_cast<char>(0x80U | (r & 0x3FU));
    } else if (r < 0x10000) {
        out += static_cast<char>(0xE0U | (r >> 12U));
        out += static_cast<char>(0x80U | ((r >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (r & 0x3FU));
    } else {
        out += static_cast<char>(0xF0U | (r >> 18U));
        out += static_cast<char>(0x80U | ((r >> 12U) & 0x3FU));
        out += static_cast<char>(0x80U | ((r >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (r & 0x3FU));
    }
}

bool is_space(char32_t r) {
    switch (r) {
        case U'\t':
        case U'\n':
        case U'\v':
        case U'\f':
        case U'\r':
        case U' ':
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
            return true;
        default:
            return r >= 0x2000 && r <= 0x200A;
    }
}

std::string_view trim_space(std::string_view s) {
    while (!s.empty()) {
        const DecodedRune d = decode_rune(s);
        if (!is_space(d.rune)) {
            break;
        }
        s.remove_prefix(d.width);
    }
    while (!s.empty()) {
        const DecodedRune d = decode_last_rune(s);
        if (!is_space(d.rune)) {
            break;
        }
        s.remove_suffix(d.width);
    }
    return s;
}

}  // namespace xarch::context::go
