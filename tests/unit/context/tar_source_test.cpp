// SPDX-License-Identifier: Apache-2.0
// Tar contexts: extracted and scanned like a directory (plain and gzip, from a file and from a
// pipe), removed afterwards, and hostile archives refused with the entry named: "..", absolute
// paths, writes through symlinks, hard links out of the tree, device nodes, garbage.
#include "context_test_util.hpp"

#include <xarch/context.hpp>
#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace xarch_context_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using xarch::BuildContext;
using xarch::Digest;
using xarch::Error;
using xarch::ErrorCode;

struct Member {
    std::string name;
    mode_t type = AE_IFREG;
    std::string content;  // file content, or the link target
    bool hardlink = false;
};

// Writes a tar (gzip-compressed when asked) of `members` to `path` with libarchive.
void write_tar(const fs::path& path, const std::vector<Member>& members, bool gzip = false) {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip) {
        archive_write_add_filter_gzip(a);
    }
    ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    for (const Member& m : members) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, m.name.c_str());
        archive_entry_set_mtime(e, 1'600'000'000, 0);
        if (m.hardlink) {
            archive_entry_set_hardlink(e, m.content.c_str());
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
        } else {
            archive_entry_set_filetype(e, m.type);
            archive_entry_set_perm(e, m.type == AE_IFDIR ? 0755 : 0644);
            if (m.type == AE_IFREG) {
                archive_entry_set_size(e, static_cast<la_int64_t>(m.content.size()));
            } else if (m.type == AE_IFLNK) {
                archive_entry_set_symlink(e, m.content.c_str());
            } else if (m.type == AE_IFCHR) {
                archive_entry_set_rdevmajor(e, 1);
                archive_entry_set_rdevminor(e, 3);
            }
        }
        ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << m.name;
        if (!m.hardlink && m.type == AE_IFREG && !m.content.empty()) {
            archive_write_data(a, m.content.data(), m.content.size());
        }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

const std::vector<Member> kGood = {
    {"./", AE_IFDIR, ""},
    {"Dockerfile", AE_IFREG, "FROM scratch\nCOPY . /\n"},
    {"app/", AE_IFDIR, ""},
    {"app/main.sh", AE_IFREG, "echo hi\n"},
    {"app/link", AE_IFLNK, "main.sh"},
    {"app/hard", AE_IFREG, "app/main.sh", true},
};

Error error_of_tar(const fs::path& tar) {
    try {
        BuildContext::from_tar_file(tar);
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCode::kInternal, "");
}

TEST(TarContext, ExtractsAndScans) {
    TempTree t;
    write_tar(t / "ctx.tar", kGood);
    fs::path extracted;
    {
        BuildContext ctx = BuildContext::from_tar_file(t / "ctx.tar");
        EXPECT_TRUE(ctx.from_tar());
        extracted = ctx.directory();
        EXPECT_EQ(ctx.dockerfile_text(), "FROM scratch\nCOPY . /\n");
        const auto& entries = ctx.scan();
        EXPECT_THAT(paths(entries),
                    ElementsAre("Dockerfile", "app", "app/hard", "app/link", "app/main.sh"));
        EXPECT_EQ(find(entries, "app/hard")->digest, Digest::of("echo hi\n"));
        EXPECT_EQ(find(entries, "app/link")->link_target, "main.sh");
        EXPECT_EQ(find(entries, "app/main.sh")->mtime_ns, 1'600'000'000'000'000'000LL);
        EXPECT_EQ(ctx.last_scan_stats().cache_hits, 0u);
        ASSERT_TRUE(fs::exists(extracted));
    }
    EXPECT_FALSE(fs::exists(extracted)) << "the extraction is removed with the context";
}

TEST(TarContext, GzipFromAPipe) {
    TempTree t;
    write_tar(t / "ctx.tgz", kGood, true);
    const int in = ::open((t / "ctx.tgz").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(in, 0);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::thread writer([&] {
        char buf[4096];
        ssize_t n = 0;
        while ((n = ::read(in, buf, sizeof buf)) > 0) {
            if (::write(fds[1], buf, static_cast<std::size_t>(n)) != n) {
                break;
            }
        }
        ::close(fds[1]);
    });
    std::optional<BuildContext> ctx;
    try {
        ctx.emplace(BuildContext::from_tar_fd(fds[0]));
    } catch (...) {
        ::close(fds[0]);  // unblocks the writer
        writer.join();
        ::close(in);
        throw;
    }
    writer.join();
    ::close(fds[0]);
    ::close(in);
    EXPECT_EQ(ctx->scan().size(), 5u);
}

TEST(TarContext, RelativeDockerfileIsInsideTheArchive) {
    TempTree t;
    write_tar(t / "ctx.tar", {{"build/Dockerfile.dev", AE_IFREG, "FROM dev\n"}});
    BuildContext ctx = BuildContext::from_tar_file(t / "ctx.tar");
    ctx.set_dockerfile("build/Dockerfile.dev");
    EXPECT_EQ(ctx.dockerfile_text(), "FROM dev\n");
    const Error e = [&] {
        try {
            ctx.set_dockerfile("Dockerfile");
        } catch (const Error& err) {
            return err;
        }
        return Error(ErrorCode::kInternal, "none");
    }();
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("inside the archive"));
}

TEST(TarContext, DotDotIsRefused) {
    TempTree t;
    write_tar(t / "evil.tar", {{"ok", AE_IFREG, "x"}, {"../evil", AE_IFREG, "x"}});
    const Error e = error_of_tar(t / "evil.tar");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("\"../evil\""));
    EXPECT_FALSE(fs::exists(t / "evil"));
}

TEST(TarContext, AbsolutePathIsRefused) {
    TempTree t;
    const std::string abs = (t / "abs-target").string();
    write_tar(t / "evil.tar", {{abs, AE_IFREG, "x"}});
    EXPECT_THAT(error_of_tar(t / "evil.tar").what(), HasSubstr("outside the context"));
    EXPECT_FALSE(fs::exists(abs));
}

TEST(TarContext, WriteThroughSymlinkIsRefused) {
    TempTree t;
    t.dir("victim");
    write_tar(t / "evil.tar",
              {{"link", AE_IFLNK, (t / "victim").string()}, {"link/pwned", AE_IFREG, "x"}});
    const Error e = error_of_tar(t / "evil.tar");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("\"link/pwned\""));
    EXPECT_FALSE(fs::exists(t / "victim/pwned"));
}

TEST(TarContext, HardLinkOutOfTheTreeIsRefused) {
    TempTree t;
    write_tar(t / "evil.tar", {{"h", AE_IFREG, "../../etc/passwd", true}});
    EXPECT_THAT(error_of_tar(t / "evil.tar").what(), HasSubstr("hard link"));
}

TEST(TarContext, DeviceNodeIsRefused) {
    TempTree t;
    write_tar(t / "dev.tar", {{"null", AE_IFCHR, ""}});
    EXPECT_THAT(error_of_tar(t / "dev.tar").what(), HasSubstr("device node"));
}

TEST(TarContext, GarbageIsRefused) {
    TempTree t;
    t.file("garbage.tar", std::string(3000, '\x07'));
    EXPECT_EQ(error_of_tar(t / "garbage.tar").code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(error_of_tar(t / "missing.tar").code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace xarch_context_test
