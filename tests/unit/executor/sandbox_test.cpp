// SPDX-License-Identifier: Apache-2.0
// executor::run on rootfs folders made from Debian's busybox-static (as root; skipped otherwise).
#include "executor/sandbox.hpp"

#include "emulation/binfmt.hpp"
#include "unit/executor/sandbox_fixture.hpp"

#include <xarch/emulators.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

namespace xarch::executor {
namespace {

namespace fs = std::filesystem;
using test::Sandbox;
using test::tree;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// How many host processes have `root` as their root directory (the sandbox's processes).
std::size_t processes_in(const fs::path& root) {
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::error_code error;
        // /proc/PID/root of a pivoted process reads as "/"; stat through it finds the rootfs.
        if (fs::equivalent(entry.path() / "root", root, error) && !error) {
            ++count;
        }
    }
    return count;
}

TEST_F(Sandbox, RelaysStdoutAndStderrLinesAndTheExitCode) {
    const auto result = run_spec(spec({"sh", "-c", "echo hi; echo err >&2; exit 3"}));
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_EQ(result.signal, 0);
    std::vector<std::pair<std::string, bool>> sorted = lines_.all;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_THAT(sorted, ElementsAre(Pair("err", true), Pair("hi", false)));
    std::vector<std::string> last = result.last_lines;
    std::sort(last.begin(), last.end());
    EXPECT_THAT(last, ElementsAre("err", "hi"));
}

TEST_F(Sandbox, CommandIsPidOneOfItsOwnPidNamespace) {
    const auto result = run_spec(spec({"cat", "/proc/1/cmdline"}));
    EXPECT_EQ(result.exit_code, 0);
    ASSERT_EQ(lines_.all.size(), 1u);
    EXPECT_EQ(lines_.all[0].first, std::string("cat\0/proc/1/cmdline\0", 20));
}

TEST_F(Sandbox, SetsTheHostnameAndEtcFiles) {
    auto run_spec_ =
        spec({"sh", "-c", "hostname; cat /etc/hostname; grep -c localhost /etc/hosts"});
    run_spec_.hostname = "sandbox-test-host";
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("sandbox-test-host", "sandbox-test-host", "2"));
}

TEST_F(Sandbox, AppliesEnvironmentAndCreatesTheWorkingDirectory) {
    auto run_spec_ = spec({"sh", "-c", "echo $GREETING; pwd; env | grep -c ^"});
    run_spec_.env = {"PATH=/bin", "GREETING=hello there"};
    run_spec_.cwd = "/work/deep/dir";
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    // env lists PATH, GREETING and what sh adds (PWD, SHLVL): nothing from the host.
    ASSERT_EQ(lines_.stdout_lines().size(), 3u);
    EXPECT_EQ(lines_.stdout_lines()[0], "hello there");
    EXPECT_EQ(lines_.stdout_lines()[1], "/work/deep/dir");
    EXPECT_TRUE(fs::is_directory(rootfs_ / "work/deep/dir"));
}

TEST_F(Sandbox, RunsAsTheGivenUserAndGroups) {
    auto run_spec_ =
        spec({"sh", "-c", "id -u; id -g; id -G; touch /tmp-denied 2>/dev/null || echo denied"});
    run_spec_.uid = 65534;
    run_spec_.gid = 65534;
    run_spec_.groups = {65534, 100};
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("65534", "65534", "65534 100", "denied"));
    EXPECT_FALSE(fs::exists(rootfs_ / "tmp-denied"));
}

TEST_F(Sandbox, NetworkNoneLeavesOnlyLoopbackUp) {
    auto run_spec_ = spec({"sh", "-c",
                           "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; "
                           "cat /sys/class/net/lo/operstate 2>/dev/null || "
                           "ip link show lo | grep -o UP | head -n 1"});
    run_spec_.network = Network::kNone;
    const auto result = run_spec(run_spec_);
    EXPECT_EQ(result.exit_code, 0);
    const auto out = lines_.stdout_lines();
    ASSERT_EQ(out.size(), 2u) << ::testing::PrintToString(out);
    EXPECT_EQ(out[0], "lo");
    // lo has no carrier state to report ("unknown") but is up.
    EXPECT_THAT(out[1], ::testing::AnyOf("unknown", "UP"));
}

TEST_F(Sandbox, CancelKillsTheWholeProcessTree) {
    // A background child besides the foreground one: both must go when PID 1 is killed.
    auto sleeper = spec({"sh", "-c", "sleep 100 & sleep 100 & wait"});
    std::size_t seen_running = 0;
    std::thread canceller([this, &seen_running] {
        // Cancel once sh and both sleeps run (or after 20 s, which the check below reports).
        for (int i = 0; i < 200 && seen_running < 3; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            seen_running = processes_in(rootfs_);
        }
        token_.cancel();
    });
    const auto start = std::chrono::steady_clock::now();
    try {
        run_spec(sleeper);
        ADD_FAILURE() << "run returned after cancel";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::kCancelled) << error.what();
    }
    canceller.join();
    EXPECT_EQ(seen_running, 3u) << "sh and its two sleeps should have been running; output: "
                                << ::testing::PrintToString(lines_.all);
    EXPECT_EQ(processes_in(rootfs_), 0u);
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    RecordProperty("cancel_to_return_ms", std::to_string(elapsed.count()));
}

TEST_F(Sandbox, LeavesNothingInTheRootfsButWhatTheCommandWrote) {
    // A rootfs without the mount points, so that run() has to make them and take them back.
    fs::remove_all(rootfs_ / "etc");
    fs::remove_all(rootfs_ / "proc");
    fs::remove_all(rootfs_ / "dev");
    fs::remove_all(rootfs_ / "sys");
    const auto before = tree(rootfs_);
    const auto result =
        run_spec(spec({"sh", "-c", "cat /etc/hosts >/dev/null && echo made > /made"}));
    EXPECT_EQ(result.exit_code, 0);
    auto expected = before;
    expected.insert("made");
    EXPECT_EQ(tree(rootfs_), expected);
    EXPECT_FALSE(fs::exists(rootfs_ / "etc/hosts"));
}

TEST_F(Sandbox, KeepsAnEtcFileThatIsASymlink) {
    // Ubuntu-style: resolv.conf points into /run. Binding onto it would follow the link.
    fs::create_directories(rootfs_ / "etc");
    fs::create_symlink("../run/resolv.conf", rootfs_ / "etc/resolv.conf");
    const auto result =
        run_spec(spec({"sh", "-c", "readlink /etc/resolv.conf; cat /etc/hostname"}));
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("../run/resolv.conf", "buildkitsandbox"));
    EXPECT_TRUE(fs::is_symlink(rootfs_ / "etc/resolv.conf"));
    EXPECT_FALSE(fs::exists(rootfs_ / "run"));
}

TEST_F(Sandbox, MissingCommandIsNotFound) {
    try {
        run_spec(spec({"no-such-command"}));
        ADD_FAILURE() << "run returned for a missing command";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::kNotFound);
        EXPECT_THAT(error.what(), HasSubstr("\"no-such-command\""));
    }
}

// Without root, run() uses a user namespace mapping the caller to 0 (sandbox_rootless_test.cpp);
// a USER that the maps cannot give is refused, saying why, before anything is touched (here the
// host's own root as rootfs). As root, checked in a child process that dropped to nobody.
TEST(SandboxWithoutRoot, IsPermissionDeniedWithTheReason) {
    auto attempt = [] {
        RunSpec spec;
        spec.rootfs = "/";
        spec.args = {"true"};
        // Beyond any subordinate range: refused with the single map and with ranges alike.
        spec.uid = 4294967294U;
        try {
            run(spec, util::CancelToken());
        } catch (const Error& error) {
            const std::string message = error.what();
            return error.code() == ErrorCode::kPermissionDenied &&
                   message.starts_with("RUN as USER 4294967294:0 without root");
        }
        return false;
    };
    if (::geteuid() != 0) {
        EXPECT_TRUE(attempt());
        return;
    }
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
            ::_exit(2);
        }
        ::_exit(attempt() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "1: not kPermissionDenied with the reason; 2: setuid failed";
}

TEST_F(Sandbox, RunsArm64BusyboxThroughQemu) {
    const Platform arm64 = Platform::parse("linux/arm64");
    const auto natives = emulators::native_platforms();
    if (std::find(natives.begin(), natives.end(), arm64) != natives.end()) {
        GTEST_SKIP() << "this host runs arm64 natively";
    }
    const fs::path arm64_busybox = *data_dir_ / "busybox/arm64/busybox";
    ASSERT_TRUE(fs::exists(arm64_busybox))
        << arm64_busybox << " is missing: the fetch_busybox fixture should have made it";
    bool present = false;
    for (const auto& emulator : emulators::list()) {
        present = present || (emulator.platform == arm64 && emulator.present);
    }
    if (!present) {
        GTEST_SKIP() << "qemu-aarch64-static is missing: install qemu-user-static";
    }
    // Registered here when missing (F flag: the interpreter is opened now, so it need not exist
    // in the rootfs), and taken back at the end.
    std::vector<std::string> installed;
    for (const auto& change : emulators::install("arm64")) {
        if (change.outcome == emulators::Outcome::kInstalled) {
            installed.push_back(change.name);
        }
    }
    struct Restore {
        std::vector<std::string> names;
        ~Restore() {
            for (const auto& name : names) {
                try {
                    emulation::remove_handler(emulators::Options{}.binfmt_mount, name);
                } catch (const Error&) {
                    ADD_FAILURE() << "could not remove " << name;
                }
            }
        }
    } restore{installed};
    for (const auto& handler : emulators::handlers()) {
        if (handler.enabled && handler.platform == arm64 &&
            handler.flags.find('F') == std::string::npos) {
            GTEST_SKIP() << "the arm64 handler " << handler.name << " lacks the F flag";
        }
    }

    fs::remove(rootfs_ / "bin/busybox");
    fs::copy_file(arm64_busybox, rootfs_ / "bin/busybox");
    fs::permissions(rootfs_ / "bin/busybox",
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    const auto result = run_spec(spec({"uname", "-m"}));
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(lines_.stdout_lines(), ElementsAre("aarch64"));
}

}  // namespace
}  // namespace xarch::executor
