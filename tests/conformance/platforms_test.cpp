// SPDX-License-Identifier: Apache-2.0
// Runs the platform corpus (shared/conformance/platforms, transcribed from containerd/platforms
// and buildx; see its README.md) against xarch::Platform and xarch::PlatformMatcher. Cases assume
// a linux/amd64 host, so the host-dependent functions are called with that host injected.
#include "corpus.hpp"
#include "platform/internal.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/platform.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using xarch::Platform;
using xarch::PlatformMatcher;
using xarch::test::run_case;

const Platform kHost("linux", "amd64");

// ---- the corpus ----

json::value load(const fs::path& file) {
    return json::parse(xarch::test::read_file(file));
}

std::string str(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
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

// {"os", "architecture", "variant", "os.version", "os.features"} as given (not normalized).
Platform platform_of(const json::value& v) {
    const json::object& o = v.as_object();
    return Platform(str(o, "os"), str(o, "architecture"), str(o, "variant"), str(o, "os.version"),
                    strings(o.if_contains("os.features")));
}

std::string describe(const Platform& p) {
    std::string out = "{os=" + p.os() + " arch=" + p.architecture() + " variant=" + p.variant() +
                      " os.version=" + p.os_version() + " features=[";
    for (std::size_t i = 0; i < p.os_features().size(); ++i) {
        out += (i == 0 ? "" : ",") + p.os_features()[i];
    }
    return out + "]}";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& s : items) {
        out += (out.empty() ? "" : ", ") + s;
    }
    return "[" + out + "]";
}

[[maybe_unused]] ::testing::Environment* const kSummary = xarch::test::add_summary("platforms");

Platform parse_case(const std::string& text) {
    return xarch::platform::parse_unnormalized(text, kHost);
}

// Go's sort.Slice/SliceStable on these short lists is an insertion sort; the comparers are not
// all strict weak orders, so the sort has to be the same one for the expected order to hold.
std::vector<std::string> sorted_all(std::vector<Platform> platforms,
                                    const PlatformMatcher& matcher) {
    for (std::size_t i = 1; i < platforms.size(); ++i) {
        for (std::size_t j = i; j > 0 && matcher.less(platforms[j], platforms[j - 1]); --j) {
            std::swap(platforms[j], platforms[j - 1]);
        }
    }
    std::vector<std::string> out;
    for (const Platform& p : platforms) {
        out.push_back(p.to_string_all());
    }
    return out;
}

class PlatformsConformance : public xarch::test::CorpusTest {
protected:
    PlatformsConformance() : CorpusTest("platforms") {}

    json::value corpus(const char* name) const { return load(*dir_ / name); }
};

// ---- the corpus files this suite knows; a new file must get a test here ----

TEST_F(PlatformsConformance, EveryCorpusFileIsCovered) {
    const std::set<std::string> known = {"parse.json", "normalize.json", "matchers.json",
                                         "buildx-platform-flag.json"};
    std::set<std::string> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(*dir_)) {
        if (entry.path().extension() == ".json") {
            found.insert(entry.path().filename().string());
        }
    }
    run_case("corpus files", [&] { EXPECT_EQ(found, known); });
}

// ---- parse.json ----

TEST_F(PlatformsConformance, Parse) {
    const json::value doc = corpus("parse.json");
    const json::array& cases = doc.at("parse").as_array();
    EXPECT_EQ(cases.size(), 26U);
    for (const json::value& v : cases) {
        const json::object& c = v.as_object();
        const std::string input = str(c, "input");
        run_case("parse " + input, [&] {
            const Platform p = parse_case(input);
            EXPECT_EQ(p.os(), str(c, "os"));
            EXPECT_EQ(p.architecture(), str(c, "architecture"));
            EXPECT_EQ(p.variant(), str(c, "variant"));
            EXPECT_EQ(p.os_version(), str(c, "os_version"));
            EXPECT_EQ(p.os_features(), strings(c.if_contains("os_features")));
            const bool all = str(c, "format_function") == "FormatAll";
            const std::string formatted = all ? p.to_string_all() : p.to_string();
            EXPECT_EQ(formatted, str(c, "formatted"));
            // Upstream re-parses the formatted string and formats it again.
            const Platform again = parse_case(formatted);
            EXPECT_EQ(all ? again.to_string_all() : again.to_string(), formatted);
            // NewMatcher(p), i.e. ordered({p}), also takes these spellings.
            const PlatformMatcher matcher = PlatformMatcher::ordered({p});
            EXPECT_TRUE(matcher.match(p));
            if (const json::value* more = c.if_contains("matcher_also_matches")) {
                for (const json::value& m : more->as_array()) {
                    EXPECT_TRUE(matcher.match(platform_of(m))) << describe(platform_of(m));
                }
            }
        });
    }
}

TEST_F(PlatformsConformance, ParseInvalid) {
    const json::value doc = corpus("parse.json");
    for (const json::value& v : doc.at("parse_invalid").as_array()) {
        const std::string input = str(v.as_object(), "input");
        run_case("parse_invalid " + input, [&] {
            try {
                const Platform p = parse_case(input);
                ADD_FAILURE() << "parsed as " << describe(p)
                              << "; why invalid: " << str(v.as_object(), "why");
            } catch (const xarch::Error& e) {
                EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument);
                EXPECT_NE(std::string(e.what()).find(xarch::util::quote(input)), std::string::npos)
                    << e.what();
            }
        });
    }
}

TEST_F(PlatformsConformance, FormatAll) {
    const json::value doc = corpus("parse.json");
    for (const json::value& v : doc.at("format_all").as_array()) {
        const json::object& c = v.as_object();
        const std::string formatted = str(c, "formatted");
        run_case("format_all " + formatted, [&] {
            const Platform p = platform_of(c.at("platform"));
            EXPECT_EQ(p.to_string_all(), formatted);
            if (c.at("roundtrip_parse_restores_os_version_and_features").as_bool()) {
                const Platform back = parse_case(formatted);
                EXPECT_EQ(back.os_version(), p.os_version());
                EXPECT_EQ(back.os_features(), p.os_features());
            }
        });
    }
}

// ---- normalize.json ----

TEST_F(PlatformsConformance, NormalizeArch) {
    const json::value doc = corpus("normalize.json");
    for (const json::value& v : doc.at("normalize_arch").as_array()) {
        const json::object& in = v.at("in").as_object();
        const json::object& out = v.at("out").as_object();
        run_case("normalize " + str(in, "architecture") + "/" + str(in, "variant"), [&] {
            const Platform n =
                Platform("linux", str(in, "architecture"), str(in, "variant")).normalized();
            EXPECT_EQ(n.architecture(), str(out, "architecture"));
            EXPECT_EQ(n.variant(), str(out, "variant"));
        });
    }
}

TEST_F(PlatformsConformance, NormalizeOs) {
    const json::value doc = corpus("normalize.json");
    for (const json::value& v : doc.at("normalize_os").as_array()) {
        const std::string in = str(v.as_object(), "in");
        std::string expected = str(v.as_object(), "out");
        if (expected == "<host GOOS>") {
            expected = xarch::platform::kBuildOs;
        }
        run_case("normalize os " + in,
                 [&] { EXPECT_EQ(Platform(in, "amd64").normalized().os(), expected); });
    }
    // "normalize_os_features" is prose: sorted, adjacent duplicates removed, empty ones kept.
    ASSERT_TRUE(doc.at("normalize_os_features").is_string());
    run_case("normalize os features", [&] {
        const Platform p("linux", "amd64", "", "", {"simd", "gpu", "", "simd"});
        EXPECT_EQ(p.normalized().os_features(), (std::vector<std::string>{"", "gpu", "simd"}));
    });
}

// ---- matchers.json ----

void run_match_section(const json::value& doc,
                       std::string_view section,
                       const std::function<PlatformMatcher(const Platform&)>& make) {
    for (const json::value& v : doc.at(section).as_array()) {
        const json::object& c = v.as_object();
        const std::string host = str(c, "platform");
        const PlatformMatcher matcher = make(parse_case(host));
        for (const bool expected : {true, false}) {
            for (const std::string& candidate :
                 strings(c.if_contains(expected ? "match" : "no_match"))) {
                run_case(std::string(section) + "(" + host + ") vs " + candidate,
                         [&] { EXPECT_EQ(matcher.match(parse_case(candidate)), expected); });
            }
        }
    }
}

TEST_F(PlatformsConformance, Only) {
    const json::value doc = corpus("matchers.json");
    run_match_section(doc, "only", [](const Platform& p) { return PlatformMatcher::only(p); });
}

TEST_F(PlatformsConformance, OnlyStrict) {
    const json::value doc = corpus("matchers.json");
    run_match_section(doc, "only_strict",
                      [](const Platform& p) { return PlatformMatcher::only_strict(p); });
}

TEST_F(PlatformsConformance, OnlyOs) {
    const json::value doc = corpus("matchers.json");
    run_match_section(doc, "only_os",
                      [](const Platform& p) { return PlatformMatcher::only_os(p); });
}

void run_order_case(const json::object& c, const std::string& name, const PlatformMatcher& m) {
    run_case(name, [&] {
        std::vector<Platform> input;
        for (const std::string& s : strings(c.if_contains("input"))) {
            input.push_back(parse_case(s));
        }
        EXPECT_EQ(join(sorted_all(input, m)), join(strings(c.if_contains("sorted"))));
    });
}

TEST_F(PlatformsConformance, OnlyOsLess) {
    const json::value doc = corpus("matchers.json");
    for (const json::value& v : doc.at("only_os_less").as_array()) {
        const std::string host = str(v.as_object(), "platform");
        run_order_case(v.as_object(), "only_os_less " + host,
                       PlatformMatcher::only_os(parse_case(host)));
    }
}

TEST_F(PlatformsConformance, OsFeaturesOrdering) {
    const json::value doc = corpus("matchers.json");
    for (const json::value& v :
         doc.at("os_features_ordering_same_for_Only_OnlyStrict_Ordered_Any").as_array()) {
        const std::string host = str(v.as_object(), "platform");
        const Platform p = parse_case(host);
        run_order_case(v.as_object(), "only " + host, PlatformMatcher::only(p));
        run_order_case(v.as_object(), "only_strict " + host, PlatformMatcher::only_strict(p));
        run_order_case(v.as_object(), "ordered " + host, PlatformMatcher::ordered({p}));
        run_order_case(v.as_object(), "any " + host, PlatformMatcher::any({p}));
    }
}

TEST_F(PlatformsConformance, WindowsNewMatcherAbi) {
    const json::value doc = corpus("matchers.json");
    for (const json::value& v : doc.at("windows_newmatcher_abi").as_array()) {
        const Platform host = platform_of(v.at("host"));
        const Platform candidate = platform_of(v.at("candidate"));
        run_case("windows " + host.os_version() + " runs " + candidate.os_version(), [&] {
            // containerd NewMatcher(host) is ordered({host}).
            EXPECT_EQ(PlatformMatcher::ordered({host}).match(candidate), v.at("match").as_bool());
        });
    }
}

TEST_F(PlatformsConformance, WindowsMatchComparerLess) {
    const json::value doc = corpus("matchers.json");
    const json::object& c = doc.at("windows_match_comparer_less").as_object();
    run_case("windows match comparer less", [&] {
        std::vector<Platform> input;
        for (const json::value& p : c.at("input").as_array()) {
            input.push_back(platform_of(p));
        }
        std::vector<std::string> expected;
        for (const json::value& p : c.at("sorted_stable").as_array()) {
            expected.push_back(platform_of(p).to_string_all());
        }
        // containerd Default() on a Windows host is the windowsMatchComparer.
        const PlatformMatcher m = PlatformMatcher::for_host(platform_of(c.at("host")));
        EXPECT_EQ(join(sorted_all(input, m)), join(expected));
    });
}

// ---- buildx-platform-flag.json ----

TEST_F(PlatformsConformance, BuildxPlatformFlag) {
    const json::value doc = corpus("buildx-platform-flag.json");
    for (const json::value& v : doc.at("cases").as_array()) {
        const json::object& c = v.as_object();
        const std::vector<std::string> flags = strings(c.if_contains("flag_values"));
        run_case("--platform " + join(flags), [&] {
            const Platform host = xarch::platform::parse(str(c, "host"), kHost);
            const bool error = c.contains("error") && c.at("error").as_bool();
            std::vector<std::string> actual;
            std::unordered_set<std::string> seen;
            try {
                for (const std::string& flag : flags) {
                    for (const Platform& p : xarch::platform::parse_list(flag, host)) {
                        if (seen.insert(p.to_string()).second) {
                            actual.push_back(p.to_string());
                        }
                    }
                }
            } catch (const xarch::Error& e) {
                EXPECT_TRUE(error) << e.what();
                EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument);
                return;
            }
            EXPECT_FALSE(error) << "expected an error, got " << join(actual);
            // buildx's Parse keeps duplicates and de-duplicates (Dedupe) before it builds; our
            // parse_list de-duplicates at once, so compare with the de-duplicated expectation.
            std::vector<std::string> expected;
            std::unordered_set<std::string> expected_seen;
            for (const std::string& s : strings(c.if_contains("result"))) {
                if (expected_seen.insert(s).second) {
                    expected.push_back(s);
                }
            }
            EXPECT_EQ(join(actual), join(expected));
        });
    }
}

}  // namespace
