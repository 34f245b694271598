// SPDX-License-Identifier: Apache-2.0
// ShellLex beyond the conformance corpus: the backtick escape, the lexer switches the parser
// uses, Go-regexp details of the # % / modifiers, BuildKit quirks kept on purpose, and hostile
// input (deep nesting, huge words, invalid UTF-8).
#include "dockerfile/shell_lexer.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using xarch::dockerfile::EnvList;
using xarch::dockerfile::ShellLex;
using xarch::dockerfile::ShellLexOptions;
using Words = std::vector<std::string>;

const EnvList kEnv({"PWD=/home", "EMPTY=", "FOO=foo", "PATHS=a/b/c.tar.gz", "SP=a  b"});

std::string expand(std::string_view word, const EnvList& env = kEnv) {
    return ShellLex('\\').process_word(word, env);
}

std::string error_of(const ShellLex& lex, std::string_view word, const EnvList& env = kEnv) {
    try {
        lex.process_word(word, env);
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument);
        return e.what();
    }
    ADD_FAILURE() << "no error for " << word;
    return {};
}

TEST(ShellLexer, BacktickEscapeToken) {
    const ShellLex lex('`');
    EXPECT_EQ(lex.process_word("he`$PWD", kEnv), "he$PWD");
    EXPECT_EQ(lex.process_word(R"(C:\Windows\$PWD)", kEnv), R"(C:\Windows\/home)");
    EXPECT_EQ(lex.process_word(R"("a`"b")", kEnv), R"(a"b)");
    // With a backtick escape, a backslash is an ordinary character, even before a quote.
    EXPECT_EQ(lex.process_word(R"("a\"b)", kEnv), R"(a\b)");
}

TEST(ShellLexer, BacktickEscapeInsideQuotesAndAtEnd) {
    const ShellLex lex('`');
    EXPECT_EQ(lex.process_word("\"x``y\"", kEnv), "x`y");
    EXPECT_EQ(lex.process_word("\"x`ny\"", kEnv), "x`ny");  // only " $ ` are escaped
    EXPECT_EQ(lex.process_word("abc`", kEnv), "abc");
    EXPECT_EQ(lex.process_words("a` b c", kEnv), (Words{"a b", "c"}));
}

TEST(ShellLexer, PatternModifiers) {
    EXPECT_EQ(expand("${PATHS#*/}"), "b/c.tar.gz");
    EXPECT_EQ(expand("${PATHS##*/}"), "c.tar.gz");
    EXPECT_EQ(expand("${PATHS%.*}"), "a/b/c.tar");
    EXPECT_EQ(expand("${PATHS%%.*}"), "a/b/c");
    EXPECT_EQ(expand("${PATHS/\\//_}"), "a_b/c.tar.gz");
    EXPECT_EQ(expand("${PATHS//\\//_}"), "a_b_c.tar.gz");
    EXPECT_EQ(expand("${UNSET#x}"), "");
    // Quotes inside a pattern are removed, so a quoted star is still a wildcard.
    EXPECT_EQ(expand("${PATHS#\"*\"/}"), "b/c.tar.gz");
}

TEST(ShellLexer, WildcardsDoNotMatchNewlines) {
    const EnvList env({"V=a\nb/c"});
    EXPECT_EQ(expand("${V##*}", env), "\nb/c");
    EXPECT_EQ(expand("${V%%?}", env), "a\nb/");
    EXPECT_EQ(expand("${V//?/x}", env), "x\nxxx");
}

TEST(ShellLexer, ReplaceAllExpandsGoTemplates) {
    // ${V//p/r} goes through Go's ReplaceAllString, where $0 is the match and $$ a dollar; the
    // single replacement inserts r as it is.
    const EnvList env({"V=foo", "R=<$0>", "D=$$", "N=${1}x", "BAD=${x"});
    EXPECT_EQ(expand("${V//o/$R}", env), "f<o><o>");
    EXPECT_EQ(expand("${V/o/$R}", env), "f<$0>o");
    EXPECT_EQ(expand("${V//o/$D}", env), "f$$");
    EXPECT_EQ(expand("${V//o/$N}", env), "fxx");
    EXPECT_EQ(expand("${V//o/$BAD}", env), "f${x${x");
}

TEST(ShellLexer, EmptyPatternMatchesBetweenCharacters) {
    const EnvList env({"V=ab", "E="});
    EXPECT_EQ(expand("${V//$E/-}", env), "-a-b-");
    EXPECT_EQ(expand("${V/$E/-}", env), "-ab");
}

TEST(ShellLexer, ModifierErrorsQuoteTheWord) {
    const ShellLex lex('\\');
    EXPECT_EQ(error_of(lex, "a${b"), "failed to process \"a${b\": syntax error: missing '}'");
    EXPECT_EQ(error_of(lex, "${}"), "failed to process \"${}\": syntax error: bad substitution");
    EXPECT_NE(error_of(lex, "${UNSET:?}").find("UNSET: is not allowed to be unset"),
              std::string::npos);
    EXPECT_NE(error_of(lex, "${EMPTY:?}").find("EMPTY: is not allowed to be empty"),
              std::string::npos);
    EXPECT_NE(error_of(lex, "${FOO=x}").find("unsupported modifier (=)"), std::string::npos);
    EXPECT_NE(error_of(lex, "${FOO:#x}").find("unsupported modifier (:#)"), std::string::npos);
    EXPECT_NE(error_of(lex, "${FOO/x}").find("missing '/' in ${}"), std::string::npos);
    EXPECT_NE(error_of(lex, "${FOO#\\x}").find("invalid pattern"), std::string::npos);
    EXPECT_NE(error_of(lex, "'abc").find("single-quote"), std::string::npos);
    EXPECT_NE(error_of(lex, "\"abc").find("double-quote"), std::string::npos);
}

TEST(ShellLexer, SwitchesUsedByTheParser) {
    ShellLexOptions raw;
    raw.raw_quotes = true;
    raw.raw_escapes = true;
    raw.skip_unset_env = true;
    const ShellLex lex(raw);
    const EnvList none;
    EXPECT_EQ(lex.process_word("'a b'\\ \"c\"", none), "'a b'\\ \"c\"");
    EXPECT_EQ(lex.process_word("$X ${Y} ${Z:-d} ${W/a/b}", none), "$X ${Y} ${Z:-d} ${W/a/b}");
    EXPECT_EQ(lex.process_words("<<EOF <<-'EOT' << \"X\"", none),
              (Words{"<<EOF", "<<-'EOT'", "<< \"X\""}));

    ShellLexOptions no_quotes;
    no_quotes.skip_process_quotes = true;
    EXPECT_EQ(ShellLex(no_quotes).process_words("'a b' \"c d\"", none),
              (Words{"'a", "b'", "\"c", "d\""}));
}

TEST(ShellLexer, WordSplitting) {
    const ShellLex lex('\\');
    EXPECT_EQ(lex.process_words("x${SP}y", kEnv), (Words{"xa", "by"}));
    EXPECT_EQ(lex.process_words("x\"${SP}\"y", kEnv), (Words{"xa  by"}));
    // unicode.IsSpace: NBSP and the ideographic space separate words too.
    EXPECT_EQ(lex.process_words("a\u00a0b\u3000c", kEnv), (Words{"a", "b", "c"}));
    EXPECT_EQ(lex.process_words("cat <<  EOF", kEnv), (Words{"cat", "<<  EOF"}));
    EXPECT_EQ(lex.process_words("   ", kEnv), Words{});
}

// BuildKit shares the word buffer between nested expansions and clears it in each: text of the
// same word before a ${VAR:-...} or ${VAR/...} is lost from ProcessWords (not ProcessWord).
// Kept, so that EXPOSE and heredoc detection see what BuildKit sees.
TEST(ShellLexer, KeepsBuildKitWordBufferQuirk) {
    const ShellLex lex('\\');
    EXPECT_EQ(lex.process_words("hello${UNSET:-a}bye", kEnv), (Words{"abye"}));
    EXPECT_EQ(lex.process_words("x hello\"${FOO/o/0}\"", kEnv), (Words{"x", "f0o"}));
    EXPECT_EQ(lex.process_word("hello${UNSET:-a}bye", kEnv), "helloabye");
    EXPECT_EQ(lex.process_words("hello${FOO}bye", kEnv), (Words{"hellofoobye"}));
}

TEST(ShellLexer, MatchesAreRecorded) {
    const ShellLex lex('\\');
    const auto r =
        lex.process_word_with_matches("$FOO ${EMPTY:-x} ${NOPE:+y} $1 ${FOO#$NOPE2}", kEnv);
    EXPECT_EQ(r.result, "foo x   foo");
    EXPECT_EQ(r.matched, (std::set<std::string>{"EMPTY", "FOO"}));
    EXPECT_EQ(r.unmatched, (std::set<std::string>{"1", "NOPE", "NOPE2"}));
    EXPECT_EQ(r.words, (Words{"foo", "x", "foo"}));
}

TEST(ShellLexer, NamesFollowUnicodeLettersAndDigits) {
    const EnvList env({"변수=v", "x٣=arabic-indic", "٣=digit"});
    EXPECT_EQ(expand("[$변수]", env), "[v]");
    EXPECT_EQ(expand("$x٣", env), "arabic-indic");
    EXPECT_EQ(expand("$٣x", env), "digitx");  // a positional name: all the digits, then stop
}

TEST(ShellLexer, InvalidUtf8AndNul) {
    // Go's text/scanner reads an invalid byte as U+FFFD and drops a leading byte-order mark.
    EXPECT_EQ(expand("a\xff"
                     "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(expand("\xEF\xBB\xBF"
                     "x"),
              "x");
    EXPECT_EQ(expand("x\xEF\xBB\xBF"), "x\xEF\xBB\xBF");
    EXPECT_EQ(expand(std::string("a\0b", 3)), std::string("a\0b", 3));
    // Values are copied as they are, but reversing for % re-encodes them, as in BuildKit.
    const EnvList env(
        {"V=\xff"
         "a"});
    EXPECT_EQ(expand("$V", env),
              "\xff"
              "a");
    EXPECT_EQ(expand("${V%b}", env),
              "\xEF\xBF\xBD"
              "a");
}

TEST(EnvList, LookupRules) {
    const EnvList env({"A=1", "B", "A=2", "C="});
    EXPECT_EQ(env.get("A"), "2");
    EXPECT_EQ(env.get("B"), "");
    EXPECT_EQ(env.get("C"), "");
    EXPECT_FALSE(env.get("a").has_value());
    EXPECT_EQ(env.keys(), (Words{"A", "B", "A", "C"}));
    const EnvList windows({"Path=x"}, true);
    EXPECT_EQ(windows.get("PATH"), "x");
    EXPECT_EQ(windows.get("path"), "x");
}

// ---- hostile input ----

TEST(ShellLexer, NestingDepthIsLimited) {
    auto nested = [](std::size_t depth) {
        std::string w;
        for (std::size_t i = 0; i < depth; ++i) {
            w += "${A:-";
        }
        w += "x";
        w.append(depth, '}');
        return w;
    };
    EXPECT_EQ(expand(nested(ShellLex::kMaxNesting)), "x");
    const std::string message = error_of(ShellLex('\\'), nested(ShellLex::kMaxNesting + 1));
    EXPECT_NE(message.find("nested more than 256 levels deep"), std::string::npos) << message;
    // Far deeper, through double quotes too: still a clean error, no stack exhaustion.
    std::string deep;
    for (int i = 0; i < 200000; ++i) {
        deep += "\"${A:-";
    }
    EXPECT_THROW(expand(deep), xarch::Error);
}

TEST(ShellLexer, HugeInputsStayLinear) {
    const auto start = std::chrono::steady_clock::now();
    const std::string big(8 << 20, 'a');
    EXPECT_EQ(expand(big), big);
    std::string many;
    for (int i = 0; i < 200000; ++i) {
        many += "${FOO} ";
    }
    EXPECT_EQ(ShellLex('\\').process_words(many, kEnv).size(), 200000U);
    // "$$" is the special parameter $, which is never set.
    EXPECT_EQ(expand(std::string(1 << 20, '$')), "");
    EXPECT_EQ(expand(std::string((1 << 20) + 1, '$')), "$");
    // A long value against a long pattern of stars: bounded by value × pattern.
    const EnvList env({"V=" + std::string(20000, 'a') + "b", "P=" + std::string(200, '*') + "b"});
    EXPECT_EQ(expand("${V#$P}", env), "");
    EXPECT_EQ(expand("${V//$P/x}", env), "x");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

}  // namespace
