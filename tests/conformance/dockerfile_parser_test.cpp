// SPDX-License-Identifier: Apache-2.0
// Runs the Dockerfile parser corpus (shared/conformance/dockerfile-parser: BuildKit's parser
// testfiles, copied byte for byte, and its Go test tables transcribed to JSON; see its README.md)
// against lib/dockerfile. Every testfiles/ case must dump byte for byte as its `result`, every
// testfiles-negative/ case must fail with the expected error.
#include "corpus.hpp"
#include "dockerfile/ast_dump.hpp"
#include "dockerfile/directives.hpp"
#include "dockerfile/error.hpp"
#include "dockerfile/heredoc.hpp"
#include "dockerfile/json_array.hpp"
#include "dockerfile/line_parsers.hpp"
#include "dockerfile/parser.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using xarch::test::read_file;
using xarch::test::run_case;
namespace df = xarch::dockerfile;

// ---- the corpus ----

std::string str(const json::value& v) {
    return std::string(v.as_string());
}

std::string str(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? str(*v) : std::string();
}

std::vector<std::string> strings(const json::value& v) {
    std::vector<std::string> out;
    for (const json::value& s : v.as_array()) {
        out.push_back(str(s));
    }
    return out;
}

std::vector<std::string> sorted_dirs(const fs::path& dir) {
    std::vector<std::string> out;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
        if (entry.is_directory()) {
            out.push_back(entry.path().filename().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

[[maybe_unused]] ::testing::Environment* const kSummary =
    xarch::test::add_summary("dockerfile-parser");

// The message of the DockerfileError that parsing `text` throws ("" when it does not throw).
std::string parse_error(const std::string& text) {
    try {
        df::parse(text);
    } catch (const df::DockerfileError& e) {
        return e.what();
    }
    return {};
}

class DockerfileParserConformance : public xarch::test::CorpusTest {
protected:
    DockerfileParserConformance() : CorpusTest("dockerfile-parser") {}

    json::value corpus(const char* name) const { return json::parse(read_file(*dir_ / name)); }
};

// ---- the corpus entries this suite knows; a new one must get a test here ----

TEST_F(DockerfileParserConformance, EveryCorpusEntryIsCovered) {
    const std::set<std::string> known = {"README.md",         "directives.json", "heredoc.json",
                                         "parser-misc.json",  "testfile-line",   "testfiles",
                                         "testfiles-negative"};
    std::set<std::string> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(*dir_)) {
        found.insert(entry.path().filename().string());
    }
    run_case("corpus entries", [&] { EXPECT_EQ(found, known); });
}

// ---- testfiles/: the AST dump, byte for byte ----

TEST_F(DockerfileParserConformance, Testfiles) {
    const std::vector<std::string> cases = sorted_dirs(*dir_ / "testfiles");
    EXPECT_EQ(cases.size(), 25U);
    for (const std::string& name : cases) {
        run_case("testfiles/" + name, [&] {
            const fs::path dir = *dir_ / "testfiles" / name;
            const std::string text = read_file(dir / "Dockerfile");
            const std::string want = read_file(dir / "result");
            const df::ParseResult result = df::parse(text);
            EXPECT_EQ(df::dump(result) + "\n", want);
        });
    }
}

// ---- testfiles-negative/: parsing fails, with BuildKit's message ----

TEST_F(DockerfileParserConformance, TestfilesNegative) {
    const std::map<std::string, std::string> expected = {
        {"empty_dockerfile", "file with no instructions"},
        {"only_comments", "file with no instructions"},
        {"env_no_value", "ENV must have two arguments"},
        {"shykes-nested-json",
         "when using JSON array syntax, arrays must be comprised of strings only"},
    };
    const std::vector<std::string> cases = sorted_dirs(*dir_ / "testfiles-negative");
    EXPECT_EQ(cases.size(), 4U);
    for (const std::string& name : cases) {
        run_case("testfiles-negative/" + name, [&] {
            const std::string text = read_file(*dir_ / "testfiles-negative" / name / "Dockerfile");
            const std::string message = parse_error(text);
            ASSERT_FALSE(message.empty()) << "parsing succeeded";
            EXPECT_TRUE(message.starts_with("Dockerfile")) << message;
            auto it = expected.find(name);
            if (it != expected.end()) {
                EXPECT_NE(message.find(it->second), std::string::npos) << message;
            }
        });
    }
}

// ---- testfile-line/: line numbers ----

TEST_F(DockerfileParserConformance, TestfileLine) {
    const json::value doc = corpus("parser-misc.json");
    const json::object& c = doc.at("line_numbers").as_object();
    run_case("testfile-line", [&] {
        const df::ParseResult result = df::parse(read_file(*dir_ / str(c, "file")));
        EXPECT_EQ(result.start_line, c.at("root").at("start").as_int64());
        EXPECT_EQ(result.end_line, c.at("root").at("end").as_int64());
        const json::array& children = c.at("children").as_array();
        ASSERT_EQ(result.instructions.size(), children.size());
        for (std::size_t i = 0; i < children.size(); ++i) {
            EXPECT_EQ(result.instructions[i].start_line, children[i].at(0).as_int64()) << i;
            EXPECT_EQ(result.instructions[i].end_line, children[i].at(1).as_int64()) << i;
        }
    });
}

// ---- heredoc.json ----

TEST_F(DockerfileParserConformance, HeredocParseExtracts) {
    const json::value doc = corpus("heredoc.json");
    const json::object& c = doc.at("parse_extracts_heredocs").as_object();
    const df::ParseResult result = df::parse(str(c, "dockerfile"));
    const json::array& expected = c.at("expected_heredocs").as_array();
    ASSERT_EQ(result.instructions.size(), expected.size() + 1);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        run_case("parse_extracts_heredocs child " + std::to_string(i + 1), [&] {
            const df::Instruction& node = result.instructions[i + 1];
            if (expected[i].is_null()) {
                EXPECT_TRUE(node.heredocs.empty()) << node.original;
                return;
            }
            const json::array& docs = expected[i].as_array();
            ASSERT_EQ(node.heredocs.size(), docs.size()) << node.original;
            for (std::size_t j = 0; j < docs.size(); ++j) {
                const json::object& want = docs[j].as_object();
                const df::Heredoc& got = node.heredocs[j];
                EXPECT_EQ(got.name, str(want, "Name")) << node.original;
                EXPECT_EQ(got.content, str(want, "Content")) << node.original;
                EXPECT_EQ(got.expand, want.at("Expand").as_bool()) << node.original;
                EXPECT_EQ(got.chomp, want.at("Chomp").as_bool()) << node.original;
                EXPECT_EQ(got.file_descriptor, want.at("FileDescriptor").to_number<std::uint64_t>())
                    << node.original;
            }
        });
    }
}

TEST_F(DockerfileParserConformance, HeredocJsonForm) {
    const json::value doc = corpus("heredoc.json");
    const json::object& c = doc.at("json_form_has_no_heredocs").as_object();
    const df::ParseResult result = df::parse(str(c, "dockerfile"));
    for (const json::value& index : c.at("children_without_heredocs").as_array()) {
        const auto i = index.to_number<std::size_t>();
        run_case("json_form_has_no_heredocs child " + std::to_string(i), [&] {
            ASSERT_LT(i, result.instructions.size());
            EXPECT_TRUE(result.instructions[i].heredocs.empty());
            EXPECT_TRUE(result.instructions[i].json);
        });
    }
}

TEST_F(DockerfileParserConformance, HeredocChomp) {
    const json::value doc = corpus("heredoc.json");
    for (const json::value& v : doc.at("chomp").as_array()) {
        const json::object& c = v.as_object();
        run_case("chomp " + str(c, "input"),
                 [&] { EXPECT_EQ(df::chomp_heredoc_content(str(c, "input")), str(c, "output")); });
    }
}

TEST_F(DockerfileParserConformance, HeredocParseWord) {
    const json::value doc = corpus("heredoc.json");
    const json::object& c = doc.at("parse_heredoc_word").as_object();
    for (const std::string& word : strings(c.at("valid_name_EOF"))) {
        run_case("parse_heredoc valid " + word, [&] {
            const auto heredoc = df::parse_heredoc(word);
            ASSERT_TRUE(heredoc.has_value());
            EXPECT_EQ(heredoc->name, "EOF");
        });
    }
    for (const std::string& word : strings(c.at("error"))) {
        run_case("parse_heredoc error " + word,
                 [&] { EXPECT_THROW(df::parse_heredoc(word), xarch::Error); });
    }
    for (const std::string& word : strings(c.at("not_heredoc"))) {
        run_case("parse_heredoc not " + word,
                 [&] { EXPECT_FALSE(df::parse_heredoc(word).has_value()); });
    }
}

TEST_F(DockerfileParserConformance, HeredocsFromLine) {
    const json::value doc = corpus("heredoc.json");
    for (const json::value& v : doc.at("heredocs_from_line").as_array()) {
        const json::object& c = v.as_object();
        // As upstream checks it: each heredoc found has the listed name. BuildKit's lexer cuts
        // `RUN <<- EOF` into the words `<<-` and `EOF`, so it finds no heredoc there, although
        // the corpus lists one (ParseHeredoc on the single word "<<- EOF" does find it).
        run_case("heredocs_from_line " + str(c, "line"), [&] {
            const std::vector<std::string> want = strings(c.at("names"));
            const std::vector<df::Heredoc> got = df::heredocs_from_line(str(c, "line"));
            ASSERT_LE(got.size(), want.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                EXPECT_EQ(got[i].name, want[i]);
            }
            if (str(c, "line") != "RUN <<- EOF") {
                EXPECT_EQ(got.size(), want.size());
            }
        });
    }
}

// ---- directives.json ----

TEST_F(DockerfileParserConformance, DirectivesParseAll) {
    const json::value doc = corpus("directives.json");
    for (const json::value& v : doc.at("parse_all").as_array()) {
        const json::object& c = v.as_object();
        run_case("parse_all " + str(c, "input"), [&] {
            const std::vector<df::Directive> got = df::parse_directives(str(c, "input"));
            const json::array& want = c.at("directives").as_array();
            ASSERT_EQ(got.size(), want.size());
            for (std::size_t i = 0; i < want.size(); ++i) {
                EXPECT_EQ(got[i].name, str(want[i].as_object(), "name"));
                EXPECT_EQ(got[i].value, str(want[i].as_object(), "value"));
            }
        });
    }
}

std::string hex_decode(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return out;
}

// detect_syntax and parse_directive_check cases share a shape: found, and when given the
// value (ref), cmdline and line.
void check_detected(const json::object& c,
                    const std::optional<df::SyntaxDirective>& got,
                    std::string_view value_key) {
    const bool found = c.at("found").as_bool();
    ASSERT_EQ(got.has_value(), found);
    if (!found) {
        return;
    }
    if (c.contains(value_key)) {
        EXPECT_EQ(got->ref, str(c, value_key));
    }
    if (c.contains("cmdline")) {
        EXPECT_EQ(got->cmdline, str(c, "cmdline"));
    }
    if (c.contains("line")) {
        EXPECT_EQ(got->line, c.at("line").as_int64());
    }
}

TEST_F(DockerfileParserConformance, DirectivesDetectSyntax) {
    const json::value doc = corpus("directives.json");
    for (const json::value& v : doc.at("detect_syntax").as_array()) {
        const json::object& c = v.as_object();
        const std::string input = hex_decode(str(c, "input_hex_prefix")) + str(c, "input");
        run_case("detect_syntax " + input,
                 [&] { check_detected(c, df::detect_syntax(input), "ref"); });
    }
}

TEST_F(DockerfileParserConformance, DirectivesParseDirectiveCheck) {
    const json::value doc = corpus("directives.json");
    for (const json::value& v : doc.at("parse_directive_check").as_array()) {
        const json::object& c = v.as_object();
        const std::string input = str(c, "input");
        run_case("parse_directive_check " + input,
                 [&] { check_detected(c, df::parse_directive("check", input), "value"); });
    }
}

// ---- parser-misc.json ----

TEST_F(DockerfileParserConformance, ParseWords) {
    const json::value doc = corpus("parser-misc.json");
    for (const json::value& v : doc.at("parse_words").as_array()) {
        const json::object& c = v.as_object();
        run_case("parse_words " + str(c, "input"), [&] {
            EXPECT_EQ(df::parse_words(str(c, "input"), '\\'), strings(c.at("words")));
        });
    }
}

TEST_F(DockerfileParserConformance, JsonArraysValid) {
    const json::value doc = corpus("parser-misc.json");
    for (const json::value& v : doc.at("json_arrays_valid").as_array()) {
        const json::object& c = v.as_object();
        run_case("json_arrays_valid " + str(c, "input"), [&] {
            const df::JsonArray got = df::parse_json_array(str(c, "input"));
            ASSERT_EQ(got.status, df::JsonArrayStatus::kStrings);
            EXPECT_EQ(got.values, strings(c.at("values")));
            // And through an instruction: CMD takes the exec form.
            const df::ParseResult result = df::parse("CMD " + str(c, "input"));
            EXPECT_TRUE(result.instructions.front().json);
            EXPECT_EQ(result.instructions.front().args, strings(c.at("values")));
        });
    }
}

TEST_F(DockerfileParserConformance, JsonArraysNotStringArray) {
    const json::value doc = corpus("parser-misc.json");
    for (const json::value& v : doc.at("json_arrays_not_string_array").as_array()) {
        const std::string input = str(v);
        run_case("json_arrays_not_string_array " + input, [&] {
            EXPECT_EQ(df::parse_json_array(input).status, df::JsonArrayStatus::kNotStringArray);
            for (const char* instruction : {"RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY",
                                            "VOLUME", "HEALTHCHECK CMD"}) {
                const std::string message =
                    parse_error(std::string(instruction) + " " + input + "\n");
                EXPECT_NE(message.find("when using JSON array syntax, arrays must be comprised "
                                       "of strings only"),
                          std::string::npos)
                    << instruction << ": " << message;
            }
        });
    }
}

TEST_F(DockerfileParserConformance, NameVal) {
    const json::value doc = corpus("parser-misc.json");
    for (const json::value& v : doc.at("name_val").as_array()) {
        const json::object& c = v.as_object();
        const std::string line = str(c, "instruction") + " " + str(c, "args");
        run_case("name_val " + line, [&] {
            if (c.contains("error")) {
                try {
                    df::node_from_line(line, '\\');
                    ADD_FAILURE() << "no error";
                } catch (const xarch::Error& e) {
                    EXPECT_NE(std::string(e.what()).find(str(c, "error")), std::string::npos)
                        << e.what();
                }
                return;
            }
            EXPECT_EQ(df::node_from_line(line, '\\').args, strings(c.at("nodes")));
        });
    }
}

TEST_F(DockerfileParserConformance, EmptyContinuationWarnings) {
    const json::value doc = corpus("parser-misc.json");
    const json::object& c = doc.at("empty_continuation_warnings").as_object();
    run_case("empty_continuation_warnings", [&] {
        const df::ParseResult result = df::parse(str(c, "dockerfile"));
        ASSERT_EQ(result.warnings.size(), c.at("warning_count").to_number<std::size_t>());
        for (const std::string& text : strings(c.at("warnings_contain"))) {
            bool found = false;
            for (const df::Warning& w : result.warnings) {
                found = found || w.short_text.find(text) != std::string::npos;
            }
            EXPECT_TRUE(found) << text;
        }
        for (const df::Warning& w : result.warnings) {
            EXPECT_NE(w.detail.find(str(c, "detail_contains")), std::string::npos);
        }
    });
}

TEST_F(DockerfileParserConformance, LineTooLong) {
    const json::value doc = corpus("parser-misc.json");
    const json::object& c = doc.at("line_too_long").as_object();
    run_case("line_too_long", [&] {
        std::string text = str(c, "dockerfile_template");
        const std::string placeholder = "<'a' repeated 65536 times>";
        const std::size_t at = text.find(placeholder);
        ASSERT_NE(at, std::string::npos);
        text.replace(at, placeholder.size(), std::string(65536, 'a'));
        const std::string message = parse_error(text);
        EXPECT_NE(message.find(str(c, "error")), std::string::npos) << message;
    });
}

}  // namespace
