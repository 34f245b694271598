// SPDX-License-Identifier: Apache-2.0
#include "util/quote.hpp"

namespace xarch::util {

namespace {
constexpr std::size_t kMaxQuoted = 80;
}  // namespace

std::string quote(std::string_view text) {
    constexpr std::string_view kHex = "0123456789abcdef";
    const std::string_view shown = text.substr(0, kMaxQuoted);
    std::string out = "\"";
    for (char c : shown) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        }
    }
    if (shown.size() < text.size()) {
        out += "...\" (" + std::to_string(text.size()) + " bytes)";
    } else {
        out += '"';
    }
    return out;
}

}  // namespace xarch::util
