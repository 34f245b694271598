// SPDX-License-Identifier: Apache-2.0
// executor::run without root: from a forked child that dropped to nobody (65534), in a user
// namespace mapping it to 0 — ids, ownership of writes, network none, an overlay with userxattr,
// and USER refused without subordinate ids (as root to set up; skipped otherwise, and when the
// kernel refuses unprivileged user namespaces).
#include "executor/sandbox.hpp"
#include "executor/user_namespace.hpp"
#include "unit/executor/sandbox_fixture.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace xarch::executor {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::tree;
using test::write_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uid_t kNobody = 65534;

// Runs `body` in a forked child that dropped to nobody (no supplementary groups) and returns
// what it returned, or "!" and the message of what it threw. `prepare` runs before, as root; a
// report it returns is the child's.
std::string as_nobody(const std::function<std::string()>& body,
                      const std::function<std::string()>& prepare = {}) {
    std::array<int, 2> fds{};
    if (::pipe(fds.data()) != 0) {
        return std::string("!pipe: ") + std::strerror(errno);
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        return std::string("!fork: ") + std::strerror(errno);
    }
    if (pid == 0) {
        ::close(fds[0]);
        std::string report = prepare ? prepare() : std::string();
        if (report.empty() &&
            (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
             ::setresuid(kNobody, kNobody, kNobody) != 0)) {
            report = std::string("!dropping to nobody: ") + std::strerror(errno);
        } else if (report.empty()) {
            // Changing ids made this process non-dumpable, which leaves /proc/PID (and so the
            // id maps of the children it clones) owned by root; a process started as nobody is
            // dumpable, as this restores.
            ::prctl(PR_SET_DUMPABLE, 1);
            try {
                report = body();
            } catch (const std::exception& error) {
                report = std::string("!") + error.what();
            }
        }
        for (std::size_t at = 0; at < report.size();) {
            const ssize_t written = ::write(fds[1], report.data() + at, report.size() - at);
            if (written <= 0) {
                break;
            }
            at += static_cast<std::size_t>(written);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string report;
    std::array<char, 4096> buffer{};
    ssize_t got = 0;
    while ((got = ::read(fds[0], buffer.data(), buffer.size())) > 0) {
        report.append(buffer.data(), static_cast<std::size_t>(got));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return report;
}

// What executor::run did in the nobody child.
struct Outcome {
    bool ran = false;
    int exit_code = 0;
    std::vector<std::string> out;  // stdout lines
    std::optional<ErrorCode> code;
    std::string message;  // the error's, or the report when it was not an Error
};

// Runs `spec` as nobody and reports through the pipe: "R <exit>\n<lines>" or "E <code>\n<message>".
Outcome run_as_nobody(RunSpec spec, const std::function<std::string()>& prepare = {}) {
    const std::string report = as_nobody(
        [&spec] {
            std::vector<std::string> lines;
            spec.output = [&lines](std::string_view line, bool is_stderr) {
                if (!is_stderr) {
                    lines.emplace_back(line);
                }
            };
            try {
                const RunResult result = run(spec, util::CancelToken());
                std::string text = "R " + std::to_string(result.exit_code);
                for (const auto& line : lines) {
                    text += "\n" + line;
                }
                return text;
            } catch (const Error& error) {
                return "E " + std::to_string(static_cast<int>(error.code())) + "\n" + error.what();
            }
        },
        prepare);
    Outcome outcome;
    std::istringstream in(report);
    std::string kind;
    in >> kind;
    if (kind == "R") {
        outcome.ran = true;
        in >> outcome.exit_code;
        in.ignore(1);
        std::string line;
        while (std::getline(in, line)) {
            outcome.out.push_back(line);
        }
    } else if (kind == "E") {
        int code = 0;
        in >> code;
        in.ignore(1);
        outcome.code = static_cast<ErrorCode>(code);
        outcome.message = report.substr(static_cast<std::size_t>(in.tellg()));
    } else {
        outcome.message = report;
    }
    return outcome;
}

// The one refusal that skips: the kernel does not let nobody create a user namespace here.
bool user_namespaces_refused(const Outcome& outcome) {
    return outcome.code == ErrorCode::kPermissionDenied &&
           outcome.message.find("user namespaces are disabled") != std::string::npos;
}

// Whether the host gives nobody subordinate ids (then USER 1000 works without root).
bool nobody_has_subordinate_ids() {
    auto listed = [](const char* file) {
        std::ifstream in(file);
        return find_subordinate_range(in, "nobody", kNobody).has_value();
    };
    return ::access("/usr/bin/newuidmap", X_OK) == 0 && listed("/etc/subuid") &&
           listed("/etc/subgid");
}

// Fields separated by single spaces, as /proc's id maps are compared.
std::string fields(const std::string& line) {
    std::istringstream in(line);
    std::string field, joined;
    while (in >> field) {
        joined += (joined.empty() ? "" : " ") + field;
    }
    return joined;
}

uid_t owner_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_uid;
}

gid_t group_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_gid;
}

// The overlay fixture (userxattr, as without root) with a top layer, the rootfs and the scratch
// dir owned by nobody, who runs the sandbox.
class SandboxRootless : public test::OverlaySandbox {
protected:
    SandboxRootless() : OverlaySandbox("top", true) {}

    void SetUp() override {
        OverlaySandbox::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        test::run_shell("chown -R 65534:65534 " + test::quote(rootfs_) + " " +
                        test::quote(scratch_));
    }

    fs::path top() const { return extra(); }
};

TEST_F(SandboxRootless, CallerIsRootInsideThroughTheUserNamespace) {
    auto run_spec_ = spec({"sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map"});
    // Supplementary groups that are just the gid are dropped silently, even with a single map.
    run_spec_.groups = {0};
    const Outcome outcome = run_as_nobody(run_spec_);
    if (user_namespaces_refused(outcome)) {
        GTEST_SKIP() << outcome.message;
    }
    ASSERT_TRUE(outcome.ran) << outcome.message;
    EXPECT_EQ(outcome.exit_code, 0);
    std::vector<std::string> out;
    for (const auto& line : outcome.out) {
        out.push_back(fields(line));
    }
    if (nobody_has_subordinate_ids()) {
        ASSERT_EQ(out.size(), 6u) << ::testing::PrintToString(out);
        EXPECT_EQ(out[2], "0 65534 1");
        EXPECT_THAT(out[3], StartsWith("1 "));
    } else {
        EXPECT_THAT(out, ElementsAre("0", "0", "0 65534 1", "0 65534 1"));
    }
}

TEST_F(SandboxRootless, WritesLandInTheRootfsOwnedByTheCaller) {
    const auto before = tree(rootfs_);
    const Outcome outcome = run_as_nobody(
        spec({"sh", "-c", "echo hi > /made && mkdir /made-dir && stat -c '%u %g %s' /made"}));
    if (user_namespaces_refused(outcome)) {
        GTEST_SKIP() << outcome.message;
    }
    ASSERT_TRUE(outcome.ran) << outcome.message;
    EXPECT_EQ(outcome.exit_code, 0);
    // Inside, the file is root's.
    EXPECT_THAT(outcome.out, ElementsAre("0 0 3"));
    EXPECT_EQ(read_text(rootfs_ / "made"), "hi\n");
    for (const char* name : {"made", "made-dir"}) {
        EXPECT_EQ(owner_of(rootfs_ / name), kNobody) << name;
        EXPECT_EQ(group_of(rootfs_ / name), kNobody) << name;
    }
    // The mount points (the busybox rootfs has no /proc, /dev, /sys, /etc) are gone again.
    auto expected = before;
    expected.insert("made");
    expected.insert("made-dir");
    EXPECT_EQ(tree(rootfs_), expected);
}

TEST_F(SandboxRootless, NetworkNoneLeavesOnlyLoopbackUp) {
    auto run_spec_ = spec({"sh", "-c",
                           "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; "
                           "cat /sys/class/net/lo/operstate 2>/dev/null || "
                           "ip link show lo | grep -o UP | head -n 1"});
    run_spec_.network = Network::kNone;
    const Outcome outcome = run_as_nobody(run_spec_);
    if (user_namespaces_refused(outcome)) {
        GTEST_SKIP() << outcome.message;
    }
    ASSERT_TRUE(outcome.ran) << outcome.message;
    EXPECT_EQ(outcome.exit_code, 0);
    ASSERT_EQ(outcome.out.size(), 2u) << ::testing::PrintToString(outcome.out);
    EXPECT_EQ(outcome.out[0], "lo");
    EXPECT_THAT(outcome.out[1], ::testing::AnyOf("unknown", "UP"));
}

TEST_F(SandboxRootless, OverlayWithUserxattrHonoursWhiteoutsAndOpaqueDirs) {
    ASSERT_TRUE(fs::is_directory(rootfs_ / "usr"));
    // Made by nobody, as a rootless snapshot store makes layers: a 0/0 whiteout (mknod allows
    // it unprivileged since Linux 5.8) and an opaque dir marked with the user.* xattr.
    const std::string made = as_nobody([this] {
        fs::create_directories(rootfs_ / "data");
        write_text(rootfs_ / "data/below.txt", "below\n");
        if (::mknod((top() / "usr").c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
            return std::string("!mknod: ") + std::strerror(errno);
        }
        fs::create_directories(top() / "data");
        write_text(top() / "data/top.txt", "top\n");
        if (::setxattr((top() / "data").c_str(), "user.overlay.opaque", "y", 1, 0) != 0) {
            return std::string("!setxattr: ") + std::strerror(errno);
        }
        return std::string("ok");
    });
    ASSERT_EQ(made, "ok");

    const Outcome outcome = run_as_nobody(
        overlay_spec({"sh", "-c",
                      "ls -1A /data; test -e /usr && echo usr-present || echo usr-hidden; "
                      "echo new > /data/new; grep -c localhost /etc/hosts"},
                     {top(), rootfs_}));
    if (user_namespaces_refused(outcome)) {
        GTEST_SKIP() << outcome.message;
    }
    ASSERT_TRUE(outcome.ran) << outcome.message;
    EXPECT_EQ(outcome.exit_code, 0);
    EXPECT_THAT(outcome.out, ElementsAre("top.txt", "usr-hidden", "2"));
    // Only the write, in the upper dir, owned by nobody; the stubs (/proc, /dev, /sys, /etc)
    // are gone, the layers untouched.
    EXPECT_EQ(tree(upper()), (std::set<std::string>{"data", "data/new"}));
    EXPECT_EQ(read_text(upper() / "data/new"), "new\n");
    EXPECT_EQ(owner_of(upper() / "data/new"), kNobody);
    EXPECT_EQ(tree(top()), (std::set<std::string>{"data", "data/top.txt", "usr"}));
    EXPECT_FALSE(fs::exists(rootfs_ / "data/new"));
    EXPECT_EQ(tree(scratch_ / "root"), std::set<std::string>{});
}

TEST_F(SandboxRootless, UserOtherThanRootNeedsSubordinateIds) {
    auto run_spec_ = spec({"id", "-u"});
    run_spec_.uid = 1000;
    run_spec_.gid = 1000;
    const auto before = tree(rootfs_);
    const Outcome outcome = run_as_nobody(run_spec_);
    if (nobody_has_subordinate_ids()) {
        if (user_namespaces_refused(outcome)) {
            GTEST_SKIP() << outcome.message;
        }
        ASSERT_TRUE(outcome.ran) << outcome.message;
        EXPECT_THAT(outcome.out, ElementsAre("1000"));
        return;
    }
    ASSERT_FALSE(outcome.ran);
    EXPECT_EQ(outcome.code, ErrorCode::kPermissionDenied) << outcome.message;
    EXPECT_THAT(outcome.message,
                StartsWith("RUN as USER 1000 without root needs subordinate ids: add a range for "
                           "\"nobody\" to /etc/subuid and /etc/subgid (uidmap's newuidmap"));
    // Refused before any mount point was made.
    EXPECT_EQ(tree(rootfs_), before);
}

TEST_F(SandboxRootless, SubordinateIdsLetTheCommandRunAsAnotherUser) {
    // /etc/subuid and /etc/subgid giving nobody 100000-165535, seen only in the child's own mount
    // namespace (an overlay on the host's /etc), where the setuid newuidmap/newgidmap read them.
    if (::access("/usr/bin/newuidmap", X_OK) != 0 || ::access("/usr/bin/newgidmap", X_OK) != 0) {
        GTEST_SKIP() << "newuidmap/newgidmap are not installed (Debian's uidmap)";
    }
    const fs::path etc_upper = scratch_ / "etc-upper";
    const fs::path etc_work = scratch_ / "etc-work";
    fs::create_directories(etc_upper);
    fs::create_directories(etc_work);
    write_text(etc_upper / "subuid", "nobody:100000:65536\n");
    write_text(etc_upper / "subgid", "nobody:100000:65536\n");
    auto own_etc = [&] {
        const std::string options =
            "lowerdir=/etc,upperdir=" + etc_upper.string() + ",workdir=" + etc_work.string();
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("overlay", "/etc", "overlay", 0, options.c_str()) != 0) {
            return std::string("!a private /etc: ") + std::strerror(errno);
        }
        return std::string();
    };
    // A directory USER 1000 may write in.
    fs::create_directories(rootfs_ / "out");
    fs::permissions(rootfs_ / "out", fs::perms::all);

    auto run_spec_ = spec({"sh", "-c",
                           "id -u; id -g; id -G; cat /proc/self/uid_map /proc/self/gid_map; "
                           "echo x > /out/file"});
    run_spec_.uid = 1000;
    run_spec_.gid = 1000;
    run_spec_.groups = {1000, 100};
    const Outcome outcome = run_as_nobody(run_spec_, own_etc);
    if (user_namespaces_refused(outcome)) {
        GTEST_SKIP() << outcome.message;
    }
    ASSERT_TRUE(outcome.ran) << outcome.message;
    EXPECT_EQ(outcome.exit_code, 0);
    std::vector<std::string> out;
    for (const auto& line : outcome.out) {
        out.push_back(fields(line));
    }
    EXPECT_THAT(out, ElementsAre("1000", "1000", "1000 100", "0 65534 1", "1 100000 65536",
                                 "0 65534 1", "1 100000 65536"));
    // Inside id 1000 is the 1000th subordinate id: 100000 + 1000 - 1 on the host.
    EXPECT_EQ(owner_of(rootfs_ / "out/file"), 100999u);
    EXPECT_EQ(group_of(rootfs_ / "out/file"), 100999u);

    // The maps as the solver reads them to map a layer's owners back.
    const std::string maps = as_nobody(
        [] {
            const IdMaps ids = IdMaps::for_caller();
            return std::to_string(ids.subordinate()) + " " + std::to_string(ids.host_uid()) + " " +
                   std::to_string(ids.host_gid()) + " " +
                   std::to_string(ids.subordinate_uids().start) + " " +
                   std::to_string(ids.subordinate_uids().count) + " " +
                   std::to_string(ids.subordinate_gids().start) + " " +
                   std::to_string(ids.subordinate_gids().count);
        },
        own_etc);
    EXPECT_EQ(maps, "1 65534 65534 100000 65536 100000 65536");

    // Beyond the range: refused up front, saying how many ids there are.
    run_spec_.uid = 70000;
    const Outcome beyond = run_as_nobody(run_spec_, own_etc);
    EXPECT_EQ(beyond.code, ErrorCode::kPermissionDenied) << beyond.message;
    EXPECT_THAT(beyond.message, HasSubstr("only ids up to 65536 (uids)"));
}

// Puts the calling process (root) in a new user namespace mapping 0 and nobody to themselves,
// whose user.max_user_namespaces is 0: nobody there cannot create one, as on a host with
// unprivileged user namespaces disabled. Returns "" or "!" and what failed.
std::string enter_namespace_without_user_namespaces() {
    std::array<int, 2> go{};
    if (::pipe(go.data()) != 0) {
        return std::string("!pipe: ") + std::strerror(errno);
    }
    // The maps must be written from the parent user namespace: by a helper forked before.
    const pid_t parent = ::getpid();
    const pid_t helper = ::fork();
    if (helper < 0) {
        return std::string("!fork: ") + std::strerror(errno);
    }
    if (helper == 0) {
        ::close(go[1]);
        char byte = 0;
        if (::read(go[0], &byte, 1) != 1) {
            ::_exit(1);
        }
        const std::string proc = "/proc/" + std::to_string(parent) + "/";
        for (const char* map : {"uid_map", "gid_map"}) {
            std::ofstream out(proc + map);
            out << "0 0 1\n65534 65534 1\n";
            if (!out.flush()) {
                ::_exit(1);
            }
        }
        ::_exit(0);
    }
    ::close(go[0]);
    const bool unshared = ::unshare(CLONE_NEWUSER) == 0;
    const int error = errno;
    const char byte = 1;
    if (unshared) {
        [[maybe_unused]] auto written = ::write(go[1], &byte, 1);
    }
    ::close(go[1]);
    int status = 0;
    ::waitpid(helper, &status, 0);
    if (!unshared) {
        return std::string("!unshare: ") + std::strerror(error);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return "!the helper could not write the id maps";
    }
    std::ofstream limit("/proc/sys/user/max_user_namespaces");
    limit << "0\n";
    if (!limit.flush()) {
        return "!cannot set user.max_user_namespaces to 0";
    }
    return {};
}

TEST_F(SandboxRootless, RefusedUserNamespacesSayWhy) {
    const auto before = tree(rootfs_);
    const Outcome outcome = run_as_nobody(spec({"true"}), enter_namespace_without_user_namespaces);
    ASSERT_FALSE(outcome.ran);
    EXPECT_EQ(outcome.code, ErrorCode::kPermissionDenied) << outcome.message;
    EXPECT_TRUE(user_namespaces_refused(outcome)) << outcome.message;
    EXPECT_THAT(outcome.message, HasSubstr("kernel.unprivileged_userns_clone"));
    EXPECT_THAT(outcome.message, HasSubstr("user.max_user_namespaces"));
    EXPECT_THAT(outcome.message, HasSubstr("run the build as root"));
    // The mount points made before the clone are gone again.
    EXPECT_EQ(tree(rootfs_), before);
}

TEST(SubordinateRange, FindsTheFirstRangeOfTheUserByNameOrUid) {
    std::istringstream listing(
        "# comment\n"
        "alice:100000:65536\n"
        "bob:bad:10\n"
        "bob:200000:0\n"
        "1001:300000:1000\n"
        "bob:400000:5\n");
    const auto alice = find_subordinate_range(listing, "alice", 1000);
    ASSERT_TRUE(alice.has_value());
    EXPECT_EQ(alice->start, 100000u);
    EXPECT_EQ(alice->count, 65536u);

    listing.clear();
    listing.seekg(0);
    // bob's malformed and empty ranges are skipped; his uid's line comes first.
    const auto bob = find_subordinate_range(listing, "bob", 1001);
    ASSERT_TRUE(bob.has_value());
    EXPECT_EQ(bob->start, 300000u);
    EXPECT_EQ(bob->count, 1000u);

    listing.clear();
    listing.seekg(0);
    EXPECT_FALSE(find_subordinate_range(listing, "carol", 1002).has_value());
}

}  // namespace
}  // namespace xarch::executor
