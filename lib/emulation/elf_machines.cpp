// SPDX-License-Identifier: Apache-2.0
#include "emulation/elf_machines.hpp"

#include <algorithm>
#include <array>

namespace xarch::emulation {

namespace {

// Values from the ELF specification and <elf.h>.
constexpr std::uint16_t kEm386 = 3;
constexpr std::uint16_t kEmMips = 8;
constexpr std::uint16_t kEmPpc64 = 21;
constexpr std::uint16_t kEmS390 = 22;
constexpr std::uint16_t kEmArm = 40;
constexpr std::uint16_t kEmX8664 = 62;
constexpr std::uint16_t kEmAarch64 = 183;
constexpr std::uint16_t kEmRiscv = 243;
constexpr std::uint16_t kEmLoongarch = 258;

constexpr std::uint16_t kEtExec = 2;
constexpr std::uint16_t kEtDyn = 3;
constexpr std::uint8_t kEvCurrent = 1;
constexpr std::size_t kEiOsabi = 7;
constexpr std::size_t kEiAbiversion = 8;
constexpr std::size_t kTypeOffset = 16;
constexpr std::size_t kMachineOffset = 18;

using enum ElfClass;
using enum ElfData;

constexpr std::array kEmulators{
    KnownEmulator{"amd64", "", "x86_64", k64, kLittle, kEmX8664},
    KnownEmulator{"386", "", "i386", k32, kLittle, kEm386},
    KnownEmulator{"arm64", "", "aarch64", k64, kLittle, kEmAarch64},
    KnownEmulator{"arm", "v7", "arm", k32, kLittle, kEmArm, "v6"},
    KnownEmulator{"ppc64le", "", "ppc64le", k64, kLittle, kEmPpc64},
    KnownEmulator{"s390x", "", "s390x", k64, kBig, kEmS390},
    KnownEmulator{"riscv64", "", "riscv64", k64, kLittle, kEmRiscv},
    KnownEmulator{"mips64le", "", "mips64el", k64, kLittle, kEmMips},
    KnownEmulator{"mips64", "", "mips64", k64, kBig, kEmMips},
    KnownEmulator{"loong64", "", "loongarch64", k64, kLittle, kEmLoongarch},
};

void put_u16(std::string& out, std::size_t offset, std::uint16_t value, ElfData data) {
    const auto low = static_cast<char>(value & 0xff);
    const auto high = static_cast<char>(value >> 8);
    out[offset] = data == kLittle ? low : high;
    out[offset + 1] = data == kLittle ? high : low;
}

// The first kElfMagicSize bytes of an executable of this machine with the given e_type.
std::string elf_header(const KnownEmulator& emulator, std::uint16_t type) {
    std::string header(kElfMagicSize, '\0');
    header[0] = '\x7f';
    header[1] = 'E';
    header[2] = 'L';
    header[3] = 'F';
    header[4] = static_cast<char>(emulator.elf_class);
    header[5] = static_cast<char>(emulator.data);
    header[6] = static_cast<char>(kEvCurrent);
    put_u16(header, kTypeOffset, type, emulator.data);
    put_u16(header, kMachineOffset, emulator.machine, emulator.data);
    return header;
}

// binfmt_misc's test (fs/binfmt_misc.c check_file): every byte of the magic equals the file's
// under the mask. Only the bytes our header model covers are compared; a longer magic refines
// the match within one machine (MIPS ABI flags, say) and does not change the platform.
bool matches(const std::string& header,
             std::string_view magic,
             std::string_view mask,
             std::size_t offset) {
    for (std::size_t i = 0; i < magic.size() && offset + i < header.size(); ++i) {
        const auto m = i < mask.size() ? static_cast<unsigned char>(mask[i]) : 0xffu;
        const auto difference =
            static_cast<unsigned char>(header[offset + i]) ^ static_cast<unsigned char>(magic[i]);
        if ((difference & m) != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace

Platform KnownEmulator::platform() const {
    return Platform("linux", std::string(architecture), std::string(variant));
}

std::vector<Platform> KnownEmulator::platforms() const {
    std::vector<Platform> out{platform()};
    if (!older_variant.empty()) {
        out.emplace_back("linux", std::string(architecture), std::string(older_variant));
    }
    return out;
}

std::string KnownEmulator::handler_name() const {
    return "qemu-" + std::string(cpu);
}

std::span<const KnownEmulator> known_emulators() {
    return kEmulators;
}

const KnownEmulator* find_emulator(const Platform& platform) {
    if (platform.os() != "linux") {
        return nullptr;
    }
    const auto* it = std::find_if(kEmulators.begin(), kEmulators.end(), [&](const auto& e) {
        return e.architecture == platform.architecture();
    });
    return it == kEmulators.end() ? nullptr : &*it;
}

const KnownEmulator* find_emulator_by_name(std::string_view name) {
    if (name.starts_with("qemu-")) {
        name.remove_prefix(5);
    }
    const auto* it = std::find_if(kEmulators.begin(), kEmulators.end(),
                                  [&](const auto& e) { return e.cpu == name; });
    return it == kEmulators.end() ? nullptr : &*it;
}

std::string elf_magic(const KnownEmulator& emulator) {
    // ET_EXEC (2) and ET_DYN (3) differ in bit 0 only, which the mask clears: keep the magic
    // equal to itself under the mask, as the kernel would store it.
    return elf_header(emulator, kEtExec);
}

std::string elf_mask(const KnownEmulator& emulator) {
    std::string mask(kElfMagicSize, '\xff');
    // The OS ABI bytes vary between toolchains (SYSV 0, GNU 3) and do not change the machine.
    mask[kEiOsabi] = '\0';
    mask[kEiAbiversion] = '\0';
    put_u16(mask, kTypeOffset, 0xfffe, emulator.data);
    return mask;
}

const KnownEmulator* match_elf(std::string_view magic, std::string_view mask, std::size_t offset) {
    const KnownEmulator* found = nullptr;
    for (const auto& emulator : kEmulators) {
        if (matches(elf_header(emulator, kEtExec), magic, mask, offset) ||
            matches(elf_header(emulator, kEtDyn), magic, mask, offset)) {
            if (found != nullptr) {
                return nullptr;  // ambiguous: the handler is not about one machine
            }
            found = &emulator;
        }
    }
    return found;
}

}  // namespace xarch::emulation
