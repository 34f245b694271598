// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the shell word expander: any word, any lexer switches and any variable
// value must give a result or an xarch::Error, never a crash, a hang or another exception.
// Input: one byte of switches, then the word, then after the first '\n' the value of $V (so that
// fuzzed values reach the # % / patterns and the // replacement templates).
#include "dockerfile/shell_lexer.hpp"

#include <xarch/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace df = xarch::dockerfile;
    if (size == 0) {
        return 0;
    }
    const std::uint8_t switches = data[0];
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string_view value;
    if (const std::size_t nl = input.find('\n'); nl != std::string_view::npos) {
        value = input.substr(nl + 1);
        input = input.substr(0, nl);
    }

    df::ShellLexOptions options;
    options.escape = (switches & 1U) != 0 ? U'`' : U'\\';
    options.raw_quotes = (switches & 2U) != 0;
    options.raw_escapes = (switches & 4U) != 0;
    options.skip_process_quotes = (switches & 8U) != 0;
    options.skip_unset_env = (switches & 16U) != 0;
    const df::EnvList env(
        {"V=" + std::string(value), "EMPTY=", "P=*", "A=a b  c", "U=한국어", "BARE"},
        (switches & 32U) != 0);
    const df::ShellLex lex(options);
    try {
        const df::ShellWordResult full = lex.process_word_with_matches(input, env);
        // The plain entry points agree with the full one.
        if (lex.process_word(input, env) != full.result ||
            lex.process_words(input, env) != full.words) {
            std::abort();
        }
        for (const std::string& name : full.matched) {
            if (full.unmatched.count(name) != 0) {
                std::abort();
            }
        }
    } catch (const xarch::Error&) {
        // Rejected input is fine; anything else escapes and is reported as a crash.
    }
    return 0;
}
