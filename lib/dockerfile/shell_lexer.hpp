// SPDX-License-Identifier: Apache-2.0
// Shell word expansion as BuildKit's frontend/dockerfile/shell lexer does it: quotes, escapes,
// $VAR and ${VAR...} with the modifiers :- - :+ + :? ? # ## % %% / //, and word splitting.
// Every Dockerfile instruction that expands variables goes through this, so its results (and
// where it fails) must be BuildKit's, quirks included.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace xarch::dockerfile {

// The variables a word is expanded against (BuildKit's shell.EnvGetter).
class ShellEnv {
public:
    virtual ~ShellEnv() = default;
    // The value of `name`, or nullopt when it is unset; set-but-empty is an empty value.
    virtual std::optional<std::string_view> get(std::string_view name) const = 0;
};

// An ordered list of KEY=VALUE entries, looked up as BuildKit's EnvsFromSlice does: a bare KEY
// (no '=') is set to the empty string, and the last entry for a key wins. Keys are compared
// case-sensitively, as on Unix; `case_insensitive` gives the Windows rule (NormalizeEnvKey), here
// folding ASCII letters only.
class EnvList final : public ShellEnv {
public:
    EnvList() = default;
    explicit EnvList(const std::vector<std::string>& entries, bool case_insensitive = false);

    // Adds "KEY=VALUE", or a bare "KEY" (set to empty).
    void add(std::string_view entry);
    void set(std::string_view key, std::string_view value);

    std::optional<std::string_view> get(std::string_view name) const override;
    // The keys in the order they were added, repeats included (EnvGetter.Keys).
    const std::vector<std::string>& keys() const { return keys_; }

private:
    std::string normalize(std::string_view key) const;

    std::vector<std::string> keys_;
    std::unordered_map<std::string, std::string> values_;
    bool case_insensitive_ = false;
};

// The switches of BuildKit's Lex. The parser sets the raw ones to find heredoc words; instruction
// expansion uses the defaults.
struct ShellLexOptions {
    // The escape character: '\\', or '`' after a `# escape=`` directive.
    char32_t escape = U'\\';
    bool raw_quotes = false;           // keep the quote characters in the result
    bool raw_escapes = false;          // keep the escape characters in the result
    bool skip_process_quotes = false;  // treat quotes as ordinary characters
    bool skip_unset_env = false;       // leave references to unset variables as written
};

// What one expansion produced.
struct ShellWordResult {
    std::string result;               // the expanded word (no splitting)
    std::vector<std::string> words;   // the same text split into words
    std::set<std::string> matched;    // referenced variables that are set (even if empty)
    std::set<std::string> unmatched;  // referenced variables that are unset
};

// Expands words. Errors throw xarch::Error (ErrorCode::kInvalidArgument) whose message quotes the
// word and says what is wrong, e.g. `failed to process "${a": syntax error: missing '}'`.
// Memory and time are linear in the word (times the pattern length for the # % / modifiers, as
// with Go's regexp), and ${...} may nest at most kMaxNesting deep, so hostile input cannot
// exhaust the stack.
class ShellLex {
public:
    static constexpr std::size_t kMaxNesting = 256;

    explicit ShellLex(char32_t escape = U'\\') { options_.escape = escape; }
    explicit ShellLex(const ShellLexOptions& options) : options_(options) {}

    const ShellLexOptions& options() const { return options_; }

    // ProcessWord: the expanded word, quotes and escapes removed, not split.
    std::string process_word(std::string_view word, const ShellEnv& env) const;

    // ProcessWords: the expanded word split on unquoted white space (including white space that
    // an unquoted expansion produced).
    std::vector<std::string> process_words(std::string_view word, const ShellEnv& env) const;

    // ProcessWordWithMatches: the expansion plus which variables it referenced; the build-arg
    // layer uses these for unused-argument warnings and cache keys.
    ShellWordResult process_word_with_matches(std::string_view word, const ShellEnv& env) const;

private:
    ShellWordResult process(std::string_view word, const ShellEnv& env, bool capture) const;

    ShellLexOptions options_;
};

}  // namespace xarch::dockerfile
