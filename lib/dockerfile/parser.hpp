// SPDX-License-Identifier: Apache-2.0
// The Dockerfile parser: text → a flat list of instruction nodes, exactly as BuildKit's
// frontend/dockerfile/parser does it (line continuations, comments, parser directives, heredocs,
// flags, and each instruction's own way of cutting its arguments). It does not interpret the
// instructions: unknown keywords are kept (check_instructions() reports them) and variables are
// not expanded. The next layer (typed instructions, stages, the build plan) reads this AST.
#pragma once

#include "heredoc.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::dockerfile {

// One instruction (BuildKit's parser.Node for a child of the root).
struct Instruction {
    std::string keyword;             // lower case ("run", "copy"); may be unknown, even empty
    std::string keyword_as_written;  // "RUN", "Run", as in the file
    // The logical line: physical lines joined with the escape characters that continued them
    // removed, comment and empty lines inside the continuation dropped; leading blanks removed.
    std::string original;
    std::vector<std::string> flags;  // "--from=build", before the arguments; quotes removed
    // The arguments, cut as the instruction's line parser does (see the README table):
    // FROM/EXPOSE split on blanks; RUN/CMD/ENTRYPOINT/SHELL one string (or the JSON strings);
    // ENV/LABEL name, value, separator triples; HEALTHCHECK the type then the command; unknown
    // instructions one empty string; ONBUILD none (see `children`).
    std::vector<std::string> args;
    // ONBUILD: the one instruction it registers as a trigger. Empty for every other keyword.
    std::vector<Instruction> children;
    // RUN, COPY and ADD (also as an ONBUILD trigger) in shell form: the here-documents the line
    // introduced, with their bodies. Attached to the top-level node, as in BuildKit.
    std::vector<Heredoc> heredocs;
    // The comment lines right before the instruction (after the `#`, trimmed), used by lint
    // rules and ARG descriptions.
    std::vector<std::string> comments;
    int start_line = 0;  // 1-based, the first physical line
    int end_line = 0;    // the last physical line consumed (continuations and heredoc bodies)
    bool json = false;   // the arguments came from a JSON array (exec form)

    // ONBUILD's trigger, or nullptr.
    const Instruction* trigger() const { return children.empty() ? nullptr : &children.front(); }
};

// A parser directive found at the top of the file (`# syntax=...`, `# escape=...`,
// `# check=...`): its lower-case name, its value and its line.
struct Directive {
    std::string name;
    std::string value;
    int line = 0;
};

// Something BuildKit accepts but warns about (today: empty lines inside a continuation).
struct Warning {
    std::string short_text;  // "Empty continuation line found in: RUN apt-get ..."
    std::string detail;      // "Empty continuation lines will become errors in a future release"
    std::string url;
    int line = 0;
};

struct ParseOptions {
    std::string file_name = "Dockerfile";  // used in error messages only
};

struct ParseResult {
    std::vector<Instruction> instructions;  // never empty
    int start_line = 0;                     // of the first instruction
    int end_line = 0;                       // of the last instruction
    char escape_token = '\\';               // '\\' or '`'
    std::vector<Directive> directives;
    std::vector<Warning> warnings;
    std::string file_name;
};

// The longest physical line BuildKit reads (bufio.Scanner's default token size, less one).
inline constexpr std::size_t kMaxLineLength = 65535;

// Parses a whole Dockerfile. Throws DockerfileError (code kInvalidArgument, with the file name
// and line) for what BuildKit's parser rejects: a file with no instructions, an invalid or
// repeated parser directive, ENV/LABEL without a value, a word without `=` in `ENV a=b c`, a JSON
// array holding non-strings, an unterminated heredoc, a line longer than kMaxLineLength, and
// (beyond BuildKit) ONBUILD nested more than kMaxOnbuildDepth deep. Runs in linear time; any byte
// sequence is accepted as input.
ParseResult parse(std::string_view text, const ParseOptions& options = {});

// What BuildKit's instructions layer rejects before looking at arguments: unknown instructions
// (with a suggestion: `unknown instruction: RUNN (did you mean RUN?)`) and flags an instruction
// does not take or takes differently (`unknown flag: --frm (did you mean from?)`,
// `missing a value on flag: --from`, `duplicate flag specified: --chown`, ...). Throws
// DockerfileError at the first problem.
void check_instructions(const ParseResult& result);

// BuildKit's Levenshtein-based suggestion: the closest of `options` within distance 2, matched
// to the case of `value` when `case_sensitive` is false; empty when none (or an exact match).
std::string suggest(std::string_view value,
                    const std::vector<std::string>& options,
                    bool case_sensitive);

}  // namespace xarch::dockerfile
