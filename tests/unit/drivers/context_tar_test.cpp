// SPDX-License-Identifier: Apache-2.0
// ContextTar read back with libarchive: every scanned entry (ignore rules applied) with its
// type, mode, owner, mtime and exact content, whatever buffer size the reader uses; the
// Dockerfile sent in place, or under a generated name (outside the context, given as text) with
// .dockerignore naming it; a file that shrinks while it is sent.
#include "drivers/docker/context_tar.hpp"

#include "unit/context/context_test_util.hpp"

#include <xarch/context.hpp>
#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace xarch::drivers::docker {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using xarch_context_test::TempTree;

// One member of a tar as libarchive reads it.
struct Member {
    std::string path;  // without the trailing '/' of directories
    ContextEntryType type = ContextEntryType::kRegular;
    std::uint32_t mode = 0;  // permission bits
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t mtime = 0;  // seconds
    std::string content;     // regular files
    std::string link_target;

    friend bool operator==(const Member&, const Member&) = default;
};

void PrintTo(const Member& m, std::ostream* out) {
    *out << m.path << " type=" << static_cast<int>(m.type) << " mode=" << std::oct << m.mode
         << std::dec << " uid=" << m.uid << " gid=" << m.gid << " mtime=" << m.mtime
         << " size=" << m.content.size() << " link=" << m.link_target;
}

std::string read_all(ContextTar& tar, std::size_t chunk) {
    std::string out;
    std::vector<char> buffer(chunk);
    for (;;) {
        const std::size_t n = tar.read(buffer.data(), chunk);
        if (n == 0) {
            break;
        }
        EXPECT_LE(n, chunk);
        out.append(buffer.data(), n);
    }
    // Once at its end, it stays there.
    EXPECT_EQ(tar.read(buffer.data(), chunk), 0U);
    EXPECT_EQ(tar.bytes_read(), static_cast<std::int64_t>(out.size()));
    return out;
}

std::vector<Member> read_tar(const std::string& bytes) {
    std::vector<Member> members;
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
    archive_entry* e = nullptr;
    int rc = 0;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        Member m;
        m.path = archive_entry_pathname(e);
        if (m.path.ends_with('/')) {
            m.path.pop_back();
        }
        switch (archive_entry_filetype(e)) {
            case AE_IFDIR:
                m.type = ContextEntryType::kDirectory;
                break;
            case AE_IFLNK:
                m.type = ContextEntryType::kSymlink;
                m.link_target = archive_entry_symlink(e);
                break;
            case AE_IFREG:
                m.type = ContextEntryType::kRegular;
                break;
            default:
                m.type = ContextEntryType::kOther;
                break;
        }
        m.mode = archive_entry_perm(e);
        m.uid = static_cast<std::uint32_t>(archive_entry_uid(e));
        m.gid = static_cast<std::uint32_t>(archive_entry_gid(e));
        m.mtime = archive_entry_mtime(e);
        char buffer[4096];
        for (la_ssize_t n; (n = archive_read_data(a, buffer, sizeof buffer)) > 0;) {
            m.content.append(buffer, static_cast<std::size_t>(n));
        }
        members.push_back(std::move(m));
    }
    EXPECT_EQ(rc, ARCHIVE_EOF) << archive_error_string(a);
    archive_read_free(a);
    return members;
}

// What the tar must hold for the scanned entries: their attributes and the files' bytes.
std::vector<Member> expected_members(const BuildContext& context) {
    std::vector<Member> out;
    for (const ContextEntry& entry : context.entries()) {
        Member m;
        m.path = entry.path;
        m.type = entry.type;
        m.mode = entry.mode & 07777;
        m.uid = entry.uid;
        m.gid = entry.gid;
        m.mtime = entry.mtime_ns / 1'000'000'000;
        m.link_target = entry.link_target;
        if (entry.type == ContextEntryType::kRegular) {
            std::ifstream in(context.directory() / entry.path, std::ios::binary);
            m.content.assign(std::istreambuf_iterator<char>(in), {});
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<std::string> paths_of(const std::vector<Member>& members) {
    std::vector<std::string> out;
    for (const Member& m : members) {
        out.push_back(m.path);
    }
    return out;
}

const Member* find(const std::vector<Member>& members, std::string_view path) {
    const auto it = std::find_if(members.begin(), members.end(),
                                 [&](const Member& m) { return m.path == path; });
    return it == members.end() ? nullptr : &*it;
}

// The content of the member at `path`; a failure (and a text naming it) when there is none.
std::string content_of(const std::vector<Member>& members, std::string_view path) {
    const Member* member = find(members, path);
    if (member == nullptr) {
        ADD_FAILURE() << "no member " << path << " in "
                      << testing::PrintToString(paths_of(members));
        return "<no member " + std::string(path) + ">";
    }
    return member->content;
}

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(size, '\0');
    for (char& c : out) {
        c = static_cast<char>(gen() & 0xff);
    }
    return out;
}

class ContextTarTest : public testing::Test {
protected:
    void SetUp() override {
        tree_.file("ctx/Dockerfile", "FROM scratch\nCOPY . /\n");
        tree_.file("ctx/.dockerignore", "*.log\nbuild/\n!build/keep.txt\n");
        tree_.file("ctx/a.txt", "alpha\n");
        tree_.file("ctx/empty", "");
        tree_.file("ctx/sub/dir/b.txt", "beta\n");
        tree_.file("ctx/sub/big.bin", random_bytes((1 << 20) + 123, 7));
        tree_.file("ctx/debug.log", "ignored\n");
        tree_.file("ctx/build/out.o", "ignored\n");
        tree_.file("ctx/build/keep.txt", "kept\n");
        tree_.symlink("sub/dir/b.txt", "ctx/link");
        fs::permissions(tree_ / "ctx/a.txt", fs::perms(0751));
        tree_.set_mtime("ctx/a.txt", 1'600'000'123, 987'654'321);
    }

    BuildContext context(const std::string& dir = "ctx") {
        BuildContext context = BuildContext::from_directory(tree_ / dir);
        ScanOptions options;
        options.use_cache = false;
        context.scan(options);
        return context;
    }

    TempTree tree_;
};

TEST_F(ContextTarTest, HoldsTheScanWithIgnoreRulesAppliedForAnyBufferSize) {
    BuildContext ctx = context();
    const std::vector<Member> expected = expected_members(ctx);
    // The rules took effect in the scan the tar is made of.
    EXPECT_EQ(find(expected, "debug.log"), nullptr);
    EXPECT_EQ(find(expected, "build/out.o"), nullptr);
    ASSERT_NE(find(expected, "build/keep.txt"), nullptr);
    ASSERT_NE(find(expected, ".dockerignore"), nullptr);
    ASSERT_NE(find(expected, "sub/big.bin"), nullptr);
    EXPECT_EQ(find(expected, "a.txt")->mode, 0751U);
    EXPECT_EQ(find(expected, "a.txt")->mtime, 1'600'000'123);

    for (std::size_t chunk :
         {std::size_t{1}, std::size_t{7}, std::size_t{511}, std::size_t{65536}}) {
        ContextTar tar(ctx);
        EXPECT_EQ(tar.dockerfile_name(), "Dockerfile");
        const std::string bytes = read_all(tar, chunk);
        // Whole 512-byte blocks, ending with Go's two zero blocks.
        EXPECT_EQ(bytes.size() % 512, 0U) << chunk;
        ASSERT_GE(bytes.size(), 1024U);
        EXPECT_EQ(bytes.substr(bytes.size() - 1024), std::string(1024, '\0'));
        const std::vector<Member> members = read_tar(bytes);
        EXPECT_EQ(members, expected) << "buffer size " << chunk;
        const Member* big = find(members, "sub/big.bin");
        ASSERT_NE(big, nullptr);
        EXPECT_TRUE(big->content == random_bytes((1 << 20) + 123, 7)) << chunk;
    }
}

TEST_F(ContextTarTest, DockerfileExcludedByTheRulesIsStillSentInPlace) {
    tree_.file("ctx/.dockerignore", "Dockerfile\n*.log\n");
    BuildContext ctx = context();
    ContextTar tar(ctx);
    EXPECT_EQ(tar.dockerfile_name(), "Dockerfile");
    const std::vector<Member> members = read_tar(read_all(tar, 4096));
    ASSERT_NE(find(members, "Dockerfile"), nullptr);
    EXPECT_EQ(find(members, "debug.log"), nullptr);
    EXPECT_EQ(members, expected_members(ctx));
}

TEST_F(ContextTarTest, DockerfileInASubdirectoryIsNamedByItsPath) {
    tree_.file("ctx/docker/Dockerfile.dev", "FROM scratch\n");
    BuildContext ctx = BuildContext::from_directory(tree_ / "ctx");
    ctx.set_dockerfile(tree_ / "ctx/docker/Dockerfile.dev");
    ScanOptions options;
    options.use_cache = false;
    ctx.scan(options);
    ContextTar tar(ctx);
    EXPECT_EQ(tar.dockerfile_name(), "docker/Dockerfile.dev");
    EXPECT_EQ(read_tar(read_all(tar, 1000)), expected_members(ctx));
}

TEST_F(ContextTarTest, DockerfileOutsideTheContextIsAddedUnderAGeneratedName) {
    tree_.file("elsewhere/Dockerfile", "FROM scratch\nCOPY a.txt /\n");
    BuildContext ctx = BuildContext::from_directory(tree_ / "ctx");
    ctx.set_dockerfile(tree_ / "elsewhere/Dockerfile");
    ScanOptions options;
    options.use_cache = false;
    ctx.scan(options);
    ContextTar tar(ctx);
    EXPECT_THAT(tar.dockerfile_name(), MatchesRegex("\\.dockerfile\\.[0-9a-f]{20}"));
    const std::vector<Member> members = read_tar(read_all(tar, 511));

    const Member* dockerfile = find(members, tar.dockerfile_name());
    ASSERT_NE(dockerfile, nullptr) << testing::PrintToString(paths_of(members));
    EXPECT_EQ(dockerfile->content, "FROM scratch\nCOPY a.txt /\n");
    EXPECT_EQ(dockerfile->mode, 0600U);
    EXPECT_EQ(dockerfile->type, ContextEntryType::kRegular);
    // The context's .dockerignore names it, so that the engine leaves it out of COPY.
    const Member* ignore = find(members, ".dockerignore");
    ASSERT_NE(ignore, nullptr);
    EXPECT_EQ(ignore->content, "*.log\nbuild/\n!build/keep.txt\n\n" + tar.dockerfile_name() + "\n");
    // Everything else as scanned.
    std::vector<Member> rest;
    for (const Member& m : members) {
        if (m.path != tar.dockerfile_name() && m.path != ".dockerignore") {
            rest.push_back(m);
        }
    }
    std::vector<Member> expected = expected_members(ctx);
    std::erase_if(expected, [](const Member& m) { return m.path == ".dockerignore"; });
    EXPECT_EQ(rest, expected);
}

TEST_F(ContextTarTest, DockerfileTextWithoutDockerignoreAddsOne) {
    fs::remove(tree_ / "ctx/.dockerignore");
    BuildContext ctx = BuildContext::from_directory(tree_ / "ctx");
    ctx.set_dockerfile_text("FROM scratch\n");
    ScanOptions options;
    options.use_cache = false;
    ctx.scan(options);
    ContextTar tar(ctx);
    const std::vector<Member> members = read_tar(read_all(tar, 65536));
    EXPECT_EQ(content_of(members, tar.dockerfile_name()), "FROM scratch\n");
    EXPECT_EQ(content_of(members, ".dockerignore"),
              ".dockerignore\n" + tar.dockerfile_name() + "\n");
    // The ignore rules were not there: everything is sent.
    EXPECT_NE(find(members, "debug.log"), nullptr);
    EXPECT_EQ(members.size(), ctx.entries().size() + 2);
}

TEST_F(ContextTarTest, FileThatShrinksWhileSentIsAnError) {
    BuildContext ctx = context();
    ContextTar tar(ctx);
    fs::resize_file(tree_ / "ctx/sub/big.bin", 1000);
    std::vector<char> buffer(65536);
    try {
        while (tar.read(buffer.data(), buffer.size()) > 0) {
        }
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kIo);
        EXPECT_THAT(e.what(), HasSubstr("\"sub/big.bin\""));
        EXPECT_THAT(e.what(), HasSubstr("shrank"));
    }
}

// ---- Walked while sent (ContextEntries::kWalked), as `docker build` does ----

TEST_F(ContextTarTest, WalkedWhileSentHoldsWhatTheScanHolds) {
    const std::vector<Member> expected = expected_members(context());
    BuildContext fresh = BuildContext::from_directory(tree_ / "ctx");
    for (std::size_t chunk : {std::size_t{1}, std::size_t{511}, std::size_t{65536}}) {
        ContextTar tar(fresh, std::nullopt, ContextEntries::kWalked);
        EXPECT_EQ(tar.dockerfile_name(), "Dockerfile");
        EXPECT_EQ(read_tar(read_all(tar, chunk)), expected) << "buffer size " << chunk;
    }
    // The context itself was neither scanned nor needed to be.
    EXPECT_THROW(fresh.entries(), Error);
}

TEST_F(ContextTarTest, WalkedWithTheDockerfileOutsideAmendsTheDockerignore) {
    tree_.file("elsewhere/Dockerfile", "FROM scratch\n");
    BuildContext fresh = BuildContext::from_directory(tree_ / "ctx");
    fresh.set_dockerfile(tree_ / "elsewhere/Dockerfile");
    ContextTar tar(fresh, std::nullopt, ContextEntries::kWalked);
    EXPECT_THAT(tar.dockerfile_name(), MatchesRegex("\\.dockerfile\\.[0-9a-f]{20}"));
    const std::vector<Member> members = read_tar(read_all(tar, 4096));
    EXPECT_EQ(content_of(members, tar.dockerfile_name()), "FROM scratch\n");
    EXPECT_EQ(content_of(members, ".dockerignore"),
              "*.log\nbuild/\n!build/keep.txt\n\n" + tar.dockerfile_name() + "\n");
    EXPECT_EQ(find(members, "debug.log"), nullptr);
    EXPECT_NE(find(members, "build/keep.txt"), nullptr);
}

TEST_F(ContextTarTest, WalkedDockerfileTextReplacesTheContextsOwn) {
    BuildContext fresh = BuildContext::from_directory(tree_ / "ctx");
    ContextTar tar(fresh, std::string("FROM busybox@sha256:0000\n"), ContextEntries::kWalked);
    EXPECT_THAT(tar.dockerfile_name(), MatchesRegex("\\.dockerfile\\.[0-9a-f]{20}"));
    const std::vector<Member> members = read_tar(read_all(tar, 65536));
    EXPECT_EQ(find(members, tar.dockerfile_name())->content, "FROM busybox@sha256:0000\n");
    // The context's own Dockerfile still goes as it is (COPY . sees it, as with docker build).
    EXPECT_EQ(find(members, "Dockerfile")->content, "FROM scratch\nCOPY . /\n");
}

}  // namespace
}  // namespace xarch::drivers::docker
