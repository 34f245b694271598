// SPDX-License-Identifier: Apache-2.0
// Hostile and huge input: every case must end in a clear DockerfileError or a correct result,
// quickly, without a crash or deep recursion. The inputs are generated here.
#include "dockerfile/ast_dump.hpp"
#include "dockerfile/error.hpp"
#include "dockerfile/parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>

namespace {

namespace df = xarch::dockerfile;

// Parses and dumps `text`; true when it parsed, false on a DockerfileError. Any other exception
// fails the test.
bool parses(const std::string& text) {
    try {
        const df::ParseResult r = df::parse(text);
        (void)df::dump(r);
        try {
            df::check_instructions(r);
        } catch (const df::DockerfileError&) {
            // unknown instructions are expected in garbage
        }
        return true;
    } catch (const df::DockerfileError& e) {
        EXPECT_NE(std::string(e.what()), "");
        return false;
    }
}

TEST(DockerfileRobustness, RandomBytes) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 400);
    for (int i = 0; i < 3000; ++i) {
        std::string text;
        const int n = length(rng);
        for (int j = 0; j < n; ++j) {
            text += static_cast<char>(byte(rng));
        }
        parses(text);
    }
}

// Garbage made of the characters the parser cares about, to reach deep into its branches.
TEST(DockerfileRobustness, RandomSyntax) {
    const std::string alphabet[] = {"RUN ",
                                    "COPY ",
                                    "ONBUILD ",
                                    "ENV ",
                                    "LABEL ",
                                    "ARG ",
                                    "HEALTHCHECK ",
                                    "CMD ",
                                    "x",
                                    "=",
                                    "\"",
                                    "'",
                                    "\\",
                                    "`",
                                    "\n",
                                    "\t",
                                    " ",
                                    "#",
                                    "<<",
                                    "<<-",
                                    "EOF",
                                    "[",
                                    "]",
                                    ",",
                                    "{",
                                    "}",
                                    "${",
                                    "--",
                                    "-",
                                    "\r",
                                    "\xC2\xA0",
                                    "\xFF",
                                    std::string(1, '\0'),
                                    "# escape=`\n"};
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> pick(0, std::size(alphabet) - 1);
    std::uniform_int_distribution<int> length(0, 60);
    int ok = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text;
        const int n = length(rng);
        for (int j = 0; j < n; ++j) {
            text += alphabet[pick(rng)];
        }
        ok += parses(text) ? 1 : 0;
    }
    EXPECT_GT(ok, 0);
}

TEST(DockerfileRobustness, NulBytesAndInvalidUtf8) {
    using namespace std::string_literals;
    const std::string text = "FROM a\0b\nRUN \xFF\xFE\0 x\nLABEL k=\xC3\x28\n"s;
    const df::ParseResult r = df::parse(text);
    EXPECT_EQ(
        df::dump(r),
        "(from \"a\\x00b\")\n(run \"\\xff\\xfe\\x00 x\")\n(label \"k\" \"\xEF\xBF\xBD(\" \"=\")");
}

TEST(DockerfileRobustness, TenThousandContinuationLines) {
    std::string text = "FROM a\nRUN echo start";
    for (int i = 0; i < 10000; ++i) {
        text += " \\\n  && echo " + std::to_string(i);
        if (i % 100 == 0) {
            text += " \\\n\n# comment\n";  // an empty line and a comment inside
        }
    }
    text += "\nRUN done\n";
    const df::ParseResult r = df::parse(text);
    ASSERT_EQ(r.instructions.size(), 3U);
    EXPECT_EQ(r.instructions[1].start_line, 2);
    EXPECT_EQ(r.instructions[2].start_line, r.instructions[1].end_line + 1);
    EXPECT_NE(r.instructions[1].args[0].find("&& echo 9999"), std::string::npos);
    EXPECT_EQ(r.warnings.size(), 1U);
}

TEST(DockerfileRobustness, LongLines) {
    const std::string max(df::kMaxLineLength - 4, 'a');
    EXPECT_TRUE(parses("RUN " + max + "\n"));
    EXPECT_TRUE(parses("RUN " + max));
    try {
        df::parse("FROM a\nRUN " + max + "b\n");
        FAIL() << "no error";
    } catch (const df::DockerfileError& e) {
        EXPECT_EQ(e.start_line(), 2);
        EXPECT_NE(
            std::string(e.what()).find("dockerfile line greater than max allowed size of 65535"),
            std::string::npos);
    }
    // Inside a heredoc, or with nothing before it, the error is the same.
    EXPECT_FALSE(parses("RUN <<EOF\n" + max + "12345\nEOF\n"));
    EXPECT_FALSE(parses(max + "12345"));
}

TEST(DockerfileRobustness, HundredMegabytes) {
    // ~100 MB: 1 KiB RUN lines, then one instruction of 1,600 continued 63 KiB lines.
    std::string text = "FROM scratch\n";
    const std::string line = "RUN " + std::string(1019, 'x') + "\n";
    while (text.size() < 100U * 1000 * 1000) {
        text += line;
    }
    const auto start = std::chrono::steady_clock::now();
    const df::ParseResult r = df::parse(text);
    EXPECT_EQ(r.instructions.size(), 1U + (text.size() - 13) / line.size());
    std::string big = "FROM scratch\nRUN ";
    const std::string chunk(63 * 1024, 'y');
    for (int i = 0; i < 1600; ++i) {
        big += chunk + " \\\n";
    }
    big += "end\n";
    const df::ParseResult r2 = df::parse(big);
    ASSERT_EQ(r2.instructions.size(), 2U);
    EXPECT_EQ(r2.instructions[1].end_line, 1602);
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    std::cout << "parsed 2 x ~100 MB in " << seconds.count() << " s\n";
}

// `text` cut into physical lines of `width` bytes joined by line continuations, so that one
// instruction can be longer than a line may be.
std::string continued(const std::string& text, std::size_t width = 1000) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += width) {
        out += text.substr(i, width);
        out += i + width < text.size() ? "\\\n" : "\n";
    }
    return out;
}

TEST(DockerfileRobustness, DeepNesting) {
    // ONBUILD inside ONBUILD is refused past a depth, not recursed into.
    std::string onbuild;
    for (int i = 0; i < 100000; ++i) {
        onbuild += "ONBUILD ";
    }
    try {
        df::parse(continued(onbuild + "RUN x"));
        FAIL() << "no error";
    } catch (const df::DockerfileError& e) {
        EXPECT_NE(std::string(e.what()).find("ONBUILD nested more than"), std::string::npos);
    }
    // JSON nesting is iterative; past Go's limit it is the shell form.
    const std::string json = "CMD [" + std::string(60000, '[') + std::string(60000, ']') + "]";
    const df::ParseResult r = df::parse(continued(json));
    EXPECT_FALSE(r.instructions[0].json);
    // ${ nesting on a heredoc line: a clear error past 64 levels.
    std::string dollars = "RUN <<EOF ";
    for (int i = 0; i < 100000; ++i) {
        dollars += "${a:-";
    }
    dollars += std::string(100000, '}');
    try {
        df::parse(continued(dollars) + "EOF\n");
        FAIL() << "no error";
    } catch (const df::DockerfileError& e) {
        EXPECT_NE(std::string(e.what()).find("nested more than 64 levels"), std::string::npos);
        EXPECT_EQ(e.start_line(), 1);
    }
}

TEST(DockerfileRobustness, ManyHeredocsAndEmptyLines) {
    std::string text = "FROM a\nRUN";
    for (int i = 0; i < 2000; ++i) {
        text += " <<E" + std::to_string(i);
    }
    text += "\n";
    for (int i = 0; i < 2000; ++i) {
        text += "body\nE" + std::to_string(i) + "\n";
    }
    text += std::string(100000, '\n');
    const df::ParseResult r = df::parse(text);
    ASSERT_EQ(r.instructions.size(), 2U);
    EXPECT_EQ(r.instructions[1].heredocs.size(), 2000U);
    EXPECT_EQ(r.instructions[1].end_line, 4002);
}

}  // namespace
