// SPDX-License-Identifier: Apache-2.0
#include "emulation/binfmt.hpp"

#include "emulation/elf_machines.hpp"
#include "fake_binfmt.hpp"

#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace xarch::emulation {
namespace {

using test::FakeBinfmt;
using ::testing::HasSubstr;

// Debian 12's qemu-user-static registers this (/usr/lib/binfmt.d/qemu-aarch64.conf).
constexpr std::string_view kDebianAarch64 =
    R"(:qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00)"
    R"(\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff)"
    R"(\xfe\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF)";

// How the kernel prints that entry once registered.
constexpr std::string_view kDebianAarch64Entry =
    "enabled\n"
    "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
    "flags: POF\n"
    "offset 0\n"
    "magic 7f454c460201010000000000000000000200b700\n"
    "mask ffffffffffffff00fffffffffffffffffeffffff\n";

const KnownEmulator& emulator_named(std::string_view name) {
    return *find_emulator_by_name(name);
}

TEST(EmulationBinfmt, HexRoundTrips) {
    EXPECT_EQ(to_hex(std::string("\x7f"
                                 "ELF\x00\xff",
                                 6)),
              "7f454c4600ff");
    EXPECT_EQ(from_hex("7f454c4600ff"), std::string("\x7f"
                                                    "ELF\x00\xff",
                                                    6));
    EXPECT_EQ(from_hex("7F45"), std::string("\x7f"
                                            "E"));
    EXPECT_EQ(from_hex(""), std::string());
    EXPECT_EQ(from_hex("7f4"), std::nullopt);
    EXPECT_EQ(from_hex("zz"), std::nullopt);
    EXPECT_EQ(from_hex("+1"), std::nullopt);
}

TEST(EmulationBinfmt, EscapesEveryByte) {
    EXPECT_EQ(escape_bytes(std::string("\x7f"
                                       "E:\x00",
                                       4)),
              R"(\x7f\x45\x3a\x00)");
}

TEST(EmulationBinfmt, KernelEntryModelMatchesTheKernelsOutput) {
    EXPECT_EQ(test::kernel_entry(kDebianAarch64), kDebianAarch64Entry);
}

TEST(EmulationBinfmt, ParsesDebiansAarch64Entry) {
    const auto handler = parse_handler("qemu-aarch64", kDebianAarch64Entry);
    EXPECT_EQ(handler.name, "qemu-aarch64");
    EXPECT_TRUE(handler.enabled);
    EXPECT_EQ(handler.interpreter, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P");
    EXPECT_EQ(handler.flags, "POF");
    EXPECT_EQ(handler.offset, 0u);
    EXPECT_EQ(handler.magic, "7f454c460201010000000000000000000200b700");
    EXPECT_EQ(handler.mask, "ffffffffffffff00fffffffffffffffffeffffff");
    EXPECT_EQ(handler.platform, Platform("linux", "arm64"));
}

TEST(EmulationBinfmt, ParsesDisabledEntriesWithoutMaskOrFlags) {
    const auto handler = parse_handler("x",
                                       "disabled\n"
                                       "interpreter /opt/qemu-arm\n"
                                       "flags: \n"
                                       "offset 0\n"
                                       "magic 7f454c4601010100000000000000000002002800\n");
    EXPECT_FALSE(handler.enabled);
    EXPECT_EQ(handler.flags, "");
    EXPECT_EQ(handler.mask, "");
    EXPECT_EQ(handler.platform, Platform("linux", "arm", "v7"));
}

TEST(EmulationBinfmt, ParsesExtensionAndForeignEntriesWithoutPlatform) {
    const auto wine = parse_handler("wine",
                                    "enabled\n"
                                    "interpreter /usr/bin/wine\n"
                                    "flags: \n"
                                    "extension .exe\n");
    EXPECT_EQ(wine.extension, ".exe");
    EXPECT_EQ(wine.magic, "");
    EXPECT_EQ(wine.platform, std::nullopt);

    // Python 3.11 bytecode (Debian's python3.11 binfmt entry).
    const auto python = parse_handler("python3.11",
                                      "enabled\n"
                                      "interpreter /usr/bin/python3.11\n"
                                      "flags: \n"
                                      "offset 0\n"
                                      "magic a70d0d0a\n");
    EXPECT_EQ(python.platform, std::nullopt);

    // Magic that is not hex, as if the format changed: kept, but not mapped.
    const auto odd = parse_handler("odd", "enabled\nmagic 7f45zz\nmask ffff\n");
    EXPECT_EQ(odd.magic, "7f45zz");
    EXPECT_EQ(odd.platform, std::nullopt);
}

TEST(EmulationBinfmt, ParsesOffsets) {
    const auto handler = parse_handler("tail",
                                       "enabled\n"
                                       "interpreter /x\n"
                                       "flags: F\n"
                                       "offset 16\n"
                                       "magic 0200b700\n"
                                       "mask feffffff\n");
    EXPECT_EQ(handler.offset, 16u);
    EXPECT_EQ(handler.platform, Platform("linux", "arm64"));
}

TEST(EmulationBinfmt, RegisterLineHasTheKernelsFormat) {
    const auto& arm64 = emulator_named("qemu-aarch64");
    EXPECT_EQ(register_line("qemu-aarch64", elf_magic(arm64), elf_mask(arm64),
                            "/usr/bin/qemu-aarch64-static", "CF"),
              R"(:qemu-aarch64:M:0:)"
              R"(\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:)"
              R"(\xff\xff\xff\xff\xff\xff\xff\x00\x00\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:)"
              R"(/usr/bin/qemu-aarch64-static:CF)");
}

TEST(EmulationBinfmt, RegisterLineRejectsWhatTheFormatCannotCarry) {
    const auto& arm = emulator_named("arm");
    const auto magic = elf_magic(arm);
    const auto mask = elf_mask(arm);
    for (const auto* name : {"", "a:b", "a/b", "register", "status", ".."}) {
        EXPECT_THROW(register_line(name, magic, mask, "/usr/bin/qemu-arm-static", "CF"), Error)
            << name;
    }
    EXPECT_THROW(register_line("qemu-arm", magic, mask, "/opt/a:b/qemu-arm", "CF"), Error);
    EXPECT_THROW(register_line("qemu-arm", magic, mask, "", "CF"), Error);
    EXPECT_THROW(register_line("qemu-arm", magic, "\xff", "/q", "CF"), Error);
    EXPECT_THROW(register_line("qemu-arm", magic, mask, "/q", "CFX"), Error);
    try {
        register_line("qemu-arm", magic, mask, "/opt/a:b/qemu-arm", "CF");
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_THAT(e.what(), HasSubstr("\"/opt/a:b/qemu-arm\""));
    }
}

TEST(EmulationBinfmt, EveryRegistrationMapsBackToItsPlatform) {
    for (const auto& emulator : known_emulators()) {
        const auto line = register_line(emulator.handler_name(), elf_magic(emulator),
                                        elf_mask(emulator), "/usr/bin/x", "PCF");
        const auto handler = parse_handler(emulator.handler_name(), test::kernel_entry(line));
        EXPECT_EQ(handler.flags, "POCF");
        EXPECT_EQ(handler.platform, emulator.platform()) << line;
    }
}

TEST(EmulationBinfmt, ReadsEveryEntryButRegisterAndStatusInNameOrder) {
    FakeBinfmt binfmt;
    binfmt.add_registration(kDebianAarch64);
    binfmt.add_entry("a-wine", "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n");
    const auto handlers = read_handlers(binfmt.dir());
    ASSERT_EQ(handlers.size(), 2u);
    EXPECT_EQ(handlers[0].name, "a-wine");
    EXPECT_EQ(handlers[1].name, "qemu-aarch64");
    EXPECT_EQ(handlers[1].platform, Platform("linux", "arm64"));
}

TEST(EmulationBinfmt, MissingMountSaysWhatToRun) {
    const std::string dir = "/nonexistent/xarch-binfmt-test";
    try {
        ensure_mounted(dir);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.code() == ErrorCode::kUnsupported || e.code() == ErrorCode::kPermissionDenied)
            << e.what();
        EXPECT_THAT(e.what(), HasSubstr("mount -t binfmt_misc binfmt_misc " + dir));
        EXPECT_THAT(e.what(), HasSubstr("as root"));
    }
    EXPECT_THROW(read_handlers(dir), Error);
}

TEST(EmulationBinfmt, RegistrarAppendsOneLinePerHandler) {
    FakeBinfmt binfmt;
    Registrar registrar(binfmt.dir());
    registrar.add("a", ":a:M:0:\\x01:\\xff:/x:F");
    registrar.add("b", ":b:M:0:\\x02:\\xff:/x:F");
    EXPECT_EQ(binfmt.register_text(), ":a:M:0:\\x01:\\xff:/x:F\n:b:M:0:\\x02:\\xff:/x:F\n");
}

TEST(EmulationBinfmt, RegistrarNeedsARegisterFile) {
    FakeBinfmt binfmt;
    std::filesystem::remove(binfmt.path("register"));
    EXPECT_THROW(Registrar{binfmt.dir()}, Error);
}

TEST(EmulationBinfmt, RegistrarWithoutWriteAccessIsPermissionDenied) {
    FakeBinfmt binfmt;
    ::chmod(binfmt.path("register").c_str(), 0444);
    // 0: the right error; 1: no error; 2: another code; 3: another message.
    const int status = test::run_as_nobody({binfmt.dir()}, [&] {
        try {
            Registrar registrar(binfmt.dir());
            return 1;
        } catch (const Error& e) {
            if (e.code() != ErrorCode::kPermissionDenied) {
                return 2;
            }
            return std::string(e.what()).find("needs root (CAP_SYS_ADMIN)") != std::string::npos
                       ? 0
                       : 3;
        }
    });
    EXPECT_EQ(status, 0) << "1 no error, 2 another code, 3 another message, 125 setuid failed";
}

TEST(EmulationBinfmt, RemovingWritesMinusOneToTheEntry) {
    FakeBinfmt binfmt;
    binfmt.add_registration(kDebianAarch64);
    EXPECT_TRUE(remove_handler(binfmt.dir(), "qemu-aarch64"));
    EXPECT_TRUE(binfmt.entry_text("qemu-aarch64").ends_with("\n-1\n"));
    EXPECT_FALSE(remove_handler(binfmt.dir(), "qemu-riscv64"));
}

}  // namespace
}  // namespace xarch::emulation
