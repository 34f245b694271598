// SPDX-License-Identifier: Apache-2.0
// Parser directives: `# syntax=...`, `# escape=...` and `# check=...` comment lines at the very
// top of a Dockerfile, as BuildKit's DirectiveParser reads them. Also BuildKit's DetectSyntax,
// which looks for the syntax directive in `#` or `//` comments or in a JSON document.
#pragma once

#include "parser.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::dockerfile {

// Reads directives line by line until the first line that is not one (a non-comment, an empty
// line, a comment that is not `key=value`, or an unknown key); from then on it finds none.
class DirectiveParser {
public:
    // `comment` is the prefix of directive lines ("#", or "//" for DetectSyntax); `line` is the
    // number of lines already consumed before the first one passed in.
    explicit DirectiveParser(std::string comment = "#", int line = 0)
        : comment_(std::move(comment)), line_(line) {}

    // One physical line without its newline. Returns the directive it holds, if any; throws
    // xarch::Error (kInvalidArgument) "only one NAME parser directive can be used" on a repeat.
    std::optional<Directive> parse_line(std::string_view line);

    bool done() const noexcept { return done_; }

private:
    std::string comment_;
    int line_;
    bool done_ = false;
    std::set<std::string> seen_;
};

// DirectiveParser.ParseAll: the directives at the top of `text` (lines split at \n, a trailing
// \r dropped). A repeated directive ends the scan; the ones before it are returned.
std::vector<Directive> parse_directives(std::string_view text);

struct SyntaxDirective {
    std::string ref;      // the value up to its first space ("docker/dockerfile:1")
    std::string cmdline;  // the whole value
    int line = 0;
};

// DetectSyntax: the `syntax` directive in `#` comments, else in `//` comments, else the "syntax"
// string of a JSON object document. A UTF-8 BOM and a first `#!` line are skipped.
std::optional<SyntaxDirective> detect_syntax(std::string_view text);

// ParseDirective: directive `key` ("check", ...) in `#` comments only.
std::optional<SyntaxDirective> parse_directive(std::string_view key, std::string_view text);

// `s` without a leading UTF-8 byte-order mark.
std::string_view discard_bom(std::string_view s);

}  // namespace xarch::dockerfile
