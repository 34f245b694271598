// SPDX-License-Identifier: Apache-2.0
// The QEMU user emulators xarch knows, described by the ELF facts that identify their binaries
// (class, data encoding, e_machine), and the binfmt_misc magic/mask built from those facts.
#pragma once

#include <xarch/platform.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::emulation {

// ELF e_ident[EI_CLASS] and e_ident[EI_DATA] values.
enum class ElfClass : std::uint8_t { k32 = 1, k64 = 2 };
enum class ElfData : std::uint8_t { kLittle = 1, kBig = 2 };

struct KnownEmulator {
    std::string_view architecture;  // OCI architecture, e.g. "arm64"
    std::string_view variant;       // OCI variant, e.g. "v7", or ""
    std::string_view cpu;           // QEMU's name, e.g. "aarch64" (binary qemu-aarch64)
    ElfClass elf_class;
    ElfData data;
    std::uint16_t machine;  // e_machine
    // An older variant the emulator also runs and BuildKit also lists (qemu-arm: arm/v6), or "".
    std::string_view older_variant = {};

    // linux/<architecture>[/<variant>], already normalized.
    Platform platform() const;
    // platform(), then the platform of the older variant when there is one: what a builder
    // lists as runnable once the emulator is registered.
    std::vector<Platform> platforms() const;
    // "qemu-<cpu>": the binfmt_misc handler name and the emulator's file name stem.
    std::string handler_name() const;
};

// The table, in the order results are listed.
std::span<const KnownEmulator> known_emulators();

// The emulator for a platform: same os (linux) and architecture; the variant is ignored because
// one QEMU binary runs every variant (qemu-arm runs arm/v5..v7). nullptr when unknown.
const KnownEmulator* find_emulator(const Platform& platform);

// The emulator named "qemu-<cpu>" or "<cpu>"; nullptr when unknown.
const KnownEmulator* find_emulator_by_name(std::string_view name);

// The number of ELF header bytes the magic covers: e_ident (16), e_type (2), e_machine (2).
inline constexpr std::size_t kElfMagicSize = 20;

// binfmt_misc magic and mask (raw bytes, kElfMagicSize long) matching the emulator's static and
// dynamic executables whatever their OS ABI byte.
std::string elf_magic(const KnownEmulator& emulator);
std::string elf_mask(const KnownEmulator& emulator);

// The emulator whose executables a magic/mask pair (raw bytes, at `offset` in the file) matches,
// the way the kernel compares them; nullptr when it matches none or several of them (a mask
// that ignores e_machine, say).
const KnownEmulator* match_elf(std::string_view magic, std::string_view mask, std::size_t offset);

}  // namespace xarch::emulation
