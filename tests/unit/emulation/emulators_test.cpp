// SPDX-License-Identifier: Apache-2.0
// The public xarch::emulators API over a fake binfmt_misc directory and a fake emulator folder:
// nothing here touches the host's binfmt_misc.
#include "emulation/binfmt.hpp"
#include "emulation/elf_machines.hpp"
#include "emulation/probe.hpp"
#include "fake_binfmt.hpp"

#include <xarch/emulators.hpp>
#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>

namespace xarch::emulators {
namespace {

using test::FakeBinfmt;
using test::FakeQemuDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Platform kRiscv64("linux", "riscv64");
const Platform kS390x("linux", "s390x");
const Platform kPpc64le("linux", "ppc64le");

bool is_native(const Platform& platform) {
    const auto natives = native_platforms();
    return std::any_of(natives.begin(), natives.end(), [&](const Platform& p) {
        return p.architecture() == platform.architecture();
    });
}

// What xarch itself registers for a platform, with the fake emulator folder.
std::string our_line(const Platform& platform,
                     const std::string& qemu_dir,
                     std::string_view flags = "CF") {
    const auto* emulator = emulation::find_emulator(platform);
    return emulation::register_line(
        emulator->handler_name(), emulation::elf_magic(*emulator), emulation::elf_mask(*emulator),
        qemu_dir + "/qemu-" + std::string(emulator->cpu) + "-static", flags);
}

// The same handler registered the way another tool would, under another name.
std::string other_line(const Platform& platform, std::string_view name) {
    auto line = our_line(platform, "/usr/libexec/qemu-binfmt", "OPF");
    const auto first = line.find(':', 1);
    return ":" + std::string(name) + line.substr(first);
}

class EmulatorsApi : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto& platform : {kRiscv64, kS390x, kPpc64le}) {
            if (is_native(platform)) {
                GTEST_SKIP() << "the host runs " << platform.to_string() << " natively";
            }
        }
        options_.binfmt_mount = binfmt_.dir();
        options_.qemu_dir = qemu_.dir();
    }

    Error install_error(std::string_view spec) {
        try {
            install(spec, options_);
        } catch (const Error& e) {
            return e;
        }
        return Error(ErrorCode::kInternal, "install did not throw");
    }

    FakeBinfmt binfmt_;
    FakeQemuDir qemu_;
    Options options_;
};

TEST(EmulatorsNative, StartWithTheHostAndAreProbedOnce) {
    const auto natives = native_platforms();
    ASSERT_FALSE(natives.empty());
    EXPECT_EQ(natives.front(), Platform::host());
    EXPECT_EQ(native_platforms(), natives);
    // What only(host) accepts, plus (on amd64) the microarchitecture levels the CPU implements.
    const auto levels = emulation::amd64_levels(Platform::host());
    const auto matcher = PlatformMatcher::only(levels.empty() ? Platform::host() : levels.back());
    for (const auto& platform : natives) {
        EXPECT_TRUE(matcher.match(platform)) << platform.to_string();
    }
}

TEST(EmulatorsNative, ProbesTellNativeFromFailed) {
    EXPECT_EQ(emulation::run_probe("not an executable"), emulation::ProbeResult::kFailed);
    const auto host = Platform::host();
    const auto natives = native_platforms();
    const bool has_386 =
        std::find(natives.begin(), natives.end(), Platform("linux", "386")) != natives.end();
    if (host.architecture() == "amd64") {
        // An x86_64 CPU never runs ARM code: whatever binfmt_misc holds, not native.
        EXPECT_NE(emulation::run_probe(emulation::probe_program_arm()),
                  emulation::ProbeResult::kNative);
        EXPECT_EQ(emulation::run_probe(emulation::probe_program_i386()) ==
                      emulation::ProbeResult::kNative,
                  has_386);
    } else {
        EXPECT_FALSE(has_386 && host.architecture() != "386");
    }
}

// The hand-made probe programs are valid programs: QEMU runs them to a clean exit.
TEST(EmulatorsNative, ProbeProgramsRunUnderQemu) {
    test::TempDir dir;
    int checked = 0;
    for (const auto& [cpu, program] : {std::pair{"arm", emulation::probe_program_arm()},
                                       std::pair{"i386", emulation::probe_program_i386()}}) {
        const std::string qemu = std::string("/usr/bin/qemu-") + cpu + "-static";
        if (::access(qemu.c_str(), X_OK) != 0) {
            continue;
        }
        const auto file = dir.path() / cpu;
        test::write_text(file, program);
        ::chmod(file.c_str(), 0755);  // QEMU, like the kernel, runs only executable files
        const auto command = qemu + " " + file.string() + " </dev/null";
        EXPECT_EQ(std::system(command.c_str()), 0) << command;
        ++checked;
    }
    if (checked == 0) {
        GTEST_SKIP() << "qemu-user-static is not installed";
    }
}

TEST_F(EmulatorsApi, HandlersMapEveryonesRegistrations) {
    binfmt_.add_registration(other_line(kRiscv64, "riscv"));
    binfmt_.add_registration(our_line(kS390x, qemu_.dir()), false);
    binfmt_.add_entry("wine", "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n");
    const auto found = handlers(options_);
    ASSERT_EQ(found.size(), 3u);
    EXPECT_EQ(found[0].name, "qemu-s390x");
    EXPECT_FALSE(found[0].enabled);
    EXPECT_EQ(found[0].flags, "OCF");
    EXPECT_EQ(found[0].platform, kS390x);
    EXPECT_EQ(found[1].name, "riscv");
    EXPECT_TRUE(found[1].enabled);
    EXPECT_EQ(found[1].platform, kRiscv64);
    EXPECT_EQ(found[2].name, "wine");
    EXPECT_EQ(found[2].platform, std::nullopt);
}

TEST_F(EmulatorsApi, ListShowsForeignEmulatorsWithTheirState) {
    qemu_.add("riscv64");
    qemu_.add("s390x", false);
    binfmt_.add_registration(other_line(kRiscv64, "riscv"));
    binfmt_.add_registration(our_line(kS390x, qemu_.dir()), false);
    const auto emulators = list(options_);
    const auto find = [&](const Platform& platform) {
        return *std::find_if(emulators.begin(), emulators.end(),
                             [&](const Emulator& e) { return e.platform == platform; });
    };
    const auto riscv = find(kRiscv64);
    EXPECT_EQ(riscv.name, "qemu-riscv64");
    EXPECT_EQ(riscv.path, qemu_.dir() + "/qemu-riscv64-static");
    EXPECT_TRUE(riscv.present);
    EXPECT_TRUE(riscv.registered);
    const auto s390x = find(kS390x);
    EXPECT_FALSE(s390x.present);     // not executable
    EXPECT_FALSE(s390x.registered);  // disabled
    EXPECT_FALSE(find(kPpc64le).present);
    for (const auto& native : native_platforms()) {
        EXPECT_TRUE(std::none_of(emulators.begin(), emulators.end(), [&](const Emulator& e) {
            return e.platform.architecture() == native.architecture();
        })) << native.to_string();
    }
    // Table order.
    const auto position = [&](const Platform& platform) {
        return std::find_if(emulators.begin(), emulators.end(),
                            [&](const Emulator& e) { return e.platform == platform; }) -
               emulators.begin();
    };
    EXPECT_LT(position(kPpc64le), position(kS390x));
    EXPECT_LT(position(kS390x), position(kRiscv64));
}

TEST_F(EmulatorsApi, ListAndRunnableToleratesAMissingBinfmtMisc) {
    options_.binfmt_mount = "/nonexistent/xarch-binfmt-test";
    EXPECT_FALSE(list(options_).empty());
    EXPECT_EQ(runnable_platforms(options_), native_platforms());
    EXPECT_THROW(handlers(options_), Error);
}

TEST_F(EmulatorsApi, RunnablePlatformsAreNativeThenEnabledHandlersOnce) {
    binfmt_.add_registration(other_line(kRiscv64, "riscv-a"));
    binfmt_.add_registration(other_line(kRiscv64, "riscv-b"));
    binfmt_.add_registration(our_line(kPpc64le, qemu_.dir()));
    binfmt_.add_registration(our_line(kS390x, qemu_.dir()), false);
    auto expected = native_platforms();
    expected.push_back(kPpc64le);
    expected.push_back(kRiscv64);
    EXPECT_EQ(runnable_platforms(options_), expected);
}

TEST(EmulatorsNative, Amd64LevelsAreAnOrderedPrefixOfV2ToV4) {
    EXPECT_TRUE(emulation::amd64_levels(Platform("linux", "arm64")).empty());
    EXPECT_TRUE(emulation::amd64_levels(Platform("linux", "amd64", "v3")).empty());
    const std::vector<Platform> all{Platform("linux", "amd64", "v2"),
                                    Platform("linux", "amd64", "v3"),
                                    Platform("linux", "amd64", "v4")};
    const auto levels = emulation::amd64_levels(Platform("linux", "amd64"));
    ASSERT_LE(levels.size(), all.size());
    EXPECT_TRUE(std::equal(levels.begin(), levels.end(), all.begin()));
    if (Platform::host().architecture() == "amd64") {
        // Levels follow the host in native_platforms(), before linux/386.
        const auto natives = native_platforms();
        ASSERT_GE(natives.size(), 1 + levels.size());
        EXPECT_TRUE(std::equal(levels.begin(), levels.end(), natives.begin() + 1));
    }
}

TEST_F(EmulatorsApi, RunnableListsArmV6BesideArmV7ForQemuArm) {
    const Platform arm_v7("linux", "arm", "v7");
    const Platform arm_v6("linux", "arm", "v6");
    binfmt_.add_registration(our_line(arm_v7, qemu_.dir()));
    const auto runnable = runnable_platforms(options_);
    const auto v7 = std::find(runnable.begin(), runnable.end(), arm_v7);
    ASSERT_NE(v7, runnable.end());
    ASSERT_NE(v7 + 1, runnable.end());
    EXPECT_EQ(*(v7 + 1), arm_v6);
}

TEST_F(EmulatorsApi, InstallRegistersOneLinePerHandler) {
    qemu_.add("riscv64");
    qemu_.add("s390x");
    const auto changes = install("riscv64,qemu-s390x", options_);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].name, "qemu-riscv64");
    EXPECT_EQ(changes[0].platform, kRiscv64);
    EXPECT_EQ(changes[0].outcome, Outcome::kInstalled);
    EXPECT_EQ(changes[1].name, "qemu-s390x");
    EXPECT_EQ(changes[1].outcome, Outcome::kInstalled);
    EXPECT_THAT(binfmt_.register_lines(),
                ElementsAre(our_line(kRiscv64, qemu_.dir()), our_line(kS390x, qemu_.dir())));

    // As the kernel would list them afterwards.
    binfmt_.settle();
    auto expected = native_platforms();
    expected.push_back(kS390x);
    expected.push_back(kRiscv64);
    EXPECT_EQ(runnable_platforms(options_), expected);
}

TEST_F(EmulatorsApi, InstallAddsPWhenPreservingArgv0) {
    qemu_.add("riscv64");
    options_.preserve_argv0 = true;
    install("riscv64", options_);
    EXPECT_THAT(binfmt_.register_lines(), ElementsAre(our_line(kRiscv64, qemu_.dir(), "PCF")));
}

TEST_F(EmulatorsApi, InstallKeepsAnEnabledHandlerWhateverItsName) {
    qemu_.add("riscv64");
    binfmt_.add_registration(other_line(kRiscv64, "riscv-debian"));
    const auto changes = install("riscv64", options_);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].name, "riscv-debian");
    EXPECT_EQ(changes[0].outcome, Outcome::kAlreadyInstalled);
    EXPECT_EQ(binfmt_.register_text(), "");
}

TEST_F(EmulatorsApi, InstallNeedsNothingForNativePlatforms) {
    options_.binfmt_mount = "/nonexistent/xarch-binfmt-test";  // not even binfmt_misc
    const auto changes = install(Platform::host().to_string(), options_);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].outcome, Outcome::kNative);
    EXPECT_EQ(changes[0].platform.architecture(), Platform::host().architecture());
}

TEST_F(EmulatorsApi, InstallReplacesADisabledHandlerOfOurs) {
    qemu_.add("riscv64");
    binfmt_.add_registration(our_line(kRiscv64, "/old"), false);
    const auto changes = install("riscv64", options_);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].outcome, Outcome::kInstalled);
    EXPECT_TRUE(binfmt_.entry_text("qemu-riscv64").ends_with("\n-1\n"));
    EXPECT_THAT(binfmt_.register_lines(), ElementsAre(our_line(kRiscv64, qemu_.dir())));
    binfmt_.settle();
    EXPECT_TRUE(handlers(options_).at(0).enabled);
}

TEST_F(EmulatorsApi, InstallRefusesToOverwriteAnEnabledHandlerOfTheSameName) {
    qemu_.add("riscv64");
    binfmt_.add_entry("qemu-riscv64", "enabled\ninterpreter /x\nflags: \nextension .rv\n");
    const auto e = install_error("riscv64");
    EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
    EXPECT_THAT(e.what(), HasSubstr("\"qemu-riscv64\""));
    EXPECT_EQ(binfmt_.register_text(), "");
}

TEST_F(EmulatorsApi, InstallValidatesEveryItemBeforeWriting) {
    qemu_.add("riscv64");
    auto e = install_error("riscv64,sparc");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("\"sparc\""));

    e = install_error("riscv64,ppc64le,s390x");
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr(qemu_.dir() + "/qemu-ppc64le-static"));
    EXPECT_THAT(e.what(), HasSubstr(qemu_.dir() + "/qemu-s390x-static"));
    EXPECT_THAT(e.what(), HasSubstr("install Debian's qemu-user-static"));
    EXPECT_EQ(binfmt_.register_text(), "");
}

TEST_F(EmulatorsApi, InstallAllTakesEveryPresentForeignEmulator) {
    EXPECT_EQ(install_error("all").code(), ErrorCode::kNotFound);
    qemu_.add("s390x");
    qemu_.add("riscv64");
    qemu_.add("ppc64le", false);
    for (const auto& native : native_platforms()) {
        if (const auto* emulator = emulation::find_emulator(native)) {
            qemu_.add(std::string(emulator->cpu));  // present, but not needed
        }
    }
    const auto changes = install("all", options_);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].platform, kS390x);
    EXPECT_EQ(changes[1].platform, kRiscv64);
    EXPECT_EQ(binfmt_.register_lines().size(), 2u);
}

TEST_F(EmulatorsApi, InstallWithoutRootIsPermissionDenied) {
    qemu_.add("riscv64");
    ::chmod(binfmt_.path("register").c_str(), 0444);
    const int status = test::run_as_nobody({binfmt_.dir(), qemu_.dir()}, [&] {
        const auto e = install_error("riscv64");
        if (e.code() != ErrorCode::kPermissionDenied) {
            return 2;
        }
        return std::string(e.what()).find("registering emulators needs root (CAP_SYS_ADMIN)") !=
                       std::string::npos
                   ? 0
                   : 3;
    });
    EXPECT_EQ(status, 0) << "2 another code, 3 another message, 125 setuid failed";
}

// A registration that fails takes back the ones made before it in the same call. The failure is
// a file size limit that lets the first line into the fake `register` and cuts the second.
TEST_F(EmulatorsApi, InstallUndoesItsRegistrationsWhenOneFails) {
    qemu_.add("riscv64");
    qemu_.add("s390x");
    binfmt_.add_registration(our_line(kRiscv64, "/old"), false);  // replaced: removed, then added
    const std::string padding(8192, '#');
    test::write_text(binfmt_.path("register"), padding + "\n");
    const auto first = our_line(kRiscv64, qemu_.dir());

    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    auto* const saved_handler = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved;
    limited.rlim_cur = padding.size() + 1 + first.size() + 1 + 16;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
    const auto e = install_error("riscv64,s390x");
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, saved_handler);

    EXPECT_EQ(e.code(), ErrorCode::kIo) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("\"qemu-s390x\""));
    EXPECT_TRUE(binfmt_.entry_text("qemu-riscv64").ends_with("\n-1\n-1\n"))
        << binfmt_.entry_text("qemu-riscv64");
}

TEST_F(EmulatorsApi, UninstallRemovesHandlersByPlatformOrName) {
    binfmt_.add_registration(other_line(kRiscv64, "riscv-debian"));
    binfmt_.add_registration(our_line(kS390x, qemu_.dir()));
    const auto changes = uninstall("riscv64,qemu-s390x,ppc64le", options_);
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes[0].name, "riscv-debian");
    EXPECT_EQ(changes[0].platform, kRiscv64);
    EXPECT_EQ(changes[0].outcome, Outcome::kUninstalled);
    EXPECT_EQ(changes[1].name, "qemu-s390x");
    EXPECT_EQ(changes[1].outcome, Outcome::kUninstalled);
    EXPECT_EQ(changes[2].name, "qemu-ppc64le");
    EXPECT_EQ(changes[2].outcome, Outcome::kNotInstalled);
    binfmt_.settle();
    EXPECT_TRUE(handlers(options_).empty());
}

TEST_F(EmulatorsApi, UninstallAllRemovesOnlyHandlersOfKnownPlatforms) {
    binfmt_.add_registration(other_line(kRiscv64, "riscv-debian"));
    binfmt_.add_registration(our_line(kS390x, qemu_.dir()), false);
    binfmt_.add_entry("wine", "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n");
    const auto changes = uninstall("all", options_);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].name, "qemu-s390x");
    EXPECT_EQ(changes[1].name, "riscv-debian");
    binfmt_.settle();
    const auto left = handlers(options_);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].name, "wine");
}

TEST_F(EmulatorsApi, UninstallValidatesBeforeRemoving) {
    binfmt_.add_registration(our_line(kS390x, qemu_.dir()));
    try {
        uninstall("s390x,bogus", options_);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_THAT(e.what(), HasSubstr("\"bogus\""));
    }
    EXPECT_FALSE(binfmt_.entry_text("qemu-s390x").ends_with("-1\n"));
}

}  // namespace
}  // namespace xarch::emulators
