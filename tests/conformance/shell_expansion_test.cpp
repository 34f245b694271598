// SPDX-License-Identifier: Apache-2.0
// Runs the shell-expansion corpus (shared/conformance/shell-expansion: BuildKit's envVarTest and
// wordsTest, and lex-cases.json transcribed from lex_test.go; see its README.md) against
// xarch::dockerfile::ShellLex. Lines marked W (Windows only) run with Windows' case-insensitive
// variable names; lines marked U run as they are, this being Unix.
#include "corpus.hpp"
#include "dockerfile/shell_lexer.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using xarch::dockerfile::EnvList;
using xarch::dockerfile::ShellLex;
using xarch::test::read_file;
using xarch::test::run_case;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

// Go's strings.TrimSpace for the corpus, which is ASCII around the fields.
std::string trim(std::string_view s) {
    const char* ws = " \t\r\n\v\f";
    const std::size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) {
        return {};
    }
    return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    for (;;) {
        const std::size_t at = s.find(sep);
        out.emplace_back(s.substr(0, at));
        if (at == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(at + 1);
    }
}

std::set<std::string> string_set(const json::value* v) {
    std::set<std::string> out;
    if (v != nullptr && v->is_array()) {
        for (const json::value& s : v->as_array()) {
            out.emplace(s.as_string());
        }
    }
    return out;
}

EnvList env_from_object(const json::value& v) {
    std::vector<std::string> entries;
    for (const auto& [key, value] : v.as_object()) {
        entries.push_back(std::string(key) + "=" + std::string(value.as_string()));
    }
    return EnvList(entries);
}

EnvList env_from_array(const json::value& v) {
    std::vector<std::string> entries;
    for (const json::value& e : v.as_array()) {
        entries.emplace_back(e.as_string());
    }
    return EnvList(entries);
}

[[maybe_unused]] ::testing::Environment* const kSummary =
    xarch::test::add_summary("shell-expansion");

class ShellExpansionConformance : public xarch::test::CorpusTest {
protected:
    ShellExpansionConformance() : CorpusTest("shell-expansion") {}
};

TEST_F(ShellExpansionConformance, EveryCorpusFileIsCovered) {
    const std::set<std::string> known = {"README.md", "envVarTest", "wordsTest", "lex-cases.json"};
    std::set<std::string> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(*dir_)) {
        found.insert(entry.path().filename().string());
    }
    run_case("corpus files", [&] { EXPECT_EQ(found, known); });
}

// ---- envVarTest: ProcessWord ----

TEST_F(ShellExpansionConformance, EnvVarTest) {
    const std::vector<std::string> base = {"PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="};
    const EnvList unix_env(base);
    const EnvList windows_env(base, true);
    const ShellLex lex('\\');
    int cases = 0;
    for (const std::string& raw : lines_of(read_file(*dir_ / "envVarTest"))) {
        if (!raw.empty() && raw[0] == '#') {
            continue;
        }
        const std::string line = trim(raw);
        if (line.empty()) {
            continue;
        }
        ++cases;
        const std::vector<std::string> fields = split(line, '|');
        run_case("envVarTest: " + line, [&] {
            ASSERT_EQ(fields.size(), 3U);
            const std::string platform = trim(fields[0]);
            const std::string input = trim(fields[1]);
            const std::string expected = trim(fields[2]);
            ASSERT_TRUE(platform == "A" || platform == "U" || platform == "W") << platform;
            const EnvList& env = platform == "W" ? windows_env : unix_env;
            if (expected == "error") {
                EXPECT_THROW(lex.process_word(input, env), xarch::Error) << input;
            } else {
                EXPECT_EQ(lex.process_word(input, env), expected) << input;
            }
        });
    }
    EXPECT_EQ(cases, 230);
}

// ---- wordsTest: ProcessWords ----

TEST_F(ShellExpansionConformance, WordsTest) {
    EnvList env;
    const ShellLex lex('\\');
    int cases = 0;
    int env_lines = 0;
    for (const std::string& line : lines_of(read_file(*dir_ / "wordsTest"))) {
        if (!line.empty() && line[0] == '#') {
            continue;
        }
        if (line.rfind("ENV ", 0) == 0) {
            const std::size_t value = line.find_first_not_of(' ', 3);
            env.add(line.substr(value == std::string::npos ? line.size() : value));
            ++env_lines;
            continue;
        }
        ++cases;
        run_case("wordsTest: " + line, [&] {
            const std::vector<std::string> fields = split(line, '|');
            ASSERT_EQ(fields.size(), 2U);
            const std::string input = trim(fields[0]);
            const std::size_t start = fields[1].find_first_not_of(' ');
            const std::string expected =
                start == std::string::npos ? std::string() : fields[1].substr(start);
            if (expected == "error") {
                EXPECT_THROW(lex.process_words(input, env), xarch::Error) << input;
            } else {
                EXPECT_EQ(lex.process_words(input, env), split(expected, ',')) << input;
            }
        });
    }
    EXPECT_EQ(cases, 24);
    EXPECT_EQ(env_lines, 4);
}

// ---- lex-cases.json ----

class LexCases : public ShellExpansionConformance {
protected:
    json::value doc() const { return json::parse(read_file(*dir_ / "lex-cases.json")); }
};

TEST_F(LexCases, ProcessWordWithMatches) {
    const json::value d = doc();
    const ShellLex lex('\\');
    const json::array& cases = d.at("process_word_with_matches").as_array();
    EXPECT_EQ(cases.size(), 47U);
    for (const json::value& c : cases) {
        const std::string input(c.at("input").as_string());
        run_case("process_word_with_matches: " + input, [&] {
            const EnvList env = env_from_object(c.at("envs"));
            const json::value* error = c.as_object().if_contains("error");
            if (error != nullptr && error->as_bool()) {
                EXPECT_THROW(lex.process_word_with_matches(input, env), xarch::Error);
                return;
            }
            const xarch::dockerfile::ShellWordResult r = lex.process_word_with_matches(input, env);
            EXPECT_EQ(r.result, std::string(c.at("expected").as_string()));
            EXPECT_EQ(r.matched, string_set(c.as_object().if_contains("matches")));
            EXPECT_EQ(r.unmatched, string_set(c.as_object().if_contains("unmatched")));
        });
    }
}

TEST_F(LexCases, Mandatory) {
    const json::value d = doc();
    const ShellLex lex('\\');
    for (const json::value& c : d.at("mandatory").as_array()) {
        const std::string input(c.at("input").as_string());
        run_case("mandatory: " + input, [&] {
            const EnvList env = env_from_array(c.at("env"));
            if (const json::value* want = c.as_object().if_contains("error_contains")) {
                try {
                    lex.process_word(input, env);
                    ADD_FAILURE() << "no error for " << input;
                } catch (const xarch::Error& e) {
                    EXPECT_NE(std::string(e.what()).find(std::string(want->as_string())),
                              std::string::npos)
                        << e.what();
                }
            } else {
                EXPECT_EQ(lex.process_word(input, env), std::string(c.at("expected").as_string()));
            }
        });
    }
}

TEST_F(LexCases, PlatformTemplate) {
    const json::value d = doc();
    const ShellLex lex('\\');
    const json::object& t = d.at("platform_template").as_object();
    const std::string input(t.at("input").as_string());
    for (const json::value& c : t.at("cases").as_array()) {
        run_case("platform_template: " + json::serialize(c.at("env")), [&] {
            EXPECT_EQ(lex.process_word(input, env_from_object(c.at("env"))),
                      std::string(c.at("expected").as_string()));
        });
    }
}

TEST_F(LexCases, EnvListLookup) {
    const json::value d = doc();
    for (const json::value& c : d.at("env_list_lookup").as_array()) {
        run_case("env_list_lookup: " + json::serialize(c), [&] {
            const EnvList env = env_from_array(c.at("env"));
            const std::string name(c.at("name").as_string());
            EXPECT_EQ(std::string(env.get(name).value_or("")),
                      std::string(c.at("value").as_string()));
        });
    }
}

// The patterns reach the glob conversion through a variable, so the lexer leaves them as they
// are; each must make ${FOO#...}, ${FOO%...} and ${FOO/.../x} fail.
TEST_F(LexCases, InvalidPatterns) {
    const json::value d = doc();
    const ShellLex lex('\\');
    for (const json::value& p : d.at("shell_pattern_to_regex").at("invalid_patterns").as_array()) {
        const std::string pattern(p.as_string());
        run_case("invalid pattern: " + pattern, [&] {
            const EnvList env({"FOO=value", "PAT=" + pattern});
            for (const char* word : {"${FOO#$PAT}", "${FOO##$PAT}", "${FOO%$PAT}", "${FOO/$PAT/x}",
                                     "${FOO//$PAT/x}"}) {
                EXPECT_THROW(lex.process_word(word, env), xarch::Error) << word;
            }
        });
    }
}

}  // namespace
