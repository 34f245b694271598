// SPDX-License-Identifier: Apache-2.0
#include "util/go_text.hpp"

#include <algorithm>

namespace xarch::util::go {

namespace {

constexpr std::string_view kLowerHex = "0123456789abcdef";

unsigned char byte_at(std::string_view s, std::size_t i) {
    return static_cast<unsigned char>(s[i]);
}

bool in_ranges(std::span<const tables::Range> ranges, char32_t r) {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), r,
                               [](char32_t v, const tables::Range& range) { return v < range.lo; });
    if (it == ranges.begin()) {
        return false;
    }
    --it;
    return r <= it->hi;
}

bool is_continuation(unsigned char b) {
    return (b & 0xC0U) == 0x80U;
}

void append_hex_byte(std::string& out, unsigned char b) {
    out += "\\x";
    out += kLowerHex[b >> 4U];
    out += kLowerHex[b & 0xFU];
}

void append_hex(std::string& out, char32_t r, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += kLowerHex[(r >> static_cast<unsigned>(shift)) & 0xFU];
    }
}

}  // namespace

DecodedRune decode_rune(std::string_view s) {
    if (s.empty()) {
        return {kRuneError, 0};
    }
    const unsigned char b0 = byte_at(s, 0);
    if (b0 < 0x80) {
        return {b0, 1};
    }
    // Lead byte → length and the allowed range of the second byte (which excludes overlong
    // forms, surrogates and values past U+10FFFF), as utf8's first/acceptRanges tables do.
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
        if (b0 == 0xE0) {
            lo = 0xA0;
        } else if (b0 == 0xED) {
            hi = 0x9F;
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        r = b0 & 0x07U;
        if (b0 == 0xF0) {
            lo = 0x90;
        } else if (b0 == 0xF4) {
            hi = 0x8F;
        }
    } else {
        return {kRuneError, 1};
    }
    if (s.size() < 2) {
        return {kRuneError, 1};
    }
    const unsigned char b1 = byte_at(s, 1);
    if (b1 < lo || b1 > hi) {
        return {kRuneError, 1};
    }
    r = (r << 6U) | (b1 & 0x3FU);
    for (std::size_t i = 2; i < len; ++i) {
        if (s.size() <= i || !is_continuation(byte_at(s, i))) {
            return {kRuneError, 1};
        }
        r = (r << 6U) | (byte_at(s, i) & 0x3FU);
    }
    return {r, len};
}

DecodedRune decode_last_rune(std::string_view s) {
    if (s.empty()) {
        return {kRuneError, 0};
    }
    const std::size_t end = s.size();
    if (byte_at(s, end - 1) < 0x80) {
        return {byte_at(s, end - 1), 1};
    }
    // Back up to the start of the last rune, at most 4 bytes, then decode forward; anything
    // that does not end exactly at the end is an error of width 1.
    const std::size_t lim = end >= 4 ? end - 4 : 0;
    std::size_t start = end - 1;
    while (start > lim && is_continuation(byte_at(s, start))) {
        --start;
    }
    const DecodedRune d = decode_rune(s.substr(start));
    if (start + d.width != end) {
        return {kRuneError, 1};
    }
    return d;
}

void append_rune(std::string& out, char32_t r) {
    if ((r >= 0xD800 && r <= 0xDFFF) || r > kMaxRune) {
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

bool is_print(char32_t r) {
    if (r < 0x80) {
        return r >= 0x20 && r < 0x7F;
    }
    return in_ranges(tables::kPrintRanges, r);
}

bool is_letter(char32_t r) {
    if (r < 0x80) {
        return (r >= U'a' && r <= U'z') || (r >= U'A' && r <= U'Z');
    }
    return in_ranges(tables::kLetterRanges, r);
}

bool is_digit(char32_t r) {
    if (r < 0x80) {
        return r >= U'0' && r <= U'9';
    }
    return in_ranges(tables::kDigitRanges, r);
}

namespace {

char32_t map_case(std::span<const tables::CasePair> pairs, char32_t r) {
    auto it = std::lower_bound(pairs.begin(), pairs.end(), r,
                               [](const tables::CasePair& p, char32_t v) { return p.from < v; });
    return it != pairs.end() && it->from == r ? it->to : r;
}

template <typename Map>
std::string map_string(std::string_view s, Map map) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const DecodedRune d = decode_rune(s.substr(i));
        append_rune(out, map(d.rune));
        i += d.width;
    }
    return out;
}

}  // namespace

char32_t to_lower(char32_t r) {
    if (r < 0x80) {
        return r >= U'A' && r <= U'Z' ? r + (U'a' - U'A') : r;
    }
    return map_case(tables::kLowerPairs, r);
}

char32_t to_upper(char32_t r) {
    if (r < 0x80) {
        return r >= U'a' && r <= U'z' ? r - (U'a' - U'A') : r;
    }
    return map_case(tables::kUpperPairs, r);
}

std::string to_lower(std::string_view s) {
    return map_string(s, [](char32_t r) { return to_lower(r); });
}

std::string to_upper(std::string_view s) {
    return map_string(s, [](char32_t r) { return to_upper(r); });
}

std::string_view trim_left_space(std::string_view s) {
    while (!s.empty()) {
        const DecodedRune d = decode_rune(s);
        if (!is_space(d.rune)) {
            break;
        }
        s.remove_prefix(d.width);
    }
    return s;
}

std::string_view trim_right_space(std::string_view s) {
    while (!s.empty()) {
        const DecodedRune d = decode_last_rune(s);
        if (!is_space(d.rune)) {
            break;
        }
        s.remove_suffix(d.width);
    }
    return s;
}

std::string_view trim_space(std::string_view s) {
    return trim_right_space(trim_left_space(s));
}

void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const DecodedRune d = decode_rune(s.substr(i));
        const unsigned char first = byte_at(s, i);
        i += d.width;
        if (d.width == 1 && d.rune == kRuneError) {
            append_hex_byte(out, first);
            continue;
        }
        const char32_t r = d.rune;
        if (r == U'"' || r == U'\\') {
            out += '\\';
            out += static_cast<char>(r);
            continue;
        }
        if (is_print(r)) {
            append_rune(out, r);
            continue;
        }
        switch (r) {
            case U'\a':
                out += "\\a";
                break;
            case U'\b':
                out += "\\b";
                break;
            case U'\f':
                out += "\\f";
                break;
            case U'\n':
                out += "\\n";
                break;
            case U'\r':
                out += "\\r";
                break;
            case U'\t':
                out += "\\t";
                break;
            case U'\v':
                out += "\\v";
                break;
            default:
                if (r < U' ' || r == 0x7F) {
                    append_hex_byte(out, static_cast<unsigned char>(r));
                } else if (r < 0x10000) {
                    out += "\\u";
                    append_hex(out, r, 4);
                } else {
                    out += "\\U";
                    append_hex(out, r, 8);
                }
                break;
        }
    }
    out += '"';
}

std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    append_quoted(out, s);
    return out;
}

std::string quote_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += ' ';
        }
        append_quoted(out, items[i]);
    }
    out += ']';
    return out;
}

}  // namespace xarch::util::go
