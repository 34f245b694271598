// SPDX-License-Identifier: Apache-2.0
// The few pieces of Go's unicode/utf8, unicode and strings that moby/patternmatcher's results
// depend on: invalid UTF-8 decodes to U+FFFD one byte at a time, and strings.TrimSpace trims
// Unicode white space (U+0085, U+00A0, U+3000...), not only ASCII.
// lib/dockerfile has a fuller set (dockerfile/go_text.hpp); modules depend downward only, so the
// context module keeps its own copy of these until they move to lib/util.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xarch::context::go {

inline constexpr char32_t kRuneError = 0xFFFD;

struct DecodedRune {
    char32_t rune;
    std::size_t width;  // 1..4; 1 for an invalid byte; 0 only for empty input
};

// utf8.DecodeRuneInString.
DecodedRune decode_rune(std::string_view s);
// utf8.DecodeLastRuneInString.
DecodedRune decode_last_rune(std::string_view s);
// utf8.AppendRune: surrogates and values past U+10FFFF become U+FFFD.
void append_rune(std::string& out, char32_t r);
// unicode.IsSpace.
bool is_space(char32_t r);
// strings.TrimSpace.
std::string_view trim_space(std::string_view s);

}  // namespace xarch::context::go
