// SPDX-License-Identifier: Apache-2.0
// One logical Dockerfile line → an instruction node: the keyword, the `--flags` before the
// arguments, and the arguments as each instruction's BuildKit line parser cuts them (see the table
// in shared/conformance/dockerfile-parser/README.md). Errors are thrown as xarch::Error
// (kInvalidArgument) without a location; the parser adds the file and line.
#pragma once

#include "parser.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace xarch::dockerfile {

struct SplitLine {
    std::string_view keyword;        // as written
    std::vector<std::string> flags;  // quotes and escapes removed
    std::string_view rest;           // the arguments, trimmed
};

// BuildKit's splitCommand: trim, cut the keyword at the first run of [\t\v\f\r ], then take the
// words starting with `--` off the front (a bare `--` ends them and is dropped).
SplitLine split_command(std::string_view line, char escape);

// BuildKit's parseWords, used by ENV, LABEL and ARG: split at Unicode white space outside quotes,
// keeping quotes and escapes in the words.
std::vector<std::string> parse_words(std::string_view rest, char escape);

// BuildKit's split on the regular expression [\t\v\f\r ]+ (a leading or trailing run gives an
// empty piece); at most `limit` pieces when limit > 0.
std::vector<std::string> split_whitespace(std::string_view text, std::size_t limit = 0);

// Builds the node for one logical line (newNodeFromLine): keyword, flags, arguments, the
// exec-form flag, and for ONBUILD the nested instruction. `depth` counts ONBUILD nesting; past
// kMaxOnbuildDepth the line is refused instead of recursing further.
Instruction node_from_line(std::string_view line, char escape, int depth = 0);

inline constexpr int kMaxOnbuildDepth = 16;

}  // namespace xarch::dockerfile
