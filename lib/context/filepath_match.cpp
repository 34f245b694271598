// SPDX-License-Identifier: Apache-2.0
// path/filepath's match.go and path.go (Unix), reimplemented: the byte-by-byte details (a '*'
// skips bytes, not runes; '?' and classes decode one rune) decide what a pattern matches.
#include "context/filepath_match.hpp"

#include "util/go_text.hpp"

#include <string>
#include <string_view>

namespace xarch::context {
namespace {

struct Chunk {
    bool star;
    std::string_view chunk;
    std::string_view rest;
};

// scanChunk: the next run of non-star pattern, with whether stars preceded it. A '*' inside a
// class does not end the chunk; an escaped character is skipped over.
Chunk scan_chunk(std::string_view pattern) {
    bool star = false;
    while (!pattern.empty() && pattern[0] == '*') {
        pattern.remove_prefix(1);
        star = true;
    }
    bool in_range = false;
    std::size_t i = 0;
    for (; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            if (i + 1 < pattern.size()) {
                ++i;
            }
        } else if (c == '[') {
            in_range = true;
        } else if (c == ']') {
            in_range = false;
        } else if (c == '*' && !in_range) {
            break;
        }
    }
    return {star, pattern.substr(0, i), pattern.substr(i)};
}

// getEsc: one possibly escaped character of a class; an error when it is missing, is '-' or
// ']', is invalid UTF-8, or is the last thing in the pattern.
bool get_esc(std::string_view& chunk, char32_t& r) {
    if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') {
        return false;
    }
    if (chunk[0] == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) {
            return false;
        }
    }
    const util::go::DecodedRune d = util::go::decode_rune(chunk);
    chunk.remove_prefix(d.width);
    r = d.rune;
    return !(d.rune == util::go::kRuneError && d.width == 1) && !chunk.empty();
}

struct ChunkResult {
    bool bad;  // ErrBadPattern
    bool ok;   // the chunk matched a prefix of s
    std::string_view rest;
};

// matchChunk: whether `chunk` matches the start of `s`. Once the match has failed it goes on
// parsing the chunk, so that syntax errors are reported either way.
ChunkResult match_chunk(std::string_view chunk, std::string_view s) {
    bool failed = false;
    while (!chunk.empty()) {
        if (!failed && s.empty()) {
            failed = true;
        }
        switch (chunk[0]) {
            case '[': {
                char32_t r = 0;
                if (!failed) {
                    const util::go::DecodedRune d = util::go::decode_rune(s);
                    r = d.rune;
                    s.remove_prefix(d.width);
                }
                chunk.remove_prefix(1);
                bool negated = false;
                if (!chunk.empty() && chunk[0] == '^') {
                    negated = true;
                    chunk.remove_prefix(1);
                }
                bool match = false;
                int ranges = 0;
                for (;;) {
                    if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
                        chunk.remove_prefix(1);
                        break;
                    }
                    char32_t lo = 0;
                    if (!get_esc(chunk, lo)) {
                        return {true, false, {}};
                    }
                    char32_t hi = lo;
                    if (chunk[0] == '-') {
                        chunk.remove_prefix(1);
                        if (!get_esc(chunk, hi)) {
                            return {true, false, {}};
                        }
                    }
                    if (lo <= r && r <= hi) {
                        match = true;
                    }
                    ++ranges;
                }
                if (match == negated) {
                    failed = true;
                }
                break;
            }
            case '?':
                if (!failed) {
                    if (s[0] == '/') {
                        failed = true;
                    }
                    s.remove_prefix(util::go::decode_rune(s).width);
                }
                chunk.remove_prefix(1);
                break;
            case '\\':
                chunk.remove_prefix(1);
                if (chunk.empty()) {
                    return {true, false, {}};
                }
                [[fallthrough]];
            default:
                if (!failed) {
                    if (chunk[0] != s[0]) {
                        failed = true;
                    }
                    s.remove_prefix(1);
                }
                chunk.remove_prefix(1);
                break;
        }
    }
    if (failed) {
        return {false, false, {}};
    }
    return {false, true, s};
}

}  // namespace

std::optional<bool> filepath_match(std::string_view pattern, std::string_view name) {
    while (!pattern.empty()) {
        const Chunk c = scan_chunk(pattern);
        pattern = c.rest;
        if (c.star && c.chunk.empty()) {
            // A trailing star matches the rest unless it holds a '/'.
            return name.find('/') == std::string_view::npos;
        }
        const ChunkResult here = match_chunk(c.chunk, name);
        if (here.ok && (here.rest.empty() || !pattern.empty())) {
            name = here.rest;
            continue;
        }
        if (here.bad) {
            return std::nullopt;
        }
        bool advanced = false;
        if (c.star) {
            // The star takes i+1 bytes (never a '/') before the chunk is tried again.
            for (std::size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
                const ChunkResult later = match_chunk(c.chunk, name.substr(i + 1));
                if (later.ok) {
                    if (pattern.empty() && !later.rest.empty()) {
                        continue;
                    }
                    name = later.rest;
                    advanced = true;
                    break;
                }
                if (later.bad) {
                    return std::nullopt;
                }
            }
        }
        if (advanced) {
            continue;
        }
        // No match: the rest of the pattern must still be well formed.
        while (!pattern.empty()) {
            const Chunk next = scan_chunk(pattern);
            pattern = next.rest;
            if (match_chunk(next.chunk, {}).bad) {
                return std::nullopt;
            }
        }
        return false;
    }
    return name.empty();
}

std::string dir_path(std::string_view path) {
    std::size_t i = path.size();
    while (i > 0 && path[i - 1] != '/') {
        --i;
    }
    return clean_path(path.substr(0, i));
}

}  // namespace xarch::context
