// SPDX-License-Identifier: Apache-2.0
#include "emulation/elf_machines.hpp"

#include "emulation/binfmt.hpp"

#include <gtest/gtest.h>

#include <set>

namespace xarch::emulation {
namespace {

std::string bytes(std::string_view hex) {
    return from_hex(hex).value();
}

const KnownEmulator& emulator_for(std::string_view architecture) {
    for (const auto& emulator : known_emulators()) {
        if (emulator.architecture == architecture) {
            return emulator;
        }
    }
    throw std::out_of_range(std::string(architecture));
}

TEST(EmulationElf, TableHasTheTenEmulatorsWithDistinctPlatformsAndNames) {
    std::set<std::string> platforms;
    std::set<std::string> names;
    for (const auto& emulator : known_emulators()) {
        platforms.insert(emulator.platform().to_string());
        names.insert(emulator.handler_name());
    }
    EXPECT_EQ(platforms,
              (std::set<std::string>{"linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7",
                                     "linux/ppc64le", "linux/s390x", "linux/riscv64",
                                     "linux/mips64le", "linux/mips64", "linux/loong64"}));
    EXPECT_EQ(names, (std::set<std::string>{"qemu-x86_64", "qemu-i386", "qemu-aarch64", "qemu-arm",
                                            "qemu-ppc64le", "qemu-s390x", "qemu-riscv64",
                                            "qemu-mips64el", "qemu-mips64", "qemu-loongarch64"}));
    EXPECT_EQ(known_emulators().front().platform(), Platform("linux", "amd64"));
}

TEST(EmulationElf, Arm64MagicAndMaskAreLittleEndian64Bit) {
    const auto& arm64 = emulator_for("arm64");
    EXPECT_EQ(to_hex(elf_magic(arm64)), "7f454c460201010000000000000000000200b700");
    // OS ABI and ABI version ignored; e_type's low bit ignored (ET_EXEC and ET_DYN).
    EXPECT_EQ(to_hex(elf_mask(arm64)), "ffffffffffffff0000fffffffffffffffeffffff");
}

TEST(EmulationElf, S390xMagicAndMaskAreBigEndian) {
    const auto& s390x = emulator_for("s390x");
    EXPECT_EQ(to_hex(elf_magic(s390x)), "7f454c4602020100000000000000000000020016");
    EXPECT_EQ(to_hex(elf_mask(s390x)), "ffffffffffffff0000fffffffffffffffffeffff");
}

TEST(EmulationElf, ArmAnd386Are32BitAndLoongArchMachineTakesTwoBytes) {
    EXPECT_EQ(to_hex(elf_magic(emulator_for("arm"))),
              "7f454c460101010000000000000000000200"
              "2800");
    EXPECT_EQ(to_hex(elf_magic(emulator_for("386"))),
              "7f454c460101010000000000000000000200"
              "0300");
    EXPECT_EQ(to_hex(elf_magic(emulator_for("loong64"))),
              "7f454c460201010000000000000000000200"
              "0201");
    EXPECT_EQ(to_hex(elf_magic(emulator_for("mips64"))),
              "7f454c460202010000000000000000000002"
              "0008");
}

TEST(EmulationElf, EveryMagicIsMaskedAndMatchesOnlyItsOwnEmulator) {
    for (const auto& emulator : known_emulators()) {
        const auto magic = elf_magic(emulator);
        const auto mask = elf_mask(emulator);
        ASSERT_EQ(magic.size(), kElfMagicSize);
        ASSERT_EQ(mask.size(), kElfMagicSize);
        for (std::size_t i = 0; i < magic.size(); ++i) {
            EXPECT_EQ(magic[i] & mask[i], magic[i]) << emulator.handler_name() << " byte " << i;
        }
        EXPECT_EQ(match_elf(magic, mask, 0), &emulator) << emulator.handler_name();
    }
}

TEST(EmulationElf, MatchesMasksOthersRegister) {
    // tonistiigi/binfmt's amd64 mask ignores the low bit of EI_DATA and EI_VERSION.
    EXPECT_EQ(match_elf(bytes("7f454c4602010100000000000000000002003e00"),
                        bytes("fffffffffffefe00fffffffffffffffffeffffff"), 0),
              &emulator_for("amd64"));
    // Debian's qemu-mips64el (/usr/lib/binfmt.d) ignores the low bit of EI_ABIVERSION.
    EXPECT_EQ(match_elf(bytes("7f454c4602010100000000000000000002000800"),
                        bytes("ffffffffffffff00fefffffffffffffffeffffff"), 0),
              &emulator_for("mips64le"));
    // Debian's qemu-loongarch64 masks EI_OSABI with 0xfc.
    EXPECT_EQ(match_elf(bytes("7f454c4602010100000000000000000002000201"),
                        bytes("fffffffffffffffc00fffffffffffffffeffffff"), 0),
              &emulator_for("loong64"));
    // No mask at all: every bit counts, and a canonical ET_EXEC header still matches.
    EXPECT_EQ(match_elf(bytes("7f454c460201010000000000000000000200b700"), "", 0),
              &emulator_for("arm64"));
    // Only e_type and e_machine, at offset 16.
    EXPECT_EQ(match_elf(bytes("0200b700"), bytes("feffffff"), 16), &emulator_for("arm64"));
}

TEST(EmulationElf, MatchesNothingForOtherMachinesOrAmbiguousMagic) {
    // armeb (32-bit big-endian EM_ARM) and aarch64_be are not platforms xarch knows.
    EXPECT_EQ(match_elf(bytes("7f454c4601020100000000000000000000020028"),
                        bytes("ffffffffffffff00fffffffffffffffffffeffff"), 0),
              nullptr);
    EXPECT_EQ(match_elf(bytes("7f454c460202010000000000000000000002"
                              "00b7"),
                        bytes("ffffffffffffff00fffffffffffffffffffeffff"), 0),
              nullptr);
    // 32-bit MIPS (o32) shares e_machine 8 with mips64 but not the class.
    EXPECT_EQ(match_elf(bytes("7f454c4601010100000000000000000002000800"),
                        bytes("ffffffffffffff00fffffffffffffffffeffffff"), 0),
              nullptr);
    // Just "\x7fELF": every machine matches, so none is chosen.
    EXPECT_EQ(match_elf("\x7f"
                        "ELF",
                        "\xff\xff\xff\xff", 0),
              nullptr);
    EXPECT_EQ(match_elf("MZ", "", 0), nullptr);
    EXPECT_EQ(match_elf("", "", 0), nullptr);
}

TEST(EmulationElf, FindsEmulatorsByNameAndPlatform) {
    EXPECT_EQ(find_emulator_by_name("qemu-aarch64"), &emulator_for("arm64"));
    EXPECT_EQ(find_emulator_by_name("aarch64"), &emulator_for("arm64"));
    EXPECT_EQ(find_emulator_by_name("mips64el"), &emulator_for("mips64le"));
    EXPECT_EQ(find_emulator_by_name("qemu-sparc64"), nullptr);
    EXPECT_EQ(find_emulator_by_name("arm64"), nullptr);  // a platform, not a QEMU name
    EXPECT_EQ(find_emulator(Platform("linux", "arm", "v6")), &emulator_for("arm"));
    EXPECT_EQ(find_emulator(Platform("linux", "amd64", "v3")), &emulator_for("amd64"));
    EXPECT_EQ(find_emulator(Platform("windows", "amd64")), nullptr);
    EXPECT_EQ(find_emulator(Platform("linux", "sparc64")), nullptr);
}

}  // namespace
}  // namespace xarch::emulation
