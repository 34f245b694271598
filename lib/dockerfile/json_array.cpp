// SPDX-License-Identifier: Apache-2.0
#include "json_array.hpp"

#include "util/go_text.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace xarch::dockerfile {

namespace {

// encoding/json's maxNestingDepth.
constexpr std::size_t kMaxDepth = 10000;

bool is_json_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The value of \uXXXX at s[pos] (pos at the backslash), or -1 when there is none.
long read_u4(std::string_view s, std::size_t pos) {
    if (pos + 6 > s.size() || s[pos] != '\\' || s[pos + 1] != 'u') {
        return -1;
    }
    long v = 0;
    for (std::size_t i = pos + 2; i < pos + 6; ++i) {
        const int h = util::hex_value(s[i]);
        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

class Reader {
public:
    explicit Reader(std::string_view text) : s_(text) {}

    void skip_space() {
        while (pos_ < s_.size() && is_json_space(s_[pos_])) {
            ++pos_;
        }
    }
    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return s_[pos_]; }
    void advance() { ++pos_; }

    // A string starting at the opening quote; its decoded text when `decoded` is given.
    // False on a syntax error.
    bool string(std::string* decoded) {
        ++pos_;  // the opening quote
        while (true) {
            if (pos_ >= s_.size()) {
                return false;
            }
            const char c = s_[pos_];
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (byte < 0x20) {
                return false;
            }
            if (c == '\\') {
                if (!escape(decoded)) {
                    return false;
                }
                continue;
            }
            if (byte < 0x80) {
                if (decoded != nullptr) {
                    *decoded += c;
                }
                ++pos_;
                continue;
            }
            // Invalid UTF-8 is not a syntax error; the decoder replaces it byte by byte.
            const util::go::DecodedRune d = util::go::decode_rune(s_.substr(pos_));
            if (decoded != nullptr) {
                if (d.rune == util::go::kRuneError && d.width == 1) {
                    util::go::append_rune(*decoded, util::go::kRuneError);
                } else {
                    decoded->append(s_.substr(pos_, d.width));
                }
            }
            pos_ += d.width;
        }
    }

    // A number per the JSON grammar. Sets `overflow` when it does not fit a float64, which
    // encoding/json reports as an UnmarshalTypeError when decoding into an interface.
    bool number(bool& overflow) {
        const std::size_t start = pos_;
        if (pos_ < s_.size() && s_[pos_] == '-') {
            ++pos_;
        }
        if (pos_ >= s_.size()) {
            return false;
        }
        if (s_[pos_] == '0') {
            ++pos_;
        } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
            while (pos_ < s_.size() && is_digit(s_[pos_])) {
                ++pos_;
            }
        } else {
            return false;
        }
        if (pos_ < s_.size() && s_[pos_] == '.') {
            ++pos_;
            if (pos_ >= s_.size() || !is_digit(s_[pos_])) {
                return false;
            }
            while (pos_ < s_.size() && is_digit(s_[pos_])) {
                ++pos_;
            }
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
                ++pos_;
            }
            if (pos_ >= s_.size() || !is_digit(s_[pos_])) {
                return false;
            }
            while (pos_ < s_.size() && is_digit(s_[pos_])) {
                ++pos_;
            }
        }
        overflow = overflows_double(s_.substr(start, pos_ - start));
        return true;
    }

    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) {
            return false;
        }
        pos_ += word.size();
        return true;
    }

private:
    bool escape(std::string* decoded) {
        if (pos_ + 1 >= s_.size()) {
            return false;
        }
        const char e = s_[pos_ + 1];
        char plain = 0;
        switch (e) {
            case '"':
            case '\\':
            case '/':
                plain = e;
                break;
            case 'b':
                plain = '\b';
                break;
            case 'f':
                plain = '\f';
                break;
            case 'n':
                plain = '\n';
                break;
            case 'r':
                plain = '\r';
                break;
            case 't':
                plain = '\t';
                break;
            case 'u': {
                const long r = read_u4(s_, pos_);
                if (r < 0) {
                    return false;
                }
                pos_ += 6;
                if (decoded == nullptr) {
                    return true;
                }
                char32_t rune = static_cast<char32_t>(r);
                if (r >= 0xD800 && r <= 0xDFFF) {
                    // A high surrogate followed by a low one is a pair; anything else is U+FFFD
                    // and the following escape, if any, is read on its own.
                    const long r2 = read_u4(s_, pos_);
                    if (r <= 0xDBFF && r2 >= 0xDC00 && r2 <= 0xDFFF) {
                        rune =
                            static_cast<char32_t>(0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00));
                        pos_ += 6;
                    } else {
                        rune = util::go::kRuneError;
                    }
                }
                util::go::append_rune(*decoded, rune);
                return true;
            }
            default:
                return false;
        }
        if (decoded != nullptr) {
            *decoded += plain;
        }
        pos_ += 2;
        return true;
    }

    // Whether strconv.ParseFloat(text, 64) fails with ErrRange (only overflow does: underflow
    // rounds to zero quietly). Decided from the decimal exponent where that is clear, and by
    // from_chars at the boundary.
    static bool overflows_double(std::string_view text) {
        std::size_t i = 0;
        if (i < text.size() && text[i] == '-') {
            ++i;
        }
        // Position of the first significant digit relative to the decimal point.
        long long magnitude = 0;
        bool seen_nonzero = false;
        bool after_point = false;
        long long int_digits = 0;
        long long leading_fraction_zeros = 0;
        for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
            const char c = text[i];
            if (c == '.') {
                after_point = true;
                continue;
            }
            if (!after_point) {
                if (seen_nonzero || c != '0') {
                    seen_nonzero = true;
                    ++int_digits;
                }
            } else if (!seen_nonzero) {
                if (c == '0') {
                    ++leading_fraction_zeros;
                } else {
                    seen_nonzero = true;
                }
            }
        }
        if (!seen_nonzero) {
            return false;  // zero
        }
        magnitude = int_digits > 0 ? int_digits - 1 : -(leading_fraction_zeros + 1);
        long long exponent = 0;
        if (i < text.size()) {
            ++i;
            bool negative = false;
            if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
                negative = text[i] == '-';
                ++i;
            }
            for (; i < text.size(); ++i) {
                if (exponent < 1000000) {
                    exponent = exponent * 10 + (text[i] - '0');
                }
            }
            if (negative) {
                exponent = -exponent;
            }
        }
        const long long decimal_exponent = magnitude + exponent;
        if (decimal_exponent < 308) {
            return false;
        }
        if (decimal_exponent > 308) {
            return true;
        }
        double value = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        (void)ptr;
        return ec == std::errc::result_out_of_range;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

enum class Container : std::uint8_t { kArray, kObject };

}  // namespace

bool walk_json(std::string_view text, JsonKind& top, const JsonMemberFn& on_member) {
    Reader in(text);
    std::vector<Container> stack;
    std::string key;  // of the current member of a top-level object

    // Reads an object key (at the opening quote), then the colon. Keys of the top-level object
    // are decoded for the visitor.
    auto read_key = [&]() {
        in.skip_space();
        if (in.at_end() || in.peek() != '"') {
            return false;
        }
        if (stack.size() == 1) {
            key.clear();
        }
        if (!in.string(stack.size() == 1 ? &key : nullptr)) {
            return false;
        }
        in.skip_space();
        if (in.at_end() || in.peek() != ':') {
            return false;
        }
        in.advance();
        return true;
    };

    // One value at a time; containers push onto `stack` instead of recursing. After each
    // complete value the enclosing container decides what may follow.
    bool expect_value = true;
    while (true) {
        in.skip_space();
        if (expect_value) {
            if (in.at_end()) {
                return false;
            }
            const bool member = stack.size() == 1;
            const char c = in.peek();
            JsonKind kind = JsonKind::kNull;
            std::string decoded;
            if (c == '[' || c == '{') {
                in.advance();
                if (stack.size() >= kMaxDepth) {
                    return false;
                }
                kind = c == '[' ? JsonKind::kArray : JsonKind::kObject;
                if (stack.empty()) {
                    top = kind;
                } else if (member) {
                    on_member(key, kind, decoded);
                }
                stack.push_back(c == '[' ? Container::kArray : Container::kObject);
                in.skip_space();
                if (in.at_end()) {
                    return false;
                }
                if (in.peek() == (c == '[' ? ']' : '}')) {
                    in.advance();
                    stack.pop_back();
                    expect_value = false;
                    continue;
                }
                if (c == '{' && !read_key()) {
                    return false;
                }
                continue;  // the first element or member value
            }
            if (c == '"') {
                kind = JsonKind::kString;
                if (!in.string(member || stack.empty() ? &decoded : nullptr)) {
                    return false;
                }
            } else if (c == '-' || is_digit(c)) {
                kind = JsonKind::kNumber;
                bool overflow = false;
                if (!in.number(overflow) || overflow) {
                    return false;
                }
            } else if (c == 't' || c == 'f') {
                kind = JsonKind::kBool;
                if (!in.literal(c == 't' ? "true" : "false")) {
                    return false;
                }
            } else if (c == 'n') {
                if (!in.literal("null")) {
                    return false;
                }
            } else {
                return false;
            }
            if (stack.empty()) {
                top = kind;
            } else if (member) {
                on_member(key, kind, decoded);
            }
            expect_value = false;
            continue;
        }
        // A value just ended.
        if (stack.empty()) {
            return in.at_end();  // only white space may follow the document
        }
        if (in.at_end()) {
            return false;
        }
        const char c = in.peek();
        in.advance();
        if (c == (stack.back() == Container::kArray ? ']' : '}')) {
            stack.pop_back();
            continue;
        }
        if (c != ',') {
            return false;
        }
        if (stack.back() == Container::kObject && !read_key()) {
            return false;
        }
        expect_value = true;
    }
}

JsonArray parse_json_array(std::string_view text) {
    JsonArray result;
    text = util::go::trim_left_space(text);
    if (text.empty() || text.front() != '[') {
        return result;
    }
    bool all_strings = true;
    std::vector<std::string> values;
    JsonKind top = JsonKind::kNull;
    const bool valid =
        walk_json(text, top, [&](std::string_view, JsonKind kind, std::string& decoded) {
            if (kind == JsonKind::kString) {
                values.push_back(std::move(decoded));
            } else {
                all_strings = false;
            }
        });
    if (!valid) {
        return result;
    }
    if (!all_strings) {
        result.status = JsonArrayStatus::kNotStringArray;
        return result;
    }
    result.status = JsonArrayStatus::kStrings;
    result.values = std::move(values);
    return result;
}

std::optional<std::string> json_object_string(std::string_view text, std::string_view key) {
    std::optional<std::string> found;
    JsonKind top = JsonKind::kNull;
    bool is_string = false;
    const bool valid =
        walk_json(text, top, [&](std::string_view k, JsonKind kind, std::string& decoded) {
            if (k == key) {  // a repeated key: the last one wins, as in a Go map
                is_string = kind == JsonKind::kString;
                found = std::move(decoded);
            }
        });
    if (!valid || top != JsonKind::kObject || !found || !is_string) {
        return std::nullopt;
    }
    return found;
}

}  // namespace xarch::dockerfile
