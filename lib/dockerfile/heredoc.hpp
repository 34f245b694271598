// SPDX-License-Identifier: Apache-2.0
// Here-documents (`RUN <<EOF`, `COPY <<-'FILE' /dest`): finding them on an instruction line and
// reading their names, as BuildKit does. BuildKit runs its shell lexer over the line with no
// variables set (unset ones are kept as written) to find the words; this file carries a faithful
// copy of just that mode of the lexer, so the parser does not depend on the word expander.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::dockerfile {

struct Heredoc {
    std::string name;     // the delimiter word, quotes removed
    std::string content;  // the body as written, each line with its newline; tabs not stripped
    std::uint64_t file_descriptor = 0;  // `3<<EOF` → 3; 0 when none was written
    bool expand = true;                 // false when any part of the delimiter was quoted
    bool chomp = false;                 // `<<-`: leading tabs are stripped when the body is used
};

// BuildKit's ParseHeredoc on one word: nullopt when the word is not a heredoc (`<<`, `<EOF`,
// `<<EOF sh`); throws xarch::Error (kInvalidArgument) when it is one but cannot be lexed, such as
// an unterminated quote in `<<'EOF`.
std::optional<Heredoc> parse_heredoc(std::string_view word);

// The heredocs introduced on an instruction line, in order, with empty content. A line that the
// lexer cannot split (an unterminated quote) has none, as in BuildKit. Throws as lex_words and
// parse_heredoc do.
std::vector<Heredoc> heredocs_from_line(std::string_view line);

// The body with the leading tabs of every line removed (what `<<-` asks for).
std::string chomp_heredoc_content(std::string_view content);

// Shell-like word splitting as BuildKit's lexer does it with no variables set and unset ones
// kept: quotes removed unless `raw_quotes`, escapes removed unless `raw_escapes`. nullopt when the
// text cannot be lexed (unterminated quote, bad `${...}`). Throws xarch::Error when `${` nests
// more than 64 deep, where BuildKit's recursive lexer would go on. Exposed for tests.
std::optional<std::vector<std::string>> lex_words(std::string_view text,
                                                  bool raw_quotes,
                                                  bool raw_escapes,
                                                  std::string* error = nullptr);

}  // namespace xarch::dockerfile
