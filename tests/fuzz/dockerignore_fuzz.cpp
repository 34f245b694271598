// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for .dockerignore handling: reading an ignore file, compiling its patterns
// (patternmatcher, with the Go regular expressions behind them) and matching paths. Any bytes
// must give a result or an xarch::Error, never a crash, a hang or another exception.
// Input: the ignore file; its last line is also used as a path to match.
#include "context/dockerignore.hpp"
#include "context/filepath_match.hpp"
#include "context/pattern_matcher.hpp"

#include <xarch/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ctx = xarch::context;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t last_nl = text.rfind('\n');
    const std::string_view last =
        last_nl == std::string_view::npos ? text : text.substr(last_nl + 1);

    std::vector<std::string> paths = {std::string(last), "a/b/c.txt", "dir/file", ".x", "é/ü"};
    paths.push_back(ctx::clean_path(last));
    // filepath.Clean is idempotent.
    if (ctx::clean_path(paths.back()) != paths.back()) {
        std::abort();
    }
    for (const std::string& path : paths) {
        (void)ctx::filepath_match(last, path);
    }

    std::vector<std::string> patterns;
    try {
        patterns = ctx::read_ignore_patterns(text);
    } catch (const xarch::Error&) {
        return 0;
    }
    try {
        const ctx::PatternMatcher pm(patterns);
        for (const std::string& path : paths) {
            try {
                (void)pm.matches_or_parent_matches(path);
                (void)pm.matches(path);
                ctx::PatternMatcher::MatchInfo info;
                (void)pm.matches_using_parent_results(path, {}, info);
            } catch (const xarch::Error&) {
                // A pattern Go's regexp rejects fails every match.
            }
        }
    } catch (const xarch::Error&) {
        // New() rejected a pattern.
    }
    return 0;
}
