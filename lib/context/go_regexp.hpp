// SPDX-License-Identifier: Apache-2.0
// The part of Go's regexp package that moby/patternmatcher relies on. patternmatcher turns a
// .dockerignore pattern into a Go regular expression, passing the user's character classes and
// backslash escapes through untouched, so what a pattern like `[[:alpha:]]`, `a\d` or
// `[Local-Only]` means (or whether it is an error) is decided by Go's regexp syntax.
//
// Supported: literals, '.', '^' and '$' (whole-text anchors, as Perl flags make them), groups,
// '|', '*', '+' and '?' (greedy or lazy), character classes with ranges, negation, escapes,
// POSIX [:name:] classes and the Perl classes \d \s \w (and negations), the escapes \a \f \n \r
// \t \v, octal and \x, \A \z \b \B and \Q...\E. Not supported, reported as an error: Unicode
// classes (\pL, \p{Greek}), flag groups (?i) and counted repetition, which patternmatcher never
// produces unescaped except through \p.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::context::go {

class Regexp {
public:
    // regexp.Compile of `expr` (given as runes). nullopt and a message in `error` when Go's
    // parser would reject it.
    static std::optional<Regexp> compile(std::u32string_view expr, std::string& error);

    // regexp.MatchString: whether the expression matches anywhere in `text`. Time is
    // O(text × expression); no backtracking.
    bool match(std::string_view text) const;

    enum class Op : std::uint8_t {
        kMatch,
        kRune,       // a class: `ranges`
        kAnyNotNL,   // '.'
        kSplit,      // to `out` and to `arg`
        kBeginText,  // empty-width assertions, then `out`
        kEndText,
        kWordBoundary,
        kNoWordBoundary,
    };
    struct Inst {
        Op op;
        std::uint32_t out = 0;
        std::uint32_t arg = 0;
        std::vector<char32_t> ranges;  // kRune: sorted, disjoint [lo, hi] pairs
    };

private:
    std::vector<Inst> prog_;
    std::uint32_t start_ = 0;
};

}  // namespace xarch::context::go
