// SPDX-License-Identifier: Apache-2.0
#include "heredoc.hpp"

#include "util/go_text.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <utility>

namespace xarch::dockerfile {

namespace {

using util::go::kEof;
constexpr char32_t kEscape = U'\\';  // BuildKit lexes heredoc words with `\` whatever `# escape=`
// Deeper `${...${...}}` nesting is reported as a lexing failure instead of recursing further.
constexpr int kMaxNesting = 64;

struct LexError {
    std::string message;
};

// Thrown past kMaxNesting; not a lexing failure (BuildKit would go on), so not swallowed.
struct TooDeep {};

// The part of BuildKit's shell lexer (shell.Lex with SkipUnsetEnv and no variables) that heredoc
// detection runs. It follows the original closely, including two of its quirks: the scanner turns
// invalid UTF-8 into U+FFFD and skips a leading U+FEFF, and the word buffer is shared with the
// lexing of a nested `${...}`, which therefore discards the word read so far.
class Lexer {
public:
    Lexer(std::string_view text, bool raw_quotes, bool raw_escapes)
        : scanner_(text), raw_quotes_(raw_quotes), raw_escapes_(raw_escapes) {}

    std::vector<std::string> words() {
        std::vector<std::string> out;
        process_stop_on(kEof, raw_escapes_, 0, &out);
        return out;
    }

private:
    // text/scanner's Peek and Next over runes.
    char32_t peek() { return scanner_.peek(); }
    char32_t next() { return scanner_.next(); }

    struct Words {
        std::string* buf;
        std::vector<std::string> list;
        bool in_word = false;

        void add_char(char32_t ch) {
            if (util::go::is_space(ch) && in_word) {
                if (!buf->empty()) {
                    list.push_back(std::move(*buf));
                    buf->clear();
                    in_word = false;
                }
            } else if (!util::go::is_space(ch)) {
                add_raw_char(ch);
            }
        }
        void add_raw_char(char32_t ch) {
            util::go::append_rune(*buf, ch);
            in_word = true;
        }
        void add_string(std::string_view s) {
            for (std::size_t i = 0; i < s.size();) {
                const util::go::DecodedRune d = util::go::decode_rune(s.substr(i));
                add_char(d.rune);
                i += d.width;
            }
        }
        void add_raw_string(std::string_view s) {
            buf->append(s);
            in_word = true;
        }
        std::vector<std::string> take() {
            if (!buf->empty()) {
                list.push_back(std::move(*buf));
                buf->clear();
                in_word = false;
            }
            return std::move(list);
        }
    };

    std::string process_stop_on(char32_t stop,
                                bool raw_escapes,
                                int depth,
                                std::vector<std::string>* words_out) {
        if (depth > kMaxNesting) {
            throw TooDeep{};
        }
        std::string result;
        shared_buf_.clear();
        Words words{&shared_buf_, {}, false};
        const bool saved = raw_escapes_mode_;
        raw_escapes_mode_ = raw_escapes;
        struct Restore {
            bool& target;
            bool value;
            ~Restore() { target = value; }
        } restore{raw_escapes_mode_, saved};

        while (peek() != kEof) {
            char32_t ch = peek();
            if (stop != kEof && ch == stop) {
                next();
                finish(words, words_out);
                return result;
            }
            if (ch == U'$' || ch == U'<' || ch == U'\'' || ch == U'"') {
                std::string tmp;
                if (ch == U'$') {
                    tmp = process_dollar(depth);
                } else if (ch == U'<') {
                    tmp = process_possible_heredoc();
                } else if (ch == U'\'') {
                    tmp = process_single_quote();
                } else {
                    tmp = process_double_quote(depth);
                }
                result += tmp;
                if (ch == U'$') {
                    words.add_string(tmp);
                } else {
                    words.add_raw_string(tmp);
                }
                continue;
            }
            ch = next();
            if (ch == kEscape) {
                if (raw_escapes_mode_) {
                    words.add_raw_char(ch);
                    util::go::append_rune(result, ch);
                }
                ch = next();
                if (ch == kEof) {
                    break;
                }
                words.add_raw_char(ch);
            } else {
                words.add_char(ch);
            }
            util::go::append_rune(result, ch);
        }
        if (stop != kEof) {
            std::string want;
            util::go::append_rune(want, stop);
            throw LexError{"unexpected end of statement while looking for matching " + want};
        }
        finish(words, words_out);
        return result;
    }

    // Always flushes the shared buffer, as getWords does, even when the words are not wanted.
    static void finish(Words& words, std::vector<std::string>* words_out) {
        std::vector<std::string> list = words.take();
        if (words_out != nullptr) {
            *words_out = std::move(list);
        }
    }

    std::string process_single_quote() {
        std::string result;
        char32_t ch = next();
        if (raw_quotes_) {
            util::go::append_rune(result, ch);
        }
        while (true) {
            ch = next();
            if (ch == kEof) {
                throw LexError{
                    "unexpected end of statement while looking for matching single-quote"};
            }
            if (ch == U'\'') {
                if (raw_quotes_) {
                    util::go::append_rune(result, ch);
                }
                return result;
            }
            util::go::append_rune(result, ch);
        }
    }

    std::string process_double_quote(int depth) {
        std::string result;
        char32_t ch = next();
        if (raw_quotes_) {
            util::go::append_rune(result, ch);
        }
        while (true) {
            const char32_t p = peek();
            if (p == kEof) {
                throw LexError{
                    "unexpected end of statement while looking for matching double-quote"};
            }
            if (p == U'"') {
                ch = next();
                if (raw_quotes_) {
                    util::go::append_rune(result, ch);
                }
                return result;
            }
            if (p == U'$') {
                result += process_dollar(depth);
                continue;
            }
            ch = next();
            if (ch == kEscape) {
                if (raw_escapes_mode_) {
                    util::go::append_rune(result, ch);
                }
                const char32_t after = peek();
                if (after == kEof) {
                    continue;  // a trailing escape is dropped; the missing quote is the error
                }
                if (after == U'"' || after == U'$' || after == kEscape) {
                    ch = next();
                }
            }
            util::go::append_rune(result, ch);
        }
    }

    std::string process_dollar(int depth) {
        next();  // '$'
        if (peek() != U'{') {
            const std::string name = process_name();
            return name.empty() ? "$" : "$" + name;  // unset variables are kept as written
        }
        next();  // '{'
        const char32_t first = peek();
        if (first == kEof) {
            throw LexError{"syntax error: missing '}'"};
        }
        if (first == U'{' || first == U'}' || first == U':') {
            throw LexError{"syntax error: bad substitution"};
        }
        const std::string name = process_name();
        char32_t ch = next();
        std::string modifier;
        util::go::append_rune(modifier, ch == kEof ? util::go::kRuneError : ch);
        bool null_is_unset = false;
        switch (ch) {
            case U'}':
                return "${" + name + "}";
            case U':':
                null_is_unset = true;
                ch = next();
                util::go::append_rune(modifier, ch == kEof ? util::go::kRuneError : ch);
                [[fallthrough]];
            case U'+':
            case U'-':
            case U'?':
            case U'#':
            case U'%': {
                const bool raw = ch == U'#' || ch == U'%';
                if (null_is_unset && raw) {
                    throw LexError{"unsupported modifier (" + modifier + ") in substitution"};
                }
                const std::string word = stop_on_or_missing(U'}', raw, depth, "'}'");
                return "${" + name + modifier + word + "}";
            }
            case U'/': {
                if (peek() == U'/') {
                    next();  // replace-all; the value is kept, so only one '/' is written back
                }
                const std::string pattern = stop_on_or_missing(U'/', true, depth, "'/' in ${}");
                const std::string replacement = stop_on_or_missing(U'}', true, depth, "'}'");
                return "${" + name + "/" + pattern + "/" + replacement + "}";
            }
            default:
                throw LexError{"unsupported modifier (" + modifier + ") in substitution"};
        }
    }

    std::string stop_on_or_missing(char32_t stop,
                                   bool raw_escapes,
                                   int depth,
                                   const char* missing) {
        try {
            return process_stop_on(stop, raw_escapes, depth + 1, nullptr);
        } catch (const LexError&) {
            if (peek() == kEof) {
                throw LexError{std::string("syntax error: missing ") + missing};
            }
            throw;
        }
    }

    std::string process_name() {
        std::string name;
        while (peek() != kEof) {
            char32_t ch = peek();
            if (name.empty() && util::go::is_digit(ch)) {
                while (peek() != kEof && util::go::is_digit(peek())) {
                    util::go::append_rune(name, next());
                }
                return name;
            }
            if (name.empty() && (ch == U'@' || ch == U'*' || ch == U'#' || ch == U'?' ||
                                 ch == U'-' || ch == U'$' || ch == U'!' || ch == U'0')) {
                next();
                util::go::append_rune(name, ch);
                return name;
            }
            if (!util::go::is_letter(ch) && !util::go::is_digit(ch) && ch != U'_') {
                break;
            }
            util::go::append_rune(name, next());
        }
        return name;
    }

    std::string process_possible_heredoc() {
        next();  // '<'
        if (peek() != U'<') {
            return "<";
        }
        next();
        std::string result = "<<";
        // The lexer keeps the blanks between << and the word, so `<< EOF` stays one word.
        while (peek() == U'\t' || peek() == U'\r' || peek() == U' ') {
            util::go::append_rune(result, next());
        }
        return result;
    }

    util::go::RuneScanner scanner_;
    bool raw_quotes_;
    bool raw_escapes_;
    bool raw_escapes_mode_ = false;
    std::string shared_buf_;
};

bool is_regex_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

std::size_t count_quotes(std::string_view s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\'') +
                                    std::count(s.begin(), s.end(), '"'));
}

}  // namespace

std::optional<std::vector<std::string>> lex_words(std::string_view text,
                                                  bool raw_quotes,
                                                  bool raw_escapes,
                                                  std::string* error) {
    try {
        return Lexer(text, raw_quotes, raw_escapes).words();
    } catch (const LexError& e) {
        if (error != nullptr) {
            *error = e.message;
        }
        return std::nullopt;
    } catch (const TooDeep&) {
        throw Error(ErrorCode::kInvalidArgument,
                    "${...} nested more than " + std::to_string(kMaxNesting) +
                        " levels deep on a line with a heredoc: xarch does not follow it further");
    }
}

std::optional<Heredoc> parse_heredoc(std::string_view word) {
    // ^(\d*)<<(-?)\s*([^<]*)$
    std::size_t i = 0;
    while (i < word.size() && word[i] >= '0' && word[i] <= '9') {
        ++i;
    }
    const std::string_view digits = word.substr(0, i);
    if (word.substr(i, 2) != "<<") {
        return std::nullopt;
    }
    i += 2;
    const bool chomp = i < word.size() && word[i] == '-';
    if (chomp) {
        ++i;
    }
    while (i < word.size() && is_regex_space(word[i])) {
        ++i;
    }
    const std::string_view rest = word.substr(i);
    if (rest.find('<') != std::string_view::npos || rest.empty()) {
        return std::nullopt;
    }

    // strconv.ParseUint: empty gives 0, overflow gives the largest value.
    std::uint64_t fd = 0;
    for (char c : digits) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (fd > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            fd = std::numeric_limits<std::uint64_t>::max();
            break;
        }
        fd = fd * 10 + digit;
    }

    // Lex the delimiter with and without quotes: if the counts of quote characters differ, part
    // of it was quoted, and the body is not to be expanded.
    std::string error;
    const auto words = lex_words(rest, false, false, &error);
    if (!words) {
        throw Error(ErrorCode::kInvalidArgument,
                    "failed to process heredoc delimiter " + util::go::quote(rest) + ": " + error);
    }
    if (words->size() != 1) {
        return std::nullopt;
    }
    const auto raw = lex_words(rest, true, false, &error);
    if (!raw) {
        throw Error(ErrorCode::kInvalidArgument,
                    "failed to process heredoc delimiter " + util::go::quote(rest) + ": " + error);
    }
    if (raw->size() != words->size()) {
        throw Error(
            ErrorCode::kInvalidArgument,
            "internal lexing of heredoc produced inconsistent results: " + std::string(rest));
    }
    Heredoc heredoc;
    heredoc.name = words->front();
    heredoc.file_descriptor = fd;
    heredoc.chomp = chomp;
    heredoc.expand = count_quotes(words->front()) == count_quotes(raw->front());
    return heredoc;
}

std::vector<Heredoc> heredocs_from_line(std::string_view line) {
    std::vector<Heredoc> docs;
    const auto words = lex_words(line, true, true);
    if (!words) {
        return docs;
    }
    for (const std::string& word : *words) {
        if (auto heredoc = parse_heredoc(word)) {
            docs.push_back(std::move(*heredoc));
        }
    }
    return docs;
}

std::string chomp_heredoc_content(std::string_view content) {
    std::string out;
    out.reserve(content.size());
    bool line_start = true;
    for (char c : content) {
        if (line_start && c == '\t') {
            continue;
        }
        line_start = c == '\n';
        out += c;
    }
    return out;
}

}  // namespace xarch::dockerfile
