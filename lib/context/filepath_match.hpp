// SPDX-License-Identifier: Apache-2.0
// Go's path/filepath functions on Unix that .dockerignore handling and COPY sources are defined
// by: Match (shell patterns), Clean and Dir. Paths are '/'-separated byte strings.
#pragma once

#include "util/path.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace xarch::context {

// filepath.Match: whether all of `name` matches `pattern`:
//   '*' any run of non-'/' bytes, '?' one non-'/' character, '[' ['^'] { c | c-c } ']' a
//   non-empty character class, '\\' c the character c.
// nullopt is Go's ErrBadPattern ("syntax error in pattern"): an unclosed or empty class, a bad
// range or escape, a trailing backslash. As in Go 1.16+, a pattern is checked to its end even
// when the match fails early, except after a trailing '*'.
std::optional<bool> filepath_match(std::string_view pattern, std::string_view name);

// filepath.Clean, shared with the platform module.
using util::clean_path;

// filepath.Dir: everything before the last '/', cleaned ("a/b" → "a", "a" → ".", "/a" → "/").
std::string dir_path(std::string_view path);

}  // namespace xarch::context
