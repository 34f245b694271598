// SPDX-License-Identifier: Apache-2.0
// The parser's building blocks: Go-compatible text primitives (UTF-8 decoding, %q quoting, case
// and space classes), the JSON exec form, the heredoc word lexer, and the directive parser.
#include "dockerfile/directives.hpp"
#include "dockerfile/heredoc.hpp"
#include "dockerfile/json_array.hpp"
#include "dockerfile/line_parsers.hpp"
#include "util/go_text.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace df = xarch::dockerfile;
namespace go = xarch::util::go;
using Words = std::vector<std::string>;

// ---- go_text ----

TEST(DockerfileGoText, DecodeRune) {
    EXPECT_EQ(go::decode_rune("a").rune, U'a');
    EXPECT_EQ(go::decode_rune("\xC3\xA9").rune, U'é');
    EXPECT_EQ(go::decode_rune("\xF0\x9F\x98\x80").width, 4U);
    // Overlong, surrogate, past U+10FFFF, truncated, stray continuation: one byte each.
    for (const char* bad : {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\x80"}) {
        const go::DecodedRune d = go::decode_rune(bad);
        EXPECT_EQ(d.rune, go::kRuneError) << bad;
        EXPECT_EQ(d.width, 1U) << bad;
    }
    EXPECT_EQ(go::decode_last_rune("a\xC3\xA9").rune, U'é');
    EXPECT_EQ(go::decode_last_rune("a\xA9").width, 1U);
}

TEST(DockerfileGoText, Quote) {
    EXPECT_EQ(go::quote("plain"), "\"plain\"");
    EXPECT_EQ(go::quote("\"\\\a\b\f\n\r\t\v"), R"("\"\\\a\b\f\n\r\t\v")");
    EXPECT_EQ(go::quote(std::string("\x00\x1f\x7f", 3)), R"("\x00\x1f\x7f")");
    EXPECT_EQ(go::quote("\xff\xC3"), R"("\xff\xc3")");
    EXPECT_EQ(go::quote("é♥☃"), "\"é♥☃\"");
    EXPECT_EQ(go::quote("\xC2\xA0\xC2\xAD"), R"("\u00a0\u00ad")");  // NBSP, soft hyphen
    EXPECT_EQ(go::quote("\xF3\xA0\x80\x81"), R"("\U000e0001")");    // a tag character
    EXPECT_EQ(go::quote("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\"");       // U+FFFD is printable
    EXPECT_EQ(go::quote_list({"--a=1", "b c"}), R"(["--a=1" "b c"])");
}

TEST(DockerfileGoText, CaseAndSpace) {
    EXPECT_EQ(go::to_lower("RUN"), "run");
    EXPECT_EQ(go::to_lower("WOR\u212ADIR"), "workdir");  // KELVIN SIGN lowers to k
    EXPECT_EQ(go::to_lower("A\xFF"), "a\xEF\xBF\xBD");
    EXPECT_EQ(go::to_upper("straße"), "STRAßE");  // simple mappings only: ß stays
    EXPECT_TRUE(go::is_space(0x85));
    EXPECT_TRUE(go::is_space(0xA0));
    EXPECT_TRUE(go::is_space(0x3000));
    EXPECT_FALSE(go::is_space(0x200B));
    EXPECT_EQ(go::trim_space("\xC2\xA0 x \t\xE3\x80\x80"), "x");
    EXPECT_EQ(go::trim_space(" x\xC2"), "x\xC2");
    EXPECT_TRUE(go::is_letter(U'ß'));
    EXPECT_TRUE(go::is_digit(0x0660));   // ARABIC-INDIC DIGIT ZERO
    EXPECT_FALSE(go::is_print(0xE000));  // private use
}

// ---- JSON exec form ----

TEST(DockerfileJsonArray, Strings) {
    const df::JsonArray a = df::parse_json_array(" [\"a\", \"\\u00e9\\n\", \"\"]\r\n");
    ASSERT_EQ(a.status, df::JsonArrayStatus::kStrings);
    EXPECT_EQ(a.values, (Words{"a", "é\n", ""}));
    // Lone surrogates and invalid UTF-8 become U+FFFD; a valid pair is combined.
    EXPECT_EQ(df::parse_json_array(R"(["\ud800x", "\udc00", "\ud83d\ude00"])").values,
              (Words{"\xEF\xBF\xBDx", "\xEF\xBF\xBD", "😀"}));
    EXPECT_EQ(df::parse_json_array("[\"\xFF\"]").values, Words{"\xEF\xBF\xBD"});
}

TEST(DockerfileJsonArray, NotJson) {
    for (const char* text : {"", "x", "[", "[\"a\"", "[\"a\",]", "[\"a\"] x", "[\"\t\"]", "['a']",
                             "[\"\\x\"]", "[01]", "[1.]", "[-]", "[tru]", "{\"a\":1}",
                             "[\"a\" \"b\"]", "[1e309]", "[[1e400]]", "[{\"k\": -1E+999}]"}) {
        EXPECT_EQ(df::parse_json_array(text).status, df::JsonArrayStatus::kNotJson) << text;
    }
}

TEST(DockerfileJsonArray, NotStringArray) {
    for (const char* text : {"[1]", "[\"a\", null]", "[[]]", "[{}]", "[\"a\", {\"b\": [1, 2]}]",
                             "[1e-400]", "[-0.5e+10, true, false]", "[1.7976931348623157e308]"}) {
        EXPECT_EQ(df::parse_json_array(text).status, df::JsonArrayStatus::kNotStringArray) << text;
    }
    // Go's maxNestingDepth is 10000, the outer array included.
    const auto nested = [](std::size_t depth) {
        return "[\"a\"," + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "]";
    };
    EXPECT_EQ(df::parse_json_array(nested(10000)).status, df::JsonArrayStatus::kNotStringArray);
    EXPECT_EQ(df::parse_json_array(nested(10001)).status, df::JsonArrayStatus::kNotJson);
}

TEST(DockerfileJsonArray, ObjectString) {
    EXPECT_EQ(df::json_object_string(R"({"syntax": "a", "syntax": "b"})", "syntax"), "b");
    EXPECT_FALSE(df::json_object_string(R"({"syntax": 1})", "syntax").has_value());
    EXPECT_FALSE(df::json_object_string(R"(["syntax"])", "syntax").has_value());
    EXPECT_FALSE(df::json_object_string(R"({"x": {"syntax": "a"}})", "syntax").has_value());
}

// ---- line parsers ----

TEST(DockerfileLineParsers, SplitWhitespace) {
    EXPECT_EQ(df::split_whitespace("a  b\tc"), (Words{"a", "b", "c"}));
    EXPECT_EQ(df::split_whitespace(" a "), (Words{"", "a", ""}));
    EXPECT_EQ(df::split_whitespace("a b c", 2), (Words{"a", "b c"}));
    EXPECT_EQ(df::split_whitespace(""), Words{""});
}

TEST(DockerfileLineParsers, ParseWords) {
    EXPECT_EQ(df::parse_words("a=\"b c\" d='e f' g\\ h", '\\'),
              (Words{"a=\"b c\"", "d='e f'", "g\\ h"}));
    EXPECT_EQ(df::parse_words("x=\"\"", '\\'), Words{"x=\"\""});
    EXPECT_EQ(df::parse_words("a`  b", '`'), (Words{"a` ", "b"}));
    EXPECT_EQ(df::parse_words("a\xFF", '\\'), Words{"a\xEF\xBF\xBD"});
    EXPECT_EQ(df::parse_words("a\xC2\xA0"
                              "b",
                              '\\'),
              (Words{"a", "b"}));
}

TEST(DockerfileLineParsers, SplitCommand) {
    const df::SplitLine s = df::split_command("  COPY --a=1 \"--b\" x  ", '\\');
    EXPECT_EQ(s.keyword, "COPY");
    EXPECT_EQ(s.flags, Words{"--a=1"});
    EXPECT_EQ(s.rest, "\"--b\" x");
    EXPECT_EQ(df::split_command("RUN --", '\\').flags, Words{});
}

// ---- heredoc words ----

TEST(DockerfileHeredoc, LexWords) {
    EXPECT_EQ(df::lex_words("a 'b c' \"d\\\"e\"", false, false), (Words{"a", "b c", "d\"e"}));
    EXPECT_EQ(df::lex_words("a 'b c'", true, false), (Words{"a", "'b c'"}));
    EXPECT_EQ(df::lex_words("x\\ y", false, true), Words{"x\\ y"});
    EXPECT_EQ(df::lex_words("$A ${B} ${C:-d e}", false, false),
              (Words{"$A", "${B}", "${C:-d", "e}"}));
    EXPECT_EQ(df::lex_words("<<  EOF", false, false), Words{"<<  EOF"});
    EXPECT_EQ(df::lex_words("${x//a/b}", false, false), Words{"${x/a/b}"});
    // BuildKit's lexer shares its word buffer with a nested ${...}: the word so far is lost.
    EXPECT_EQ(df::lex_words("ab${x:-y}", false, false), Words{"${x:-y}"});
    for (const char* bad : {"'a", "\"a", "${", "${}", "${a", "${a:#b}", "${a!}"}) {
        EXPECT_FALSE(df::lex_words(bad, false, false).has_value()) << bad;
    }
    std::string deep;
    for (int i = 0; i < 1000; ++i) {
        deep += "${a:-";
    }
    EXPECT_THROW(df::lex_words(deep + std::string(1000, '}'), false, false), xarch::Error);
}

TEST(DockerfileHeredoc, ParseHeredoc) {
    const auto h = df::parse_heredoc("12<<-'E O'F");
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->name, "E OF");
    EXPECT_EQ(h->file_descriptor, 12U);
    EXPECT_TRUE(h->chomp);
    EXPECT_FALSE(h->expand);
    EXPECT_EQ(df::parse_heredoc("99999999999999999999999<<EOF")->file_descriptor, UINT64_MAX);
    EXPECT_EQ(df::parse_heredoc("<<$EOF")->name, "$EOF");
    EXPECT_TRUE(df::parse_heredoc("<<$EOF")->expand);
    try {
        df::parse_heredoc("<<'EOF");
        FAIL() << "no error";
    } catch (const xarch::Error& e) {
        EXPECT_NE(std::string(e.what()).find("single-quote"), std::string::npos) << e.what();
    }
}

TEST(DockerfileHeredoc, FromLine) {
    // A line the lexer cannot split has no heredocs.
    EXPECT_TRUE(df::heredocs_from_line("RUN <<EOF 'x").empty());
    const std::vector<df::Heredoc> docs = df::heredocs_from_line("RUN cat <<A <<'B' > f");
    ASSERT_EQ(docs.size(), 2U);
    EXPECT_EQ(docs[0].name, "A");
    EXPECT_EQ(docs[1].name, "B");
    EXPECT_FALSE(docs[1].expand);
    EXPECT_EQ(df::chomp_heredoc_content("\t\ta\n\tb\n c\t\n"), "a\nb\n c\t\n");
}

// ---- directives ----

TEST(DockerfileDirectives, ParseLine) {
    df::DirectiveParser p;
    auto d = p.parse_line("# Syntax = docker/dockerfile:1.7 ");
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->name, "syntax");
    EXPECT_EQ(d->value, "docker/dockerfile:1.7");
    EXPECT_EQ(d->line, 1);
    EXPECT_THROW(p.parse_line("#syntax=again"), xarch::Error);
    EXPECT_FALSE(p.parse_line("#escape-x=1").has_value());
    EXPECT_TRUE(p.done());
    EXPECT_FALSE(p.parse_line("# escape=`").has_value());  // done: nothing more is a directive
}

TEST(DockerfileDirectives, DetectSyntax) {
    const auto s = df::detect_syntax("#!/usr/bin/env buildctl\n# syntax=docker/dockerfile:1 x\n");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->ref, "docker/dockerfile:1");
    EXPECT_EQ(s->cmdline, "docker/dockerfile:1 x");
    EXPECT_EQ(s->line, 2);
    EXPECT_FALSE(df::detect_syntax("FROM a\n# syntax=x\n").has_value());
    EXPECT_FALSE(df::parse_directive("check", "//check=skip=all").has_value());
    EXPECT_EQ(df::parse_directive("check", "# check=error=true\nFROM a")->ref, "error=true");
}

}  // namespace
