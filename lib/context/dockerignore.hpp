// SPDX-License-Identifier: Apache-2.0
// Reading .dockerignore files as BuildKit does: moby/patternmatcher's ignorefile.ReadAll, and
// the choice between `<Dockerfile>.dockerignore` and the context's `.dockerignore`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::context {

inline constexpr std::string_view kDockerignoreName = ".dockerignore";

// ignorefile.ReadAll: the patterns of an ignore file, in order. A UTF-8 BOM is dropped; lines
// are split at '\n' (a '\r' before it dropped); a line starting with '#' is a comment; the rest
// are trimmed of white space, skipped when empty, filepath.Clean'ed and stripped of one leading
// '/', a '!' prefix kept (and trimmed after). A lone "!" is returned as is: PatternMatcher
// rejects it. Throws xarch::Error when a line is longer than 65535 bytes (Go's bufio.Scanner
// limit, which makes BuildKit fail the build).
std::vector<std::string> read_ignore_patterns(std::string_view content);

// The ignore file a build uses (BuildKit's dockerui): `<dockerfile>.dockerignore` next to the
// Dockerfile when it exists, otherwise `.dockerignore` at the root of the context; nullopt when
// neither is there. `dockerfile` is the Dockerfile's path as given (-f); empty or "-" (stdin)
// means the context's file only.
std::optional<std::filesystem::path> find_ignore_file(const std::filesystem::path& context_dir,
                                                      const std::filesystem::path& dockerfile);

// find_ignore_file, read and parsed; no file means no patterns. Throws xarch::Error naming the
// file when it cannot be read or parsed.
std::vector<std::string> load_ignore_patterns(const std::filesystem::path& context_dir,
                                              const std::filesystem::path& dockerfile);

}  // namespace xarch::context
