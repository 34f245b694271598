// SPDX-License-Identifier: Apache-2.0
// BuildKit's frontend/dockerfile/shell/lex.go, reimplemented step for step. Its results depend on
// details of Go's libraries, which are reproduced here: text/scanner reads runes (an invalid
// byte becomes U+FFFD, a leading BOM is dropped), unicode.IsSpace/IsLetter/IsDigit classify them,
// and the # % / patterns are Go regular expressions (leftmost-first, '.' not matching '\n').
#include "dockerfile/shell_lexer.hpp"

#include "util/go_text.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::dockerfile {
namespace {

using util::go::kEof;
using util::go::RuneScanner;

// An expansion error before it is wrapped with the word. `fatal` errors keep their message when
// an enclosing ${...} would otherwise replace it with "missing '}'".
struct LexError {
    std::string message;
    bool fatal = false;
};

// Go's string(rune): EOF and invalid values print as U+FFFD.
std::string rune_string(char32_t r) {
    std::string out;
    util::go::append_rune(out, r == kEof ? util::go::kRuneError : r);
    return out;
}

// ---- the # % / patterns: shell globs that BuildKit turns into Go regular expressions ----

enum class GlobOp : std::uint8_t { kLiteral, kAny, kStar };

struct GlobToken {
    GlobOp op;
    char32_t rune;
};

// convertShellPatternToRegex: '*' is .* (or .*?), '?' is '.', a backslash escapes * ? and \,
// and is dropped before } and /; any other escape is an error. Everything else is literal.
std::vector<GlobToken> compile_glob(std::string_view pattern) {
    std::vector<GlobToken> out;
    RuneScanner s(pattern);
    for (char32_t tok = s.next(); tok != kEof; tok = s.next()) {
        if (tok == U'*') {
            out.push_back({GlobOp::kStar, 0});
            continue;
        }
        if (tok == U'?') {
            out.push_back({GlobOp::kAny, 0});
            continue;
        }
        if (tok == U'\\') {
            if (s.peek() == U'}' || s.peek() == U'/') {
                continue;
            }
            tok = s.next();
            if (tok != U'*' && tok != U'?' && tok != U'\\') {
                throw LexError{"invalid escape '\\" + rune_string(tok) + "'"};
            }
        }
        out.push_back({GlobOp::kLiteral, tok});
    }
    return out;
}

struct Span {
    std::size_t begin;
    std::size_t end;
};

// A Pike VM over the glob program with Go's leftmost-first thread priorities, so that the match
// found is the one Go's regexp.FindStringIndex returns; O(text × pattern), no backtracking.
class GlobMatcher {
public:
    GlobMatcher(std::vector<GlobToken> tokens, bool greedy)
        : tokens_(std::move(tokens)), greedy_(greedy) {
        current_.seen.assign(tokens_.size() + 1, 0);
        next_.seen.assign(tokens_.size() + 1, 0);
    }

    // The first match starting at or after `from` (only at 0 when anchored, as '^' is).
    std::optional<Span> find(std::string_view text, std::size_t from, bool anchored) {
        clear(current_);
        bool matched = false;
        Span best{0, 0};
        std::size_t pos = from;
        for (;;) {
            if (current_.threads.empty() && ((anchored && pos != 0) || matched)) {
                break;
            }
            if (!matched && (!anchored || pos == 0)) {
                add(current_, 0, pos);
            }
            char32_t r = kEof;
            std::size_t width = 0;
            if (pos < text.size()) {
                const util::go::DecodedRune d = util::go::decode_rune(text.substr(pos));
                r = d.rune;
                width = d.width;
            }
            clear(next_);
            for (const Thread& t : current_.threads) {
                if (t.pc == tokens_.size()) {
                    // Leftmost-first: this match wins over every lower-priority thread.
                    best = {t.start, pos};
                    matched = true;
                    break;
                }
                if (width == 0) {
                    continue;
                }
                const GlobToken& tok = tokens_[t.pc];
                if (tok.op == GlobOp::kStar) {
                    if (r != U'\n') {
                        add(next_, t.pc, t.start);
                    }
                } else if (tok.op == GlobOp::kAny ? r != U'\n' : r == tok.rune) {
                    add(next_, t.pc + 1, t.start);
                }
            }
            if (width == 0) {
                break;
            }
            pos += width;
            std::swap(current_, next_);
        }
        if (!matched) {
            return std::nullopt;
        }
        return best;
    }

private:
    struct Thread {
        std::size_t pc;  // a star's index means "consume one more character for it"
        std::size_t start;
    };
    struct Queue {
        std::vector<Thread> threads;
        std::vector<std::uint32_t> seen;  // generation stamps: visited in this step
        std::uint32_t generation = 1;
    };

    static void clear(Queue& q) {
        q.threads.clear();
        if (++q.generation == 0) {
            std::fill(q.seen.begin(), q.seen.end(), 0);
            q.generation = 1;
        }
    }
    static bool visit(Queue& q, std::size_t pc) {
        if (q.seen[pc] == q.generation) {
            return false;
        }
        q.seen[pc] = q.generation;
        return true;
    }

    // The epsilon closure of `pc`, in the order Go's compiled split instructions give: a greedy
    // star prefers another character, a lazy one prefers to stop. Iterative, so a pattern of a
    // million stars needs no deep recursion.
    void add(Queue& q, std::size_t pc, std::size_t start) {
        const std::size_t end = tokens_.size();
        if (greedy_) {
            for (; pc < end && tokens_[pc].op == GlobOp::kStar; ++pc) {
                if (!visit(q, pc)) {
                    return;
                }
                q.threads.push_back({pc, start});
            }
            if (visit(q, pc)) {
                q.threads.push_back({pc, start});
            }
            return;
        }
        const std::size_t first = pc;
        while (pc < end && tokens_[pc].op == GlobOp::kStar && visit(q, pc)) {
            ++pc;
        }
        if ((pc == end || tokens_[pc].op != GlobOp::kStar) && visit(q, pc)) {
            q.threads.push_back({pc, start});
        }
        for (std::size_t k = pc; k > first; --k) {
            q.threads.push_back({k - 1, start});
        }
    }

    std::vector<GlobToken> tokens_;
    bool greedy_;
    Queue current_;
    Queue next_;
};

std::vector<char32_t> to_runes(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    while (!s.empty()) {
        const util::go::DecodedRune d = util::go::decode_rune(s);
        out.push_back(d.rune);
        s.remove_prefix(d.width);
    }
    return out;
}

std::string from_runes(const std::vector<char32_t>& runes) {
    std::string out;
    out.reserve(runes.size());
    for (const char32_t r : runes) {
        util::go::append_rune(out, r);
    }
    return out;
}

GlobMatcher compile_or_throw(std::string_view pattern, bool greedy) {
    try {
        return GlobMatcher(compile_glob(pattern), greedy);
    } catch (const LexError& e) {
        throw LexError{"invalid pattern (" + std::string(pattern) +
                       ") in substitution: " + e.message};
    }
}

std::string trim_prefix(std::string_view pattern, std::string_view value, bool greedy) {
    GlobMatcher matcher = compile_or_throw(pattern, greedy);
    if (const std::optional<Span> m = matcher.find(value, 0, true)) {
        return std::string(value.substr(m->end));
    }
    return std::string(value);
}

// reversePattern: reverses the runes but keeps each backslash before the rune it escapes.
std::string reverse_pattern(std::string_view pattern) {
    const std::vector<char32_t> in = to_runes(pattern);
    std::vector<char32_t> out(in.size());
    const std::size_t n = in.size();
    for (std::size_t i = 0; i < n;) {
        const std::size_t at = n - 1 - i;
        if (in[i] == U'\\' && i != n - 1) {
            out[at - 1] = in[i];
            out[at] = in[i + 1];
            i += 2;
        } else {
            out[at] = in[i];
            ++i;
        }
    }
    return from_runes(out);
}

std::string reverse_string(std::string_view s) {
    std::vector<char32_t> runes = to_runes(s);
    std::reverse(runes.begin(), runes.end());
    return from_runes(runes);
}

// The shortest (or longest) rightmost match, found as BuildKit does: a leftmost search over the
// reversed value with the reversed pattern. Like BuildKit, this turns invalid UTF-8 in the value
// into U+FFFD.
std::string trim_suffix(std::string_view pattern, std::string_view value, bool greedy) {
    return reverse_string(trim_prefix(reverse_pattern(pattern), reverse_string(value), greedy));
}

// regexp.Expand for a pattern without groups: $$ is '$', $0 and ${0} the match, any other valid
// $name or ${name} nothing, and a malformed one a literal '$'. ${VAR//a/b} goes through this
// (Go's ReplaceAllString); ${VAR/a/b} inserts the replacement as it is.
void expand_template(std::string& out, std::string_view tmpl, std::string_view match) {
    while (!tmpl.empty()) {
        const std::size_t dollar = tmpl.find('$');
        if (dollar == std::string_view::npos) {
            break;
        }
        out.append(tmpl.substr(0, dollar));
        tmpl.remove_prefix(dollar + 1);
        if (!tmpl.empty() && tmpl[0] == '$') {
            out += '$';
            tmpl.remove_prefix(1);
            continue;
        }
        std::string_view str = tmpl;
        const bool brace = !str.empty() && str[0] == '{';
        if (brace) {
            str.remove_prefix(1);
        }
        std::size_t n = 0;
        while (n < str.size()) {
            const util::go::DecodedRune d = util::go::decode_rune(str.substr(n));
            if (!util::go::is_letter(d.rune) && !util::go::is_digit(d.rune) && d.rune != U'_') {
                break;
            }
            n += d.width;
        }
        if (n == 0 || (brace && (n >= str.size() || str[n] != '}'))) {
            out += '$';
            continue;
        }
        const std::string_view name = str.substr(0, n);
        tmpl = str.substr(brace ? n + 1 : n);
        long num = 0;
        for (const char c : name) {
            if (c < '0' || c > '9' || num >= 100000000) {
                num = -1;
                break;
            }
            num = num * 10 + (c - '0');
        }
        if (name[0] == '0' && name.size() > 1) {
            num = -1;
        }
        if (num == 0) {
            out.append(match);
        }
    }
    out.append(tmpl);
}

// regexp.ReplaceAllString: every non-overlapping match, an empty match right after a previous
// match skipped, advancing at least one rune each time.
std::string replace_all(GlobMatcher& matcher, std::string_view value, std::string_view repl) {
    std::string out;
    std::size_t last_end = 0;
    std::size_t search = 0;
    while (search <= value.size()) {
        const std::optional<Span> m = matcher.find(value, search, false);
        if (!m) {
            break;
        }
        out.append(value.substr(last_end, m->begin - last_end));
        if (m->end > last_end || m->begin == 0) {
            expand_template(out, repl, value.substr(m->begin, m->end - m->begin));
        }
        last_end = m->end;
        const std::size_t width =
            search < value.size() ? util::go::decode_rune(value.substr(search)).width : 0;
        if (search + width > m->end) {
            search += width;
        } else if (search + 1 > m->end) {
            search += 1;
        } else {
            search = m->end;
        }
    }
    out.append(value.substr(last_end));
    return out;
}

bool is_special_param(char32_t c) {
    switch (c) {
        case U'@':
        case U'*':
        case U'#':
        case U'?':
        case U'-':
        case U'$':
        case U'!':
        case U'0':
            return true;
        default:
            return false;
    }
}

// BuildKit's wordsStruct. The buffer of the word being built is shared by every nested
// processStopOn (BuildKit keeps it in shellWord), and each one clears it when it starts: so in
// ProcessWords, text before a ${VAR:-...} or ${VAR/...} in the same word is dropped. That is
// BuildKit's behaviour at the pinned commit and is kept on purpose.
struct Words {
    std::string* buf;
    std::vector<std::string> words;
    bool in_word = false;

    void add_char(char32_t ch) {
        const bool space = util::go::is_space(ch);
        if (space && in_word) {
            if (!buf->empty()) {
                words.push_back(*buf);
                buf->clear();
                in_word = false;
            }
        } else if (!space) {
            add_raw_char(ch);
        }
    }
    void add_raw_char(char32_t ch) {
        util::go::append_rune(*buf, ch);
        in_word = true;
    }
    void add_string(std::string_view s) {
        while (!s.empty()) {
            const util::go::DecodedRune d = util::go::decode_rune(s);
            add_char(d.rune);
            s.remove_prefix(d.width);
        }
    }
    void add_raw_string(std::string_view s) {
        buf->append(s);
        in_word = true;
    }
    std::vector<std::string> get_words() {
        if (!buf->empty()) {
            words.push_back(*buf);
            buf->clear();
            in_word = false;
        }
        return std::move(words);
    }
};

struct Piece {
    std::string result;
    std::vector<std::string> words;
};

// One expansion: BuildKit's shellWord.
class Expander {
public:
    Expander(const ShellLexOptions& options,
             const ShellEnv& env,
             bool capture,
             std::string_view word)
        : options_(options),
          env_(env),
          capture_(capture),
          scanner_(word),
          raw_escapes_(options.raw_escapes) {}

    Piece run() { return process_stop_on(kEof, raw_escapes_); }

    std::set<std::string>& matched() { return matched_; }
    std::set<std::string>& unmatched() { return unmatched_; }

private:
    // Sets raw_escapes_ for one processStopOn and restores it however that ends.
    class RawEscapesScope {
    public:
        RawEscapesScope(bool& flag, bool value) : flag_(flag), saved_(flag) { flag_ = value; }
        ~RawEscapesScope() { flag_ = saved_; }
        RawEscapesScope(const RawEscapesScope&) = delete;
        RawEscapesScope& operator=(const RawEscapesScope&) = delete;

    private:
        bool& flag_;
        bool saved_;
    };

    class DepthScope {
    public:
        explicit DepthScope(std::size_t& depth) : depth_(depth) {
            if (++depth_ > ShellLex::kMaxNesting) {
                throw LexError{"syntax error: ${...} nested more than " +
                                   std::to_string(ShellLex::kMaxNesting) + " levels deep",
                               true};
            }
        }
        ~DepthScope() { --depth_; }
        DepthScope(const DepthScope&) = delete;
        DepthScope& operator=(const DepthScope&) = delete;

    private:
        std::size_t& depth_;
    };

    Piece process_stop_on(char32_t stop, bool raw_escapes) {
        std::string result;
        word_buffer_.clear();
        Words words{&word_buffer_, {}, false};
        const RawEscapesScope raw_scope(raw_escapes_, raw_escapes);

        while (scanner_.peek() != kEof) {
            char32_t ch = scanner_.peek();
            if (stop != kEof && ch == stop) {
                scanner_.next();
                return {std::move(result), words.get_words()};
            }
            if (ch == U'$') {
                const std::string tmp = process_dollar();
                result += tmp;
                words.add_string(tmp);
                continue;
            }
            if (ch == U'<' || (!options_.skip_process_quotes && (ch == U'\'' || ch == U'"'))) {
                const std::string tmp = ch == U'<'    ? process_possible_heredoc()
                                        : ch == U'\'' ? process_single_quote()
                                                      : process_double_quote();
                result += tmp;
                words.add_raw_string(tmp);
                continue;
            }
            ch = scanner_.next();
            if (ch == options_.escape) {
                if (raw_escapes_) {
                    words.add_raw_char(ch);
                    util::go::append_rune(result, ch);
                }
                // The escape character escapes the next one; at the end of the word it vanishes.
                ch = scanner_.next();
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
            throw LexError{"unexpected end of statement while looking for matching " +
                           rune_string(stop)};
        }
        return {std::move(result), words.get_words()};
    }

    // Everything up to the next single quote is literal; a single quote cannot be escaped.
    std::string process_single_quote() {
        std::string result;
        char32_t ch = scanner_.next();
        if (options_.raw_quotes) {
            util::go::append_rune(result, ch);
        }
        for (;;) {
            ch = scanner_.next();
            if (ch == kEof) {
                throw LexError{
                    "unexpected end of statement while looking for matching single-quote"};
            }
            if (ch == U'\'') {
                if (options_.raw_quotes) {
                    util::go::append_rune(result, ch);
                }
                return result;
            }
            util::go::append_rune(result, ch);
        }
    }

    // Literal except $ expansions; the escape character escapes only " $ and itself.
    std::string process_double_quote() {
        std::string result;
        char32_t ch = scanner_.next();
        if (options_.raw_quotes) {
            util::go::append_rune(result, ch);
        }
        for (;;) {
            const char32_t peeked = scanner_.peek();
            if (peeked == kEof) {
                throw LexError{
                    "unexpected end of statement while looking for matching double-quote"};
            }
            if (peeked == U'"') {
                ch = scanner_.next();
                if (options_.raw_quotes) {
                    util::go::append_rune(result, ch);
                }
                return result;
            }
            if (peeked == U'$') {
                result += process_dollar();
                continue;
            }
            ch = scanner_.next();
            if (ch == options_.escape) {
                if (raw_escapes_) {
                    util::go::append_rune(result, ch);
                }
                const char32_t after = scanner_.peek();
                if (after == kEof) {
                    continue;  // dropped; the loop then reports the missing quote
                }
                if (after == U'"' || after == U'$' || after == options_.escape) {
                    ch = scanner_.next();
                }
            }
            util::go::append_rune(result, ch);
        }
    }

    std::string process_dollar() {
        scanner_.next();  // '$'
        if (scanner_.peek() != U'{') {
            const std::string name = process_name();
            if (name.empty()) {
                return "$";
            }
            const std::optional<std::string_view> value = get_env(name);
            if (!value && options_.skip_unset_env) {
                return "$" + name;
            }
            return value ? std::string(*value) : std::string();
        }
        scanner_.next();  // '{'
        const DepthScope depth(depth_);
        switch (scanner_.peek()) {
            case kEof:
                throw LexError{"syntax error: missing '}'"};
            case U'{':
            case U'}':
            case U':':
                throw LexError{"syntax error: bad substitution"};
            default:
                break;
        }
        const std::string name = process_name();
        char32_t ch = scanner_.next();
        if (ch == kEof) {
            // BuildKit fails here too, but reports "unsupported modifier (\uFFFD)".
            throw LexError{"syntax error: missing '}'"};
        }
        std::string chs = rune_string(ch);
        bool null_is_unset = false;

        if (ch == U'}') {
            const std::optional<std::string_view> value = get_env(name);
            if (!value && options_.skip_unset_env) {
                return "${" + name + "}";
            }
            return value ? std::string(*value) : std::string();
        }
        if (ch == U':') {
            // ${VAR:x}: the colon makes an empty value count as unset; BuildKit then treats
            // whatever follows as the modifier, even characters that are no modifier.
            null_is_unset = true;
            ch = scanner_.next();
            chs += rune_string(ch);
        }
        if (null_is_unset || ch == U'+' || ch == U'-' || ch == U'?' || ch == U'#' || ch == U'%') {
            return process_modifier(name, ch, chs, null_is_unset);
        }
        if (ch == U'/') {
            return process_replace(name);
        }
        throw LexError{"unsupported modifier (" + chs + ") in substitution"};
    }

    std::string process_modifier(const std::string& name,
                                 char32_t ch,
                                 const std::string& chs,
                                 bool null_is_unset) {
        const bool raw = ch == U'#' || ch == U'%';
        if (null_is_unset && raw) {
            throw LexError{"unsupported modifier (" + chs + ") in substitution"};
        }
        std::string word = stop_on_or(U'}', raw, "syntax error: missing '}'");

        const std::optional<std::string_view> value = get_env(name);
        if (options_.skip_unset_env && !value) {
            return "${" + name + chs + word + "}";
        }
        const bool unset = !value || (null_is_unset && value->empty());
        switch (ch) {
            case U'-':
                return unset ? word : std::string(*value);
            case U'+':
                return unset ? std::string() : word;
            case U'?':
                if (!value) {
                    throw LexError{name + ": " +
                                   (word.empty() ? "is not allowed to be unset" : word)};
                }
                if (null_is_unset && value->empty()) {
                    throw LexError{name + ": " +
                                   (word.empty() ? "is not allowed to be empty" : word)};
                }
                return std::string(*value);
            case U'%':
            case U'#': {
                // A doubled # or % asks for the longest match instead of the shortest.
                bool greedy = false;
                if (!word.empty() && static_cast<unsigned char>(word[0]) == ch) {
                    greedy = true;
                    word.erase(0, 1);
                }
                const std::string_view subject = value ? *value : std::string_view();
                return ch == U'%' ? trim_suffix(word, subject, greedy)
                                  : trim_prefix(word, subject, greedy);
            }
            default:
                throw LexError{"unsupported modifier (" + chs + ") in substitution"};
        }
    }

    // ${VAR/pattern/replacement} and ${VAR//pattern/replacement}.
    std::string process_replace(const std::string& name) {
        const bool replace_all_matches = scanner_.peek() == U'/';
        if (replace_all_matches) {
            scanner_.next();
        }
        const std::string pattern = stop_on_or(U'/', true, "syntax error: missing '/' in ${}");
        const std::string replacement = stop_on_or(U'}', true, "syntax error: missing '}'");

        const std::optional<std::string_view> value = get_env(name);
        if (options_.skip_unset_env && !value) {
            return "${" + name + "/" + pattern + "/" + replacement + "}";
        }
        GlobMatcher matcher = compile_or_throw(pattern, true);
        const std::string_view subject = value ? *value : std::string_view();
        if (replace_all_matches) {
            return replace_all(matcher, subject, replacement);
        }
        std::string out(subject);
        if (const std::optional<Span> m = matcher.find(subject, 0, false)) {
            out = std::string(subject.substr(0, m->begin)) + replacement +
                  std::string(subject.substr(m->end));
        }
        return out;
    }

    // A nested processStopOn whose failure at the end of the word is reported as `at_eof`.
    std::string stop_on_or(char32_t stop, bool raw, const char* at_eof) {
        try {
            return process_stop_on(stop, raw).result;
        } catch (const LexError& e) {
            if (!e.fatal && scanner_.peek() == kEof) {
                throw LexError{at_eof};
            }
            throw;
        }
    }

    // A name of letters, digits and '_'; or all the digits of a positional parameter; or one
    // special parameter character.
    std::string process_name() {
        std::string name;
        while (scanner_.peek() != kEof) {
            const char32_t ch = scanner_.peek();
            if (name.empty() && util::go::is_digit(ch)) {
                while (scanner_.peek() != kEof && util::go::is_digit(scanner_.peek())) {
                    util::go::append_rune(name, scanner_.next());
                }
                return name;
            }
            if (name.empty() && is_special_param(ch)) {
                scanner_.next();
                return rune_string(ch);
            }
            if (!util::go::is_letter(ch) && !util::go::is_digit(ch) && ch != U'_') {
                break;
            }
            util::go::append_rune(name, scanner_.next());
        }
        return name;
    }

    // '<<' and the blanks after it stay one unit, so that a heredoc word is not split from it.
    std::string process_possible_heredoc() {
        scanner_.next();
        if (scanner_.peek() != U'<') {
            return "<";
        }
        scanner_.next();
        std::string result = "<<";
        for (char32_t c = scanner_.peek(); c == U'\t' || c == U'\r' || c == U' ';
             c = scanner_.peek()) {
            util::go::append_rune(result, c);
            scanner_.next();
        }
        return result;
    }

    std::optional<std::string_view> get_env(const std::string& name) {
        const std::optional<std::string_view> value = env_.get(name);
        if (capture_) {
            (value ? matched_ : unmatched_).insert(name);
        }
        return value;
    }

    const ShellLexOptions& options_;
    const ShellEnv& env_;
    bool capture_;
    RuneScanner scanner_;
    bool raw_escapes_;
    std::string word_buffer_;
    std::set<std::string> matched_;
    std::set<std::string> unmatched_;
    std::size_t depth_ = 0;
};

}  // namespace

// ---- EnvList ----

EnvList::EnvList(const std::vector<std::string>& entries, bool case_insensitive)
    : case_insensitive_(case_insensitive) {
    for (const std::string& entry : entries) {
        add(entry);
    }
}

void EnvList::add(std::string_view entry) {
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
        set(entry, {});
    } else {
        set(entry.substr(0, eq), entry.substr(eq + 1));
    }
}

void EnvList::set(std::string_view key, std::string_view value) {
    keys_.emplace_back(key);
    values_[normalize(key)] = std::string(value);
}

std::optional<std::string_view> EnvList::get(std::string_view name) const {
    const auto it = values_.find(normalize(name));
    if (it == values_.end()) {
        return std::nullopt;
    }
    return std::string_view(it->second);
}

std::string EnvList::normalize(std::string_view key) const {
    std::string out(key);
    if (case_insensitive_) {
        for (char& c : out) {
            if (c >= 'a' && c <= 'z') {
                c = static_cast<char>(c - 'a' + 'A');
            }
        }
    }
    return out;
}

// ---- ShellLex ----

ShellWordResult ShellLex::process(std::string_view word, const ShellEnv& env, bool capture) const {
    Expander expander(options_, env, capture, word);
    Piece piece;
    try {
        piece = expander.run();
    } catch (const LexError& e) {
        throw Error(ErrorCode::kInvalidArgument,
                    "failed to process " + util::quote(word) + ": " + e.message);
    }
    ShellWordResult out;
    out.result = std::move(piece.result);
    out.words = std::move(piece.words);
    out.matched = std::move(expander.matched());
    out.unmatched = std::move(expander.unmatched());
    return out;
}

std::string ShellLex::process_word(std::string_view word, const ShellEnv& env) const {
    return process(word, env, true).result;
}

std::vector<std::string> ShellLex::process_words(std::string_view word, const ShellEnv& env) const {
    return process(word, env, false).words;
}

ShellWordResult ShellLex::process_word_with_matches(std::string_view word,
                                                    const ShellEnv& env) const {
    return process(word, env, true);
}

}  // namespace xarch::dockerfile
