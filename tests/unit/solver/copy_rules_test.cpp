// SPDX-License-Identifier: Apache-2.0
// COPY/ADD rules as layer entries, offline: destinations (trailing '/', existing directories,
// symlinked parents), directory contents, wildcards, created and existing parents, hard links,
// --chown and --chmod, --parents, --exclude, heredocs, --link, ADD's archives; and their errors.
#include "solver/copy_rules.hpp"

#include "solver/add_sources.hpp"

#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace xarch::solver {
namespace {

namespace fs = std::filesystem;

layer::Entry file(std::string path, std::uint32_t mode = 0644) {
    layer::Entry e;
    e.path = std::move(path);
    e.mode = mode;
    e.size = 1;
    e.mtime_ns = 1000000000;
    e.source_file = "/src/" + e.path;
    return e;
}

layer::Entry dir(std::string path, std::uint32_t mode = 0755) {
    layer::Entry e = file(std::move(path), mode);
    e.type = layer::EntryType::kDirectory;
    e.size = 0;
    e.source_file.clear();
    return e;
}

layer::Entry link(std::string path, std::string target) {
    layer::Entry e = file(std::move(path), 0777);
    e.type = layer::EntryType::kSymlink;
    e.link_target = std::move(target);
    e.source_file.clear();
    return e;
}

// A lower filesystem: entries by absolute path; resolve follows symlinks in it.
struct Lower {
    std::map<std::string, layer::Entry> entries;
    LowerLookup lookup() const {
        return [this](std::string_view p) -> std::optional<layer::Entry> {
            const std::string key = p == "/" ? std::string() : std::string(p.substr(1));
            if (key.empty()) {
                return dir("");
            }
            auto it = entries.find(key);
            if (it == entries.end()) {
                return std::nullopt;
            }
            return it->second;
        };
    }
    LowerResolve resolve() const {
        return [this](std::string_view p, bool follow_last) {
            std::string out;
            std::string rest(p.substr(1));
            int hops = 0;
            while (!rest.empty()) {
                const auto slash = rest.find('/');
                const std::string part = rest.substr(0, slash);
                rest = slash == std::string::npos ? "" : rest.substr(slash + 1);
                const std::string next = out.empty() ? part : out + "/" + part;
                auto it = entries.find(next);
                if (it != entries.end() && it->second.type == layer::EntryType::kSymlink &&
                    (follow_last || !rest.empty()) && ++hops < 40) {
                    const std::string& t = it->second.link_target;
                    rest = t.starts_with('/') ? t.substr(1) + (rest.empty() ? "" : "/" + rest)
                                              : t + (rest.empty() ? "" : "/" + rest);
                    if (t.starts_with('/')) {
                        out.clear();
                    }
                    continue;
                }
                out = next;
            }
            return "/" + out;
        };
    }
};

Lower busybox_like() {
    Lower l;
    for (layer::Entry e : {dir("bin"), dir("etc"), dir("tmp", 01777), dir("usr"), dir("usr/bin"),
                           link("sbin", "usr/bin"), file("etc/passwd")}) {
        l.entries.emplace(e.path, e);
    }
    return l;
}

SourceTree context() {
    return tree_source({file("hello.txt"), dir("app"), file("app/main.sh", 0755), dir("app/data"),
                        file("app/data/values.json"), file("app/notes.md"), file("other.txt"),
                        link("latest", "hello.txt")});
}

std::map<std::string, layer::Entry> plan(CopyRequest request,
                                         const SourceTree& tree = context(),
                                         const Lower& lower = busybox_like()) {
    std::map<std::string, layer::Entry> out;
    for (layer::Entry& e : plan_copy(request, tree, lower.lookup(), lower.resolve())) {
        out.emplace(e.path, std::move(e));
    }
    return out;
}

CopyRequest request(std::vector<std::string> sources, std::string dest) {
    CopyRequest r;
    r.sources = std::move(sources);
    r.dest = std::move(dest);
    r.created_time_ns = 7000000000;
    return r;
}

std::vector<std::string> paths(const std::map<std::string, layer::Entry>& m) {
    std::vector<std::string> out;
    for (const auto& [p, e] : m) {
        out.push_back(p);
    }
    return out;
}

TEST(CopyRules, FileToAPathRenamesItAndCreatesParents) {
    const auto out = plan(request({"hello.txt"}, "/opt/app/greeting"));
    EXPECT_EQ(paths(out), (std::vector<std::string>{"opt", "opt/app", "opt/app/greeting"}));
    EXPECT_EQ(out.at("opt").mode, 0755U);
    EXPECT_EQ(out.at("opt").mtime_ns, 7000000000);
    EXPECT_EQ(out.at("opt/app/greeting").source_file, "/src/hello.txt");
    EXPECT_EQ(out.at("opt/app/greeting").mtime_ns, 1000000000);
}

TEST(CopyRules, TrailingSlashOrExistingDirectoryKeepsTheName) {
    EXPECT_EQ(paths(plan(request({"hello.txt"}, "/new/"))),
              (std::vector<std::string>{"new", "new/hello.txt"}));
    // /tmp exists: the file goes inside, and /tmp keeps its sticky mode in the layer.
    const auto out = plan(request({"hello.txt"}, "/tmp"));
    EXPECT_EQ(paths(out), (std::vector<std::string>{"tmp", "tmp/hello.txt"}));
    EXPECT_EQ(out.at("tmp").mode, 01777U);
}

TEST(CopyRules, RelativeDestinationIsUnderTheWorkdir) {
    CopyRequest r = request({"hello.txt"}, "./");
    r.workdir = "/srv";
    EXPECT_EQ(paths(plan(r)), (std::vector<std::string>{"srv", "srv/hello.txt"}));
}

TEST(CopyRules, DirectoryCopiesItsContents) {
    const auto out = plan(request({"app"}, "/app/"));
    EXPECT_EQ(paths(out), (std::vector<std::string>{"app", "app/data", "app/data/values.json",
                                                    "app/main.sh", "app/notes.md"}));
    EXPECT_EQ(out.at("app/main.sh").mode, 0755U);
    EXPECT_EQ(out.at("app/main.sh").uid, 0U);
}

TEST(CopyRules, WholeContextWithExcludes) {
    CopyRequest r = request({"."}, "/src");
    r.excludes = {"**/*.md", "app/data"};
    const auto out = plan(r);
    EXPECT_TRUE(out.contains("src/hello.txt"));
    EXPECT_TRUE(out.contains("src/app/main.sh"));
    EXPECT_FALSE(out.contains("src/app/notes.md"));
    EXPECT_FALSE(out.contains("src/app/data/values.json"));
    ASSERT_TRUE(out.contains("src/latest"));
    EXPECT_EQ(out.at("src/latest").type, layer::EntryType::kSymlink);
}

TEST(CopyRules, ExcludesApplyToAWildcardsMatches) {
    CopyRequest r = request({"*.txt", "app/*"}, "/w/");
    r.excludes = {"other.txt", "*.md"};
    const auto out = plan(r);
    EXPECT_TRUE(out.contains("w/hello.txt"));
    EXPECT_TRUE(out.contains("w/main.sh"));
    EXPECT_FALSE(out.contains("w/other.txt"));
    EXPECT_FALSE(out.contains("w/notes.md"));
}

TEST(CopyRules, WildcardsAndSeveralSources) {
    const auto out = plan(request({"*.txt", "app/main.sh"}, "/w/"));
    EXPECT_EQ(paths(out),
              (std::vector<std::string>{"w", "w/hello.txt", "w/main.sh", "w/other.txt"}));
    EXPECT_THROW(plan(request({"hello.txt", "other.txt"}, "/w")), Error);
}

TEST(CopyRules, SymlinkedDestinationParentIsFollowed) {
    const auto out = plan(request({"hello.txt"}, "/sbin/hello"));
    EXPECT_TRUE(out.contains("usr/bin/hello"));
    EXPECT_FALSE(out.contains("sbin/hello"));
}

TEST(CopyRules, NamedSymlinkSourceIsFollowedAndKeepsItsName) {
    const auto out = plan(request({"latest"}, "/x/"));
    ASSERT_TRUE(out.contains("x/latest"));
    EXPECT_EQ(out.at("x/latest").type, layer::EntryType::kRegular);
    EXPECT_EQ(out.at("x/latest").source_file, "/src/hello.txt");
}

TEST(CopyRules, ChownAndChmodApplyToCopiedFilesAndCreatedDirectories) {
    CopyRequest r = request({"app"}, "/opt/app/");
    r.owner = Owner{1000, 1001};
    r.chmod = Chmod::parse("0750");
    const auto out = plan(r);
    // Directories the copy creates get the owner but 0755 (fsutil's MkdirAll takes no mode);
    // copied directories and files get both.
    EXPECT_EQ(out.at("opt").uid, 1000U);
    EXPECT_EQ(out.at("opt").mode, 0755U);
    EXPECT_EQ(out.at("opt/app").mode, 0755U);
    EXPECT_EQ(out.at("opt/app/data").mode, 0750U);
    EXPECT_EQ(out.at("opt/app/data").uid, 1000U);
    EXPECT_EQ(out.at("opt/app/main.sh").gid, 1001U);
    EXPECT_EQ(out.at("opt/app/notes.md").mode, 0750U);
    // An existing directory is carried as it is.
    CopyRequest t = request({"hello.txt"}, "/tmp/");
    t.owner = Owner{5, 5};
    EXPECT_EQ(plan(t).at("tmp").uid, 0U);
}

TEST(CopyRules, NestedDirectoryOverwritesAnExistingOnesAttributes) {
    Lower lower = busybox_like();
    layer::Entry existing = dir("srv/data", 0700);
    existing.uid = 33;
    lower.entries.emplace("srv", dir("srv", 0711));
    lower.entries.emplace("srv/data", existing);
    const auto out = plan(request({"app"}, "/srv/"), context(), lower);
    // The destination itself is left as it is; a directory copied onto an existing one gives
    // it the source's attributes.
    EXPECT_EQ(out.at("srv").mode, 0711U);
    EXPECT_EQ(out.at("srv/data").mode, 0755U);
    EXPECT_EQ(out.at("srv/data").uid, 0U);
    EXPECT_EQ(out.at("srv/data").mtime_ns, 1000000000);
}

TEST(CopyRules, ParentsKeepsTheSourcePath) {
    CopyRequest r = request({"app/data/values.json", "app/main.sh"}, "/dst/");
    r.parents = true;
    EXPECT_EQ(paths(plan(r)),
              (std::vector<std::string>{"dst", "dst/app", "dst/app/data",
                                        "dst/app/data/values.json", "dst/app/main.sh"}));
    CopyRequest pivot = request({"app/./data/values.json"}, "/dst/");
    pivot.parents = true;
    EXPECT_TRUE(plan(pivot).contains("dst/data/values.json"));
}

TEST(CopyRules, HeredocsBecomeFiles) {
    CopyRequest r = request({}, "/etc/");
    r.contents = {{"motd", "welcome\n", true}};
    const auto out = plan(r);
    ASSERT_TRUE(out.contains("etc/motd"));
    EXPECT_EQ(*out.at("etc/motd").data, "welcome\n");
    EXPECT_EQ(out.at("etc/motd").mode, 0644U);
}

TEST(CopyRules, LinkCreatesEveryParent) {
    const Lower empty;
    CopyRequest r = request({"hello.txt"}, "/tmp/");
    r.link = true;
    const auto out = plan_copy(r, context(), nullptr, nullptr);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0].path, "tmp");
    EXPECT_EQ(out[0].mode, 0755U);
}

TEST(CopyRules, MissingSourceIsNotFound) {
    try {
        plan(request({"nothere.txt"}, "/"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound);
        EXPECT_NE(std::string(e.what()).find("nothere.txt"), std::string::npos);
    }
    EXPECT_THROW(plan(request({"../outside"}, "/")), Error);
}

TEST(CopyRules, HardLinksAmongCopiedFilesStayLinks) {
    layer::Entry linked = file("app/also.sh");
    linked.type = layer::EntryType::kHardlink;
    linked.link_target = "app/main.sh";
    linked.source_file.clear();
    SourceTree tree = context();
    tree.entries.push_back(linked);
    const auto out = plan(request({"app"}, "/opt/"), tree);
    ASSERT_TRUE(out.contains("opt/also.sh"));
    EXPECT_EQ(out.at("opt/also.sh").type, layer::EntryType::kHardlink);
    EXPECT_EQ(out.at("opt/also.sh").link_target, "opt/main.sh");
    EXPECT_EQ(out.at("opt/main.sh").type, layer::EntryType::kRegular);
    // Named alone, the link's file is not copied: the link becomes a file with its bytes.
    const auto alone = plan(request({"app/also.sh"}, "/opt/"), tree);
    ASSERT_TRUE(alone.contains("opt/also.sh"));
    EXPECT_EQ(alone.at("opt/also.sh").type, layer::EntryType::kRegular);
    EXPECT_EQ(alone.at("opt/also.sh").source_file, "/src/app/main.sh");
}

TEST(CopyRules, AddUnpacksLocalArchives) {
    const fs::path dir =
        fs::path(::testing::TempDir()) / ("copy_add_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path txz = dir / "a.tar.xz";
    {
        archive* a = archive_write_new();
        archive_write_add_filter_xz(a);
        archive_write_set_format_pax_restricted(a);
        archive_write_open_filename(a, txz.c_str());
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, "pkg/bin/tool");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_uid(e, 7);
        archive_entry_set_size(e, 5);
        archive_write_header(a, e);
        archive_write_data(a, "tool\n", 5);
        archive_entry_free(e);
        archive_write_close(a);
        archive_write_free(a);
    }
    layer::Entry src = file("a.tar.xz");
    src.source_file = txz;
    CopyRequest r = request({"a.tar.xz"}, "/opt/");
    r.add = true;
    r.scratch_dir = dir / "scratch";
    const auto out = plan(r, tree_source({src}));
    ASSERT_TRUE(out.contains("opt/pkg/bin/tool"));
    EXPECT_EQ(out.at("opt/pkg/bin/tool").mode, 0755U);
    EXPECT_EQ(out.at("opt/pkg/bin/tool").uid, 7U);
    EXPECT_EQ(out.at("opt/pkg").mode, 0755U);
    std::ifstream in(out.at("opt/pkg/bin/tool").source_file);
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "tool");
    // --unpack=false, and COPY, keep the archive as a file.
    r.unpack = false;
    EXPECT_TRUE(plan(r, tree_source({src})).contains("opt/a.tar.xz"));
    r.unpack = true;
    r.add = false;
    EXPECT_TRUE(plan(r, tree_source({src})).contains("opt/a.tar.xz"));
    fs::remove_all(dir);
}

}  // namespace
}  // namespace xarch::solver
