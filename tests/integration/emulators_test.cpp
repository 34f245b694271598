// SPDX-License-Identifier: Apache-2.0
// xarch::emulators against the host's real binfmt_misc and Debian's qemu-user-static: registers
// the arm64 and arm emulators, runs Debian's arm64 and armhf busybox-static through them, and
// puts binfmt_misc back the way it was. Needs root; skips otherwise.
#include "emulation/binfmt.hpp"
#include "emulation/probe.hpp"

#include <xarch/emulators.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace xarch::emulators {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

const Platform kArm64("linux", "arm64");
const Platform kArmV7("linux", "arm", "v7");

// Runs `argv` and returns its standard output; fails the test unless it exits 0.
std::string run(const std::vector<std::string>& argv) {
    int out[2];
    if (::pipe(out) != 0) {
        ADD_FAILURE() << "pipe failed";
        return {};
    }
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        ::close(out[1]);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out[1]);
    std::string output;
    char buffer[256];
    ssize_t n = 0;
    while ((n = ::read(out[0], buffer, sizeof buffer)) > 0) {
        output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << argv[0] << " ended with status " << status;
    return output;
}

std::vector<std::string> handler_names() {
    std::vector<std::string> names;
    for (const auto& handler : handlers()) {
        names.push_back(handler.name);
    }
    return names;
}

bool has_handler_for(const Platform& platform) {
    const auto all = handlers();
    return std::any_of(all.begin(), all.end(),
                       [&](const Handler& h) { return h.platform == platform; });
}

class EmulatorsIntegration : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "registering emulators in binfmt_misc needs root";
        }
        for (const auto& emulator : list()) {
            if ((emulator.platform == kArm64 || emulator.platform == kArmV7) && !emulator.present) {
                GTEST_SKIP() << emulator.path << " is missing: install qemu-user-static";
            }
        }
        const char* data = std::getenv("XARCH_TEST_DATA_DIR");
        ASSERT_NE(data, nullptr) << "XARCH_TEST_DATA_DIR is not set (run through ctest)";
        data_dir_ = data;
    }

    std::filesystem::path data_dir_;
};

// Takes back exactly the handlers a test registered, also when it fails half-way.
class Restore {
public:
    explicit Restore(std::vector<std::string> names) : names_(std::move(names)) {}
    ~Restore() {
        for (const auto& name : names_) {
            try {
                emulation::remove_handler(Options{}.binfmt_mount, name);
            } catch (const Error&) {
                // Reported by the test's own checks.
            }
        }
    }
    Restore(const Restore&) = delete;
    Restore& operator=(const Restore&) = delete;

    std::vector<std::string> release() { return std::exchange(names_, {}); }

private:
    std::vector<std::string> names_;
};

TEST_F(EmulatorsIntegration, RunsArm64AndArmBusyboxThroughRegisteredEmulators) {
    const auto arm64_busybox = data_dir_ / "busybox/arm64/busybox";
    const auto armhf_busybox = data_dir_ / "busybox/armhf/busybox";
    ASSERT_TRUE(std::filesystem::exists(arm64_busybox))
        << arm64_busybox << " is missing: the fetch_busybox fixture should have made it";
    ASSERT_TRUE(std::filesystem::exists(armhf_busybox)) << armhf_busybox;

    const auto before = handler_names();
    const bool arm64_handled_before = has_handler_for(kArm64);
    const bool arm_handled_before = has_handler_for(kArmV7);

    const auto changes = install("arm64,arm");
    std::vector<std::string> installed;
    for (const auto& change : changes) {
        if (change.outcome == Outcome::kInstalled) {
            installed.push_back(change.name);
        }
    }
    Restore restore(installed);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].platform, kArm64);
    EXPECT_EQ(changes[1].platform, kArmV7);
    for (const auto& change : changes) {
        EXPECT_THAT(
            (std::vector{Outcome::kInstalled, Outcome::kAlreadyInstalled, Outcome::kNative}),
            Contains(change.outcome))
            << change.name;
    }

    // What the kernel now reports for ours: enabled, F (so it works in chroots) and C.
    for (const auto& handler : handlers()) {
        if (std::find(installed.begin(), installed.end(), handler.name) != installed.end()) {
            EXPECT_TRUE(handler.enabled) << handler.name;
            EXPECT_EQ(handler.flags, "OCF") << handler.name;
            EXPECT_THAT(handler.interpreter, HasSubstr("/usr/bin/" + handler.name + "-static"));
        }
    }
    const auto runnable = runnable_platforms();
    EXPECT_THAT(runnable, Contains(kArm64));
    EXPECT_THAT(runnable, Contains(kArmV7));
    for (const auto& emulator : list()) {
        if (emulator.platform == kArm64 || emulator.platform == kArmV7) {
            EXPECT_TRUE(emulator.registered) << emulator.name;
        }
    }

    // Emulated runs do not pass for native ones: on a host whose CPU has no AArch32, the ARM
    // probe now succeeds, but through qemu-arm.
    const auto natives = native_platforms();
    if (std::find(natives.begin(), natives.end(), kArmV7) == natives.end()) {
        EXPECT_EQ(emulation::run_probe(emulation::probe_program_arm()),
                  emulation::ProbeResult::kEmulated);
    }

    EXPECT_EQ(run({arm64_busybox.string(), "uname", "-m"}), "aarch64\n");
    EXPECT_EQ(run({armhf_busybox.string(), "uname", "-m"}), "armv7l\n");

    // Installing again changes nothing.
    for (const auto& change : install("arm64,arm")) {
        EXPECT_NE(change.outcome, Outcome::kInstalled) << change.name;
    }

    // Put binfmt_misc back. uninstall() removes every handler for a platform, so it is the tool
    // only when the platform had none before this test; otherwise remove ours by name.
    std::vector<std::string> left;
    for (const auto& name : restore.release()) {
        const bool ours_alone = (name == "qemu-aarch64" && !arm64_handled_before) ||
                                (name == "qemu-arm" && !arm_handled_before);
        if (!ours_alone) {
            emulation::remove_handler(Options{}.binfmt_mount, name);
            continue;
        }
        const auto removed = uninstall(name);
        ASSERT_EQ(removed.size(), 1u) << name;
        EXPECT_EQ(removed[0].name, name);
        EXPECT_EQ(removed[0].outcome, Outcome::kUninstalled);
    }
    EXPECT_EQ(handler_names(), before);
}

TEST_F(EmulatorsIntegration, RegisteringWithoutRootIsPermissionDenied) {
    const auto foreign = list();
    const auto riscv = std::find_if(foreign.begin(), foreign.end(), [](const Emulator& e) {
        return e.platform == Platform("linux", "riscv64");
    });
    if (riscv == foreign.end() || !riscv->present || riscv->registered) {
        GTEST_SKIP() << "needs an unregistered qemu-riscv64 on a non-riscv64 host";
    }
    native_platforms();  // probed here, so the child below does not fork again
    const pid_t pid = ::fork();
    if (pid == 0) {
        int code = 0;
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
            ::_exit(100);
        }
        try {
            install("riscv64");
        } catch (const Error& e) {
            const std::string what = e.what();
            code = e.code() == ErrorCode::kPermissionDenied &&
                           what.find("needs root (CAP_SYS_ADMIN)") != std::string::npos
                       ? 0
                       : 101;
            ::_exit(code);
        }
        ::_exit(102);  // registered without root: wrong
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "100: could not drop root, 101: wrong error, "
                                         "102: registered without root";
    EXPECT_FALSE(has_handler_for(Platform("linux", "riscv64")));
}

}  // namespace
}  // namespace xarch::emulators
