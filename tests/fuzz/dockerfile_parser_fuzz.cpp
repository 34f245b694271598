// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the Dockerfile parser: any bytes must give a result or a DockerfileError,
// never a crash, a hang, a leak or another exception. Also run through the seed-corpus replay
// (fuzz_replay_main.cpp) with any compiler.
#include "dockerfile/ast_dump.hpp"
#include "dockerfile/directives.hpp"
#include "dockerfile/error.hpp"
#include "dockerfile/heredoc.hpp"
#include "dockerfile/parser.hpp"

#include <xarch/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace df = xarch::dockerfile;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const df::ParseResult result = df::parse(text);
        // A parse gives at least one instruction, with sane lines, and a non-empty dump.
        if (result.instructions.empty() || result.start_line < 1 ||
            result.end_line < result.start_line || df::dump(result).empty()) {
            std::abort();
        }
        for (const df::Instruction& node : result.instructions) {
            if (node.end_line < node.start_line) {
                std::abort();
            }
        }
        try {
            df::check_instructions(result);
        } catch (const df::DockerfileError&) {
            // unknown instructions and bad flags are expected in fuzz input
        }
    } catch (const df::DockerfileError&) {
        // a clear error is a fine outcome
    }
    (void)df::detect_syntax(text);
    (void)df::parse_directives(text);
    try {
        (void)df::heredocs_from_line(text.substr(0, 4096));
    } catch (const xarch::Error&) {
        // an unterminated quote in a heredoc word
    }
    return 0;
}
