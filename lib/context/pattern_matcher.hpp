// SPDX-License-Identifier: Apache-2.0
// moby/patternmatcher: the .dockerignore (and COPY --exclude) matcher BuildKit uses through
// fsutil. Patterns are read in order; a pattern matches a path when it matches the path itself
// or any of its parent directories; a later `!exception` can re-include what an earlier pattern
// excluded, and the last relevant pattern wins.
#pragma once

#include "context/go_regexp.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::context {

// One compiled pattern. Like patternmatcher's, it is classified as an exact path, a prefix
// ("dir/**"), a suffix ("**/name") or a regular expression, and that choice decides some edge
// cases (an exact pattern is compared byte for byte, "**x" matches "dirx").
class Pattern {
public:
    Pattern(std::string cleaned, bool exclusion);

    // The cleaned pattern without its '!' (Pattern.String()).
    const std::string& text() const { return cleaned_; }
    bool exclusion() const { return exclusion_; }
    // How many '/'-separated components the pattern has.
    std::size_t depth() const { return depth_; }

    // Whether `path` (cleaned, '/'-separated) matches. nullopt is Go's ErrBadPattern: a pattern
    // that passed New's filepath.Match check but is not a valid Go regular expression, such as
    // "[Local-Only]" (its range l-O is reversed).
    std::optional<bool> match(std::string_view path) const;

    // How the pattern is matched: "exact", "prefix", "suffix", "regexp", or "bad" (a regular
    // expression Go rejects); and for the last two the expression (UTF-8), for diagnostics.
    std::string_view match_type() const;
    const std::string& expression() const { return expression_; }

private:
    enum class Type { kExact, kPrefix, kSuffix, kRegexp, kBad };

    std::string cleaned_;
    bool exclusion_;
    std::size_t depth_;
    Type type_ = Type::kExact;
    std::string expression_;
    std::shared_ptr<const go::Regexp> regexp_;
};

// patternmatcher.PatternMatcher.
class PatternMatcher {
public:
    // New: patterns are trimmed (Unicode white space), empty ones dropped, the rest cleaned; a
    // leading '!' makes an exception. Throws xarch::Error (kInvalidArgument) for a lone "!" and
    // for a pattern filepath.Match rejects.
    explicit PatternMatcher(const std::vector<std::string>& patterns);

    // MatchesOrParentMatches: whether `file` is matched, by itself or through a parent directory.
    // Throws xarch::Error when a pattern that had to be tried cannot be compiled.
    bool matches_or_parent_matches(std::string_view file) const;

    // Matches (deprecated upstream, still what its package-level Matches uses): like the above,
    // but a pattern is tried against only one parent: the one with as many components as it.
    bool matches(std::string_view file) const;

    // The per-pattern results for a directory, handed to its children so that they need not
    // re-check parents (MatchInfo). Empty means "no information": parents are then checked.
    struct MatchInfo {
        std::vector<bool> parent_matched;
    };
    // MatchesUsingParentResults. `info` receives this path's results for its children.
    bool matches_using_parent_results(std::string_view file,
                                      const MatchInfo& parent,
                                      MatchInfo& info) const;

    // Whether any pattern is an exception (Exclusions()).
    bool has_exclusions() const { return exclusions_; }
    const std::vector<Pattern>& patterns() const { return patterns_; }

private:
    bool match_or_throw(const Pattern& pattern, std::string_view path) const;

    std::vector<Pattern> patterns_;
    bool exclusions_ = false;
};

// The package-level functions: `file` is cleaned first, and a path that cleans to "." is never
// matched. Both throw xarch::Error for invalid patterns.
bool matches(std::string_view file, const std::vector<std::string>& patterns);
bool matches_or_parent_matches(std::string_view file, const std::vector<std::string>& patterns);

}  // namespace xarch::context
