// SPDX-License-Identifier: Apache-2.0
// Runs the .dockerignore corpus (shared/conformance/dockerignore: moby/patternmatcher's and
// tonistiigi/fsutil's test tables and BuildKit's .dockerignore integration tests, transcribed;
// see its README.md) against lib/context. Walk scenarios build their tree in a temporary
// directory; "unreadable" directories are simulated through the walk's before_read hook, so the
// cases run the same as root (where chmod 000 does not stop reading).
#include "context/dockerignore.hpp"

#include "context/filepath_match.hpp"
#include "context/pattern_matcher.hpp"
#include "context/walk_filter.hpp"
#include "corpus.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using xarch::context::FilterOptions;
using xarch::context::PatternMatcher;
using xarch::context::WalkAction;
using xarch::context::WalkEntry;
using xarch::context::WalkFilter;
using xarch::context::WalkFunc;
using xarch::test::run_case;

json::value load(const fs::path& file) {
    return json::parse(xarch::test::read_file(file));
}

std::string str(const json::value& o, std::string_view key) {
    const json::value* v = o.as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool flag(const json::value& o, std::string_view key) {
    const json::value* v = o.as_object().if_contains(key);
    return v != nullptr && v->is_bool() && v->as_bool();
}

bool has(const json::value& o, std::string_view key) {
    return o.as_object().if_contains(key) != nullptr;
}

std::vector<std::string> strings(const json::value* v) {
    std::vector<std::string> out;
    if (v != nullptr && v->is_array()) {
        for (const json::value& s : v->as_array()) {
            out.emplace_back(s.as_string());
        }
    }
    return out;
}

std::vector<std::string> strings(const json::value& o, std::string_view key) {
    return strings(o.as_object().if_contains(key));
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& s : items) {
        out += (out.empty() ? "" : ", ") + s;
    }
    return "[" + out + "]";
}

[[maybe_unused]] ::testing::Environment* const kSummary = xarch::test::add_summary("dockerignore");

class DockerignoreConformance : public xarch::test::CorpusTest {
protected:
    DockerignoreConformance() : CorpusTest("dockerignore") {}

    json::value corpus(const char* name) const { return load(*dir_ / name); }
};

TEST_F(DockerignoreConformance, EveryCorpusFileIsCovered) {
    const std::set<std::string> known = {
        "README.md",           "context-walk.json",       "exclusions.json",
        "filepath-match.json", "ignorefile-readall.json", "pattern-compile.json",
        "pattern-match.json"};
    std::set<std::string> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(*dir_)) {
        found.insert(entry.path().filename().string());
    }
    run_case("corpus files", [&] { EXPECT_EQ(found, known); });
}

// ---- pattern-match.json: MatchesOrParentMatches and MatchesUsingParentResults ----

TEST_F(DockerignoreConformance, PatternMatch) {
    const json::value doc = corpus("pattern-match.json");
    const json::array& cases = doc.at("cases").as_array();
    EXPECT_EQ(cases.size(), 68U);
    for (const json::value& c : cases) {
        const std::string pattern = str(c, "pattern");
        const std::string path = str(c, "path");
        const bool want = flag(c, "match");
        run_case("pattern " + pattern + " path " + path, [&] {
            const PatternMatcher pm({pattern});
            EXPECT_EQ(pm.matches_or_parent_matches(path), want);

            // Walking the parents first and handing their results down.
            const std::string parent = xarch::context::dir_path(path);
            PatternMatcher::MatchInfo info;
            if (parent != ".") {
                std::string prefix;
                std::size_t from = 0;
                for (;;) {
                    const std::size_t slash = parent.find('/', from);
                    prefix = parent.substr(0, slash);
                    PatternMatcher::MatchInfo next;
                    pm.matches_using_parent_results(prefix, info, next);
                    info = next;
                    if (slash == std::string::npos) {
                        break;
                    }
                    from = slash + 1;
                }
            }
            PatternMatcher::MatchInfo out;
            EXPECT_EQ(pm.matches_using_parent_results(path, info, out), want) << "with parents";
            EXPECT_EQ(pm.matches_using_parent_results(path, {}, out), want) << "no parent info";
        });
    }
}

// ---- exclusions.json ----

TEST_F(DockerignoreConformance, ExclusionsMulti) {
    const json::value doc = corpus("exclusions.json");
    const json::array& cases = doc.at("multi").as_array();
    EXPECT_EQ(cases.size(), 15U);
    for (const json::value& c : cases) {
        const std::vector<std::string> patterns = strings(c, "patterns");
        const std::string path = str(c, "path");
        const std::string function = str(c, "function");
        run_case(function + " " + join(patterns) + " " + path, [&] {
            const bool package_level = function.rfind("Matches(file, patterns)", 0) == 0;
            auto run = [&] {
                if (package_level) {
                    return xarch::context::matches(path, patterns);
                }
                return PatternMatcher(patterns).matches_or_parent_matches(path);
            };
            if (flag(c, "error")) {
                EXPECT_THROW(run(), xarch::Error);
            } else {
                EXPECT_EQ(run(), flag(c, "excluded"));
            }
        });
    }
}

TEST_F(DockerignoreConformance, ExclusionsNew) {
    const json::value doc = corpus("exclusions.json");
    const json::array& cases = doc.at("new").as_array();
    EXPECT_EQ(cases.size(), 7U);
    for (const json::value& c : cases) {
        const std::vector<std::string> patterns = strings(c, "patterns");
        run_case("New " + join(patterns), [&] {
            if (flag(c, "error")) {
                EXPECT_THROW(PatternMatcher{patterns}, xarch::Error);
                return;
            }
            const PatternMatcher pm(patterns);
            if (has(c, "active_patterns")) {
                EXPECT_EQ(pm.patterns().size(),
                          static_cast<std::size_t>(c.at("active_patterns").to_number<int>()));
            }
            if (has(c, "has_exclusions")) {
                EXPECT_EQ(pm.has_exclusions(), flag(c, "has_exclusions"));
            }
            if (has(c, "then_match_path")) {
                // A bad pattern fails on every call, not only the first.
                for (int i = 0; i < 2; ++i) {
                    EXPECT_THROW(pm.matches_or_parent_matches(str(c, "then_match_path")),
                                 xarch::Error);
                    EXPECT_THROW(pm.matches(str(c, "then_match_path")), xarch::Error);
                }
            }
        });
    }
}

// ---- filepath-match.json: package-level Matches(path, [pattern]) ----

TEST_F(DockerignoreConformance, FilepathMatch) {
    const json::value doc = corpus("filepath-match.json");
    const json::array& cases = doc.at("cases").as_array();
    EXPECT_EQ(cases.size(), 54U);
    for (const json::value& c : cases) {
        const std::string pattern = str(c, "pattern");
        const std::string path = str(c, "path");
        run_case("Matches " + path + " [" + pattern + "]", [&] {
            if (flag(c, "error")) {
                EXPECT_THROW(xarch::context::matches(path, {pattern}), xarch::Error);
                EXPECT_FALSE(xarch::context::filepath_match(pattern, path).has_value());
            } else {
                EXPECT_EQ(xarch::context::matches(path, {pattern}), flag(c, "match"));
            }
        });
    }
}

// ---- pattern-compile.json: how patterns are classified (informative upstream, checked here) ----

TEST_F(DockerignoreConformance, PatternCompile) {
    const json::value doc = corpus("pattern-compile.json");
    const json::array& cases = doc.at("cases").as_array();
    EXPECT_EQ(cases.size(), 21U);
    for (const json::value& c : cases) {
        const std::string pattern = str(c, "pattern");
        run_case("compile " + pattern, [&] {
            const PatternMatcher pm({pattern});
            ASSERT_EQ(pm.patterns().size(), 1U);
            const xarch::context::Pattern& p = pm.patterns().front();
            EXPECT_EQ(std::string(p.match_type()), str(c, "match_type"));
            if (str(c, "match_type") == "regexp") {
                EXPECT_EQ(p.expression(), str(c, "regexp_slash"));
            }
        });
    }
}

// ---- ignorefile-readall.json ----

TEST_F(DockerignoreConformance, IgnorefileReadAll) {
    const json::value doc = corpus("ignorefile-readall.json");
    for (const json::value& c : doc.at("cases").as_array()) {
        run_case("ReadAll " + str(c, "note"), [&] {
            const std::string content = str(c, "content");  // null reads as empty
            EXPECT_EQ(xarch::context::read_ignore_patterns(content), strings(c, "patterns"));
        });
    }
}

// ---- context-walk.json: fsutil's filtered walk and BuildKit's .dockerignore handling ----

class TempTree {
public:
    TempTree() {
        std::string tmpl = (fs::temp_directory_path() / "xarch-walk-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        root_ = tmpl;
    }
    ~TempTree() {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const fs::path& root() const { return root_; }

    void add(const std::string& path, const std::string& type, const std::string& content) {
        if (type == "dir") {
            fs::create_directories(root_ / path);
        } else {
            std::ofstream(root_ / path, std::ios::binary) << content;
        }
    }

private:
    fs::path root_;
};

std::vector<std::string> walk_listing(const fs::path& root,
                                      const std::vector<WalkFilter>& stack,
                                      const std::set<std::string>& unreadable) {
    std::vector<std::string> listing;
    WalkFunc fn = [&](const WalkEntry& e, std::error_code) {
        listing.push_back((e.is_dir ? "dir " : "file ") + e.path);
        return WalkAction::kContinue;
    };
    // The first filter of the stack is the innermost: it sees the walk first.
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        fn = it->wrap(fn);
    }
    xarch::context::WalkOptions options;
    options.before_read = [&](std::string_view dir) {
        return unreadable.count(std::string(dir)) != 0
                   ? std::make_error_code(std::errc::permission_denied)
                   : std::error_code();
    };
    xarch::context::walk_directory(root, fn, options);
    return listing;
}

// BuildKit's .dockerignore integration tests: which files `COPY . .` would see.
void check_buildkit(const json::value& c, const fs::path& root) {
    auto context_files = [&](const std::string& dockerfile) {
        const std::vector<std::string> patterns =
            xarch::context::load_ignore_patterns(root, root / dockerfile);
        std::set<std::string> files;
        const WalkFilter filter(FilterOptions{{}, patterns});
        xarch::context::walk_directory(root, filter.wrap([&](const WalkEntry& e, std::error_code) {
            if (!e.is_dir) {
                files.insert(e.path);
            }
            return WalkAction::kContinue;
        }));
        return files;
    };
    auto check = [&](const json::value& build, const std::string& dockerfile) {
        const std::set<std::string> files = context_files(dockerfile);
        for (const std::string& f : strings(build, "context_contains")) {
            EXPECT_EQ(files.count(f), 1U) << dockerfile << ": " << f << " missing";
        }
        for (const std::string& f : strings(build, "context_lacks")) {
            EXPECT_EQ(files.count(f), 0U) << dockerfile << ": " << f << " not ignored";
        }
    };
    if (const json::value* builds = c.as_object().if_contains("builds")) {
        for (const json::value& b : builds->as_array()) {
            check(b, str(b, "dockerfile"));
        }
    } else if (has(c, "error")) {
        EXPECT_THROW(context_files("Dockerfile"), xarch::Error);
    } else {
        check(c, "Dockerfile");
    }
}

TEST_F(DockerignoreConformance, ContextWalk) {
    const json::value doc = corpus("context-walk.json");
    const json::array& cases = doc.at("cases").as_array();
    EXPECT_EQ(cases.size(), 35U);
    for (const json::value& c : cases) {
        const std::string test = str(c, "test");
        run_case("context-walk " + test + " " + json::serialize(c.at("tree")), [&] {
            TempTree tree;
            const json::value* files = c.as_object().if_contains("files");
            for (const json::value& e : c.at("tree").as_array()) {
                const std::string path = str(e, "path");
                std::string content = "data";
                if (path == ".dockerignore" && has(c, "dockerignore")) {
                    content = str(c, "dockerignore");
                } else if (files != nullptr && files->as_object().if_contains(path) != nullptr) {
                    content = std::string(files->as_object().at(path).as_string());
                }
                tree.add(path, str(e, "type"), content);
            }
            const std::vector<std::string> unreadable_list = strings(c, "unreadable_dirs");
            const std::set<std::string> unreadable(unreadable_list.begin(), unreadable_list.end());

            if (test.rfind("buildkit ", 0) == 0) {
                check_buildkit(c, tree.root());
                return;
            }

            std::vector<WalkFilter> stack;
            if (const json::value* filters = c.as_object().if_contains("filter_stack")) {
                for (const json::value& f : filters->as_array()) {
                    stack.emplace_back(FilterOptions{strings(f, "include"), strings(f, "exclude")});
                }
            } else {
                stack.emplace_back(FilterOptions{strings(c, "include"), strings(c, "exclude")});
            }
            if (has(c, "error")) {
                try {
                    walk_listing(tree.root(), stack, unreadable);
                    ADD_FAILURE() << "the walk did not fail";
                } catch (const xarch::context::WalkError& e) {
                    EXPECT_EQ(e.error_code(), std::errc::permission_denied) << e.what();
                }
            }
            if (has(c, "listing")) {
                EXPECT_EQ(walk_listing(tree.root(), stack, unreadable), strings(c, "listing"));
            }
            for (const std::string& p : strings(c, "open_ok")) {
                EXPECT_TRUE(stack.front().allows(p)) << p;
            }
            for (const std::string& p : strings(c, "open_not_exist")) {
                EXPECT_FALSE(stack.front().allows(p)) << p;
            }
        });
    }
}

}  // namespace
