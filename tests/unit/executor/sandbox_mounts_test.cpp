// SPDX-License-Identifier: Apache-2.0
// executor::run with an overlayfs root (whiteouts, opaque dirs, mount stubs kept out of the upper
// dir), RUN --mount bind and tmpfs mounts, and the host network (as root; skipped otherwise).
#include "executor/sandbox.hpp"
#include "unit/executor/sandbox_fixture.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace xarch::executor {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::tree;
using test::write_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An mtime well in the past, so that any change made now would show.
constexpr time_t kOldTime = 1000000000;

std::pair<time_t, long> mtime_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

void set_old_times(const fs::path& path) {
    const std::array<timespec, 2> times{timespec{kOldTime, 0}, timespec{kOldTime, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times.data(), AT_SYMLINK_NOFOLLOW), 0) << path;
}

// An overlayfs whiteout: a 0/0 character device hiding `path` in the layers below.
void make_whiteout(const fs::path& path) {
    ASSERT_EQ(::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)), 0) << std::strerror(errno);
}

// An opaque directory: the layers below contribute nothing to it.
void make_opaque_dir(const fs::path& path) {
    fs::create_directories(path);
    ASSERT_EQ(::setxattr(path.c_str(), "trusted.overlay.opaque", "y", 1, 0), 0)
        << std::strerror(errno);
}

MountSpec bind(fs::path source, std::string target, bool read_only) {
    MountSpec mount;
    mount.source = std::move(source);
    mount.target = std::move(target);
    mount.read_only = read_only;
    return mount;
}

MountSpec tmpfs(std::string target, std::int64_t size) {
    MountSpec mount;
    mount.type = MountSpec::Type::kTmpfs;
    mount.target = std::move(target);
    mount.tmpfs_size = size;
    return mount;
}

// The overlay fixture with a host dir to mount (holding in.txt).
class SandboxMounts : public test::OverlaySandbox {
protected:
    SandboxMounts() : OverlaySandbox("host", false) {}

    void SetUp() override {
        OverlaySandbox::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        write_text(host() / "in.txt", "hello\n");
    }

    fs::path host() const { return extra(); }

    // An /etc in the base layer (mode 0750, owner 12:34, an old mtime) without the files the
    // sandbox mounts, so they must be stubbed in a copy of it.
    void add_base_etc() {
        const fs::path etc = rootfs_ / "etc";
        fs::create_directories(etc);
        write_text(etc / "passwd", "root:x:0:0:root:/root:/bin/sh\n");
        ASSERT_EQ(::chown(etc.c_str(), 12, 34), 0);
        ASSERT_EQ(::chmod(etc.c_str(), 0750), 0);
        set_old_times(etc);
    }
};

TEST_F(SandboxMounts, OverlayRunWritingNothingLeavesTheUpperDirEmpty) {
    add_base_etc();
    const auto upper_mtime = mtime_of(upper());
    const auto result =
        run_spec(overlay_spec({"sh", "-c", "cat /etc/hosts /etc/passwd"}, {rootfs_}));
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ::testing::Contains("root:x:0:0:root:/root:/bin/sh"));
    EXPECT_EQ(tree(upper()), std::set<std::string>{});
    EXPECT_EQ(mtime_of(upper()), upper_mtime);
    // Nothing stays mounted on the root once the sandbox is gone.
    EXPECT_EQ(tree(scratch_ / "root"), std::set<std::string>{});
    EXPECT_FALSE(fs::exists(rootfs_ / "etc/hosts"));
}

TEST_F(SandboxMounts, OverlayWriteKeepsItsParentCopiedUpWithTheLowersMetadataButNoStub) {
    add_base_etc();
    const auto result = run_spec(overlay_spec({"sh", "-c", "echo x > /etc/foo"}, {rootfs_}));
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(tree(upper()), (std::set<std::string>{"etc", "etc/foo"}));
    struct stat st {};
    ASSERT_EQ(::lstat((upper() / "etc").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0750u);
    EXPECT_EQ(st.st_uid, 12u);
    EXPECT_EQ(st.st_gid, 34u);
    EXPECT_EQ(read_text(upper() / "etc/foo"), "x\n");
    EXPECT_FALSE(fs::exists(rootfs_ / "etc/foo"));
}

TEST_F(SandboxMounts, OverlayKeepsACopiedUpParentTheCommandChanged) {
    add_base_etc();
    const auto result = run_spec(overlay_spec({"chmod", "0700", "/etc"}, {rootfs_}));
    EXPECT_EQ(result.exit_code, 0);
    // The chmod is the step's change; the stubs inside are still taken back.
    EXPECT_EQ(tree(upper()), std::set<std::string>{"etc"});
    struct stat st {};
    ASSERT_EQ(::lstat((upper() / "etc").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, 12u);
}

TEST_F(SandboxMounts, OverlayLookupsHonourWhiteoutsAndOpaqueDirs) {
    // Base: /etc with its own hosts, /data/below.txt, /proc, /usr (from busybox).
    fs::create_directories(rootfs_ / "etc");
    write_text(rootfs_ / "etc/hosts", "base\n");
    fs::create_directories(rootfs_ / "data");
    write_text(rootfs_ / "data/below.txt", "below\n");
    fs::create_directories(rootfs_ / "proc");
    ASSERT_TRUE(fs::is_directory(rootfs_ / "usr"));
    // Top: /usr and /proc whited out (so /proc needs a stub again), /etc and /data opaque (so
    // the base's etc/hosts is not there to mount on).
    const fs::path top = scratch_ / "top";
    fs::create_directories(top);
    make_whiteout(top / "usr");
    make_whiteout(top / "proc");
    make_opaque_dir(top / "etc");
    write_text(top / "etc/group", "root:x:0:\n");
    make_opaque_dir(top / "data");
    write_text(top / "data/top.txt", "top\n");

    const auto result = run_spec(overlay_spec(
        {"sh", "-c",
         "ls -1A /data; ls -1A /etc; test -e /usr && echo usr-present || echo usr-hidden; "
         "test -e /proc/self/status && echo proc-mounted; grep -c localhost /etc/hosts"},
        {top, rootfs_}));
    EXPECT_EQ(result.exit_code, 0) << ::testing::PrintToString(result.last_lines);
    EXPECT_THAT(lines_.stdout_lines(),
                ElementsAre("top.txt", "group", "hostname", "hosts", "resolv.conf", "usr-hidden",
                            "proc-mounted", "2"));
    EXPECT_EQ(tree(upper()), std::set<std::string>{});
}

TEST_F(SandboxMounts, OverlayWithoutLowersRunsOnTheUpperDir) {
    // FROM scratch: nothing below, the upper dir is the whole root (here holding busybox).
    fs::copy(rootfs_, upper(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    const auto before = tree(upper());
    const auto result = run_spec(overlay_spec({"sh", "-c", "echo made > /made"}, {}));
    EXPECT_EQ(result.exit_code, 0);
    auto expected = before;
    expected.insert("made");
    EXPECT_EQ(tree(upper()), expected);
    EXPECT_EQ(tree(scratch_ / "root"), std::set<std::string>{});
}

TEST_F(SandboxMounts, OverlayOptionsLongerThanAPageAreRefused) {
    const std::vector<fs::path> lowers(200, fs::path("/" + std::string(60, 'l')));
    try {
        run_spec(overlay_spec({"true"}, lowers));
        ADD_FAILURE() << "run accepted overlay options longer than a page";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
        EXPECT_THAT(error.what(), HasSubstr("200 lower layers"));
    }
    EXPECT_EQ(tree(upper()), std::set<std::string>{});
}

TEST_F(SandboxMounts, OverlayMountFailureIsAnIoErrorAndTakesTheStubsBack) {
    // overlayfs refuses a work dir inside the upper dir.
    fs::create_directories(upper() / "nested-work");
    auto run_spec_ = overlay_spec({"true"}, {rootfs_});
    run_spec_.overlay->work = upper() / "nested-work";
    try {
        run_spec(run_spec_);
        ADD_FAILURE() << "run returned with a work dir inside the upper dir";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::kIo);
        EXPECT_THAT(error.what(), HasSubstr("cannot mount overlayfs"));
    }
    for (const char* stub : {"proc", "dev", "sys", "etc"}) {
        EXPECT_FALSE(fs::exists(upper() / stub)) << stub;
    }
}

TEST_F(SandboxMounts, ReadOnlyBindCannotBeWritten) {
    auto run_spec_ =
        spec({"sh", "-c", "cat /mnt/ro/in.txt; touch /mnt/ro/new 2>&1; echo status=$?"});
    run_spec_.mounts.push_back(bind(host(), "/mnt/ro", true));
    const auto before = tree(rootfs_);
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(),
                ElementsAre("hello", HasSubstr("Read-only file system"), "status=1"));
    EXPECT_FALSE(fs::exists(host() / "new"));
    EXPECT_EQ(tree(rootfs_), before);
}

TEST_F(SandboxMounts, ReadWriteBindWritesReachTheHostDir) {
    auto run_spec_ = spec({"sh", "-c", "echo data > /cache/out"});
    run_spec_.mounts.push_back(bind(host(), "/cache", false));
    const auto before = tree(rootfs_);
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(read_text(host() / "out"), "data\n");
    EXPECT_EQ(tree(rootfs_), before);
}

TEST_F(SandboxMounts, TmpfsContentsVanishAndNeverReachTheUpperDir) {
    const std::int64_t size = 1024 * 1024;
    auto write = overlay_spec(
        {"sh", "-c", "echo x > /tmp/scratch/f && cat /tmp/scratch/f && df -k /tmp/scratch"},
        {rootfs_});
    write.mounts.push_back(tmpfs("/tmp/scratch", size));
    EXPECT_EQ(run_spec(write).exit_code, 0);
    const auto out = lines_.stdout_lines();
    ASSERT_EQ(out.size(), 3u) << ::testing::PrintToString(out);
    EXPECT_EQ(out[0], "x");
    EXPECT_THAT(out[2], HasSubstr(" " + std::to_string(size / 1024) + " "));
    EXPECT_EQ(tree(upper()), std::set<std::string>{});

    lines_.all.clear();
    auto look = overlay_spec({"sh", "-c", "ls -1A /tmp/scratch | wc -l"}, {rootfs_});
    look.mounts.push_back(tmpfs("/tmp/scratch", 0));
    EXPECT_EQ(run_spec(look).exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("0"));
    EXPECT_EQ(tree(upper()), std::set<std::string>{});
}

TEST_F(SandboxMounts, BoundSecretFileIsReadableAndLeavesNothingInTheUpperDir) {
    const fs::path secret = scratch_ / "secret";
    write_text(secret, "s3cret");
    ASSERT_EQ(::chmod(secret.c_str(), 0400), 0);
    auto run_spec_ = overlay_spec({"sh", "-c", "cat /run/secrets/token; echo"}, {rootfs_});
    run_spec_.mounts.push_back(bind(secret, "/run/secrets/token", true));
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("s3cret"));
    EXPECT_EQ(tree(upper()), std::set<std::string>{});
    EXPECT_FALSE(fs::exists(rootfs_ / "run"));
}

TEST_F(SandboxMounts, BindsAUnixSocket) {
    const fs::path socket_path = scratch_ / "agent.sock";
    const int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(sock, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(socket_path.string().size(), sizeof address.sun_path);
    std::strcpy(address.sun_path, socket_path.c_str());
    ASSERT_EQ(::bind(sock, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    auto run_spec_ = spec({"sh", "-c", "test -S /run/agent.sock && echo socket"});
    run_spec_.mounts.push_back(bind(socket_path, "/run/agent.sock", false));
    const auto before = tree(rootfs_);
    const auto result = run_spec(run_spec_);
    ::close(sock);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("socket"));
    EXPECT_EQ(tree(rootfs_), before);
}

TEST_F(SandboxMounts, TargetInsideAnEarlierTmpfsIsMadeInIt) {
    auto run_spec_ = spec({"cat", "/scratch/in/in.txt"});
    run_spec_.mounts.push_back(tmpfs("/scratch", 0));
    run_spec_.mounts.push_back(bind(host(), "/scratch/in", true));
    const auto before = tree(rootfs_);
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("hello"));
    EXPECT_EQ(tree(rootfs_), before);
    EXPECT_EQ(tree(host()), std::set<std::string>{"in.txt"});
}

TEST_F(SandboxMounts, TargetThroughASymlinkOrRelativeIsRefused) {
    const fs::path outside = scratch_ / "outside";
    fs::create_directories(outside);
    fs::create_symlink(outside, rootfs_ / "escape");
    const auto before = tree(rootfs_);
    for (const std::string target : {"/escape/x", "relative/x"}) {
        auto run_spec_ = spec({"true"});
        run_spec_.mounts.push_back(tmpfs(target, 0));
        try {
            run_spec(run_spec_);
            ADD_FAILURE() << "run accepted the target " << target;
        } catch (const Error& error) {
            EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << error.what();
            EXPECT_THAT(error.what(),
                        HasSubstr(target == "/escape/x" ? "\"/escape\"" : "\"relative/x\""));
        }
    }
    EXPECT_EQ(tree(outside), std::set<std::string>{});
    EXPECT_EQ(tree(rootfs_), before);  // the stubs made before the refusal are gone again
}

TEST_F(SandboxMounts, MountPointParentsKeepTheirMtimes) {
    fs::create_directories(rootfs_ / "etc");
    set_old_times(rootfs_ / "etc");
    set_old_times(rootfs_);
    const auto before = tree(rootfs_);
    auto run_spec_ = spec({"cat", "/run/in/in.txt"});
    run_spec_.mounts.push_back(bind(host(), "/run/in", true));
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(tree(rootfs_), before);
    EXPECT_EQ(mtime_of(rootfs_ / "etc"), std::make_pair(kOldTime, 0L));
    EXPECT_EQ(mtime_of(rootfs_), std::make_pair(kOldTime, 0L));
}

// The interface names in a /proc/net/dev listing.
std::set<std::string> interfaces_in(const std::string& listing) {
    std::set<std::string> names;
    std::istringstream lines(listing);
    std::string line;
    while (std::getline(lines, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        const auto start = line.find_first_not_of(' ');
        names.insert(line.substr(start, colon - start));
    }
    return names;
}

TEST_F(SandboxMounts, NetworkHostSharesTheHostsInterfaces) {
    auto run_spec_ = spec({"cat", "/proc/net/dev"});
    run_spec_.network = Network::kHost;
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    std::string listing;
    for (const auto& line : lines_.stdout_lines()) {
        listing += line + "\n";
    }
    const auto inside = interfaces_in(listing);
    EXPECT_EQ(inside, interfaces_in(read_text("/proc/net/dev")));
    EXPECT_GT(inside.size(), 0u);
}

}  // namespace
}  // namespace xarch::executor
