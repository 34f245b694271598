// SPDX-License-Identifier: Apache-2.0
// moby/patternmatcher's patternmatcher.go, reimplemented on Unix ('/' separator).
#include "context/pattern_matcher.hpp"

#include "context/filepath_match.hpp"
#include "util/go_text.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::context {
namespace {

using util::go::kEof;
using util::go::RuneScanner;

// shouldEscape: regexp metacharacters that mean nothing to filepath.Match.
bool should_escape(char32_t c) {
    switch (c) {
        case U'.':
        case U'+':
        case U'(':
        case U')':
        case U'|':
        case U'{':
        case U'}':
        case U'$':
            return true;
        default:
            return false;
    }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const std::size_t at = s.find(sep);
        if (at == std::string_view::npos) {
            out.push_back(s);
            return out;
        }
        out.push_back(s.substr(0, at));
        s.remove_prefix(at + 1);
    }
}

// The first `count` components of `dirs`, joined with '/'.
std::string join_prefix(const std::vector<std::string_view>& dirs, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) {
            out += '/';
        }
        out.append(dirs[i]);
    }
    return out;
}

[[noreturn]] void throw_bad_pattern(std::string_view pattern) {
    throw Error(ErrorCode::kInvalidArgument, "syntax error in pattern " + util::quote(pattern));
}

}  // namespace

// ---- Pattern ----

Pattern::Pattern(std::string cleaned, bool exclusion)
    : cleaned_(std::move(cleaned)), exclusion_(exclusion) {
    depth_ = split(cleaned_, '/').size();

    // compile(): the pattern becomes an exact path, a prefix, a suffix or a regular expression.
    // Character classes and escapes are passed to the expression as written.
    std::u32string expr = U"^";
    Type type = Type::kExact;
    RuneScanner scan(cleaned_);
    for (std::size_t i = 0; scan.peek() != kEof; ++i) {
        const char32_t ch = scan.next();
        if (ch == U'*') {
            if (scan.peek() == U'*') {
                scan.next();
                // "**/" is "**".
                if (scan.peek() == U'/') {
                    scan.next();
                }
                if (scan.peek() == kEof) {
                    // A trailing "**" matches everything below, as in .gitignore.
                    if (type == Type::kExact) {
                        type = Type::kPrefix;
                    } else {
                        expr += U".*";
                        type = Type::kRegexp;
                    }
                } else {
                    // Any number of directories, including none.
                    expr += U"(.*/)?";
                    type = Type::kRegexp;
                }
                if (i == 0) {
                    type = Type::kSuffix;
                }
            } else {
                expr += U"[^/]*";
                type = Type::kRegexp;
            }
        } else if (ch == U'?') {
            expr += U"[^/]";
            type = Type::kRegexp;
        } else if (should_escape(ch)) {
            expr += U'\\';
            expr += ch;
        } else if (ch == U'\\') {
            if (scan.peek() != kEof) {
                expr += U'\\';
                expr += scan.next();
                type = Type::kRegexp;
            } else {
                expr += U'\\';
            }
        } else if (ch == U'[' || ch == U']') {
            expr += ch;
            type = Type::kRegexp;
        } else {
            expr += ch;
        }
    }
    if (type == Type::kRegexp) {
        expr += U'$';
        for (const char32_t c : expr) {
            util::go::append_rune(expression_, c);
        }
        std::string error;
        std::optional<go::Regexp> re = go::Regexp::compile(expr, error);
        if (!re) {
            // Stays bad: every match reports ErrBadPattern (moby/patternmatcher#9).
            type = Type::kBad;
        } else {
            regexp_ = std::make_shared<const go::Regexp>(std::move(*re));
        }
    }
    type_ = type;
}

std::optional<bool> Pattern::match(std::string_view path) const {
    switch (type_) {
        case Type::kExact:
            return path == cleaned_;
        case Type::kPrefix: {
            // The pattern without its trailing "**".
            const std::string_view prefix =
                std::string_view(cleaned_).substr(0, cleaned_.size() - 2);
            return path.substr(0, prefix.size()) == prefix;
        }
        case Type::kSuffix: {
            const std::string_view suffix = std::string_view(cleaned_).substr(2);
            if (path.size() >= suffix.size() &&
                path.substr(path.size() - suffix.size()) == suffix) {
                return true;
            }
            // "**/foo" also matches "foo".
            return suffix[0] == '/' && path == suffix.substr(1);
        }
        case Type::kRegexp:
            return regexp_->match(path);
        case Type::kBad:
            return std::nullopt;
    }
    return std::nullopt;
}

std::string_view Pattern::match_type() const {
    switch (type_) {
        case Type::kExact:
            return "exact";
        case Type::kPrefix:
            return "prefix";
        case Type::kSuffix:
            return "suffix";
        case Type::kRegexp:
            return "regexp";
        case Type::kBad:
            return "bad";
    }
    return "bad";
}

// ---- PatternMatcher ----

PatternMatcher::PatternMatcher(const std::vector<std::string>& patterns) {
    patterns_.reserve(patterns.size());
    for (const std::string& raw : patterns) {
        const std::string_view trimmed = util::go::trim_space(raw);
        if (trimmed.empty()) {
            continue;
        }
        std::string p = clean_path(trimmed);
        bool exclusion = false;
        if (p[0] == '!') {
            if (p.size() == 1) {
                throw Error(ErrorCode::kInvalidArgument, "illegal exclusion pattern: \"!\"");
            }
            exclusion = true;
            p.erase(0, 1);
            exclusions_ = true;
        }
        // filepath.Match's own syntax check, as New does it; some invalid patterns pass it and
        // fail only when matched.
        if (!filepath_match(p, ".")) {
            throw_bad_pattern(p);
        }
        patterns_.emplace_back(std::move(p), exclusion);
    }
}

bool PatternMatcher::match_or_throw(const Pattern& pattern, std::string_view path) const {
    const std::optional<bool> m = pattern.match(path);
    if (!m) {
        throw_bad_pattern(pattern.text());
    }
    return *m;
}

bool PatternMatcher::matches_or_parent_matches(std::string_view file) const {
    bool matched = false;
    const std::string parent_path = dir_path(file);
    const std::vector<std::string_view> parent_dirs = split(parent_path, '/');
    for (const Pattern& pattern : patterns_) {
        // An include is only tried while unmatched, an exception only while matched.
        if (pattern.exclusion() != matched) {
            continue;
        }
        bool match = match_or_throw(pattern, file);
        if (!match && parent_path != ".") {
            for (std::size_t i = 0; i < parent_dirs.size() && !match; ++i) {
                // Errors on parents are ignored, as upstream does.
                match = pattern.match(join_prefix(parent_dirs, i + 1)).value_or(false);
            }
        }
        if (match) {
            matched = !pattern.exclusion();
        }
    }
    return matched;
}

bool PatternMatcher::matches(std::string_view file) const {
    bool matched = false;
    const std::string parent_path = dir_path(file);
    const std::vector<std::string_view> parent_dirs = split(parent_path, '/');
    for (const Pattern& pattern : patterns_) {
        if (pattern.exclusion() != matched) {
            continue;
        }
        bool match = match_or_throw(pattern, file);
        if (!match && parent_path != "." && pattern.depth() <= parent_dirs.size()) {
            match = pattern.match(join_prefix(parent_dirs, pattern.depth())).value_or(false);
        }
        if (match) {
            matched = !pattern.exclusion();
        }
    }
    return matched;
}

bool PatternMatcher::matches_using_parent_results(std::string_view file,
                                                  const MatchInfo& parent,
                                                  MatchInfo& info) const {
    const std::vector<bool>& parent_matched = parent.parent_matched;
    if (!parent_matched.empty() && parent_matched.size() != patterns_.size()) {
        throw Error(ErrorCode::kInternal, "wrong number of values in parentMatched");
    }
    bool matched = false;
    info.parent_matched.assign(patterns_.size(), false);
    for (std::size_t i = 0; i < patterns_.size(); ++i) {
        const Pattern& pattern = patterns_[i];
        // A pattern the parent matched matches here too without checking.
        bool match = !parent_matched.empty() && parent_matched[i];
        if (!match) {
            if (pattern.exclusion() != matched) {
                continue;
            }
            match = match_or_throw(pattern, file);
            if (!match && parent_matched.empty()) {
                // No parent information: check the parents as MatchesOrParentMatches does.
                const std::string parent_path = dir_path(file);
                if (parent_path != ".") {
                    const std::vector<std::string_view> dirs = split(parent_path, '/');
                    for (std::size_t k = 0; k < dirs.size() && !match; ++k) {
                        match = pattern.match(join_prefix(dirs, k + 1)).value_or(false);
                    }
                }
            }
        }
        info.parent_matched[i] = match;
        if (match) {
            matched = !pattern.exclusion();
        }
    }
    return matched;
}

// ---- package-level functions ----

bool matches(std::string_view file, const std::vector<std::string>& patterns) {
    const PatternMatcher pm(patterns);
    const std::string cleaned = clean_path(file);
    if (cleaned == ".") {
        // Excluding the whole context is never what was meant.
        return false;
    }
    return pm.matches(cleaned);
}

bool matches_or_parent_matches(std::string_view file, const std::vector<std::string>& patterns) {
    const PatternMatcher pm(patterns);
    const std::string cleaned = clean_path(file);
    if (cleaned == ".") {
        return false;
    }
    return pm.matches_or_parent_matches(cleaned);
}

}  // namespace xarch::context
