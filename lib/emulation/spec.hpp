// SPDX-License-Identifier: Apache-2.0
// The `spec` argument of install/uninstall: "all", or a comma list of platforms and emulator names.
#pragma once

#include "emulation/elf_machines.hpp"

#include <string_view>
#include <vector>

namespace xarch::emulation {

// True for "all" (any case, surrounding spaces ignored).
bool is_all(std::string_view spec);

// The emulators a comma list names, in order, without duplicates. An item is an emulator name
// ("qemu-aarch64", "aarch64") or a platform (Platform::parse: "arm64", "arm", "linux/riscv64").
// Validates every item; throws Error(kInvalidArgument) quoting the bad one and listing the known
// platforms and names.
std::vector<const KnownEmulator*> resolve_spec(std::string_view spec);

}  // namespace xarch::emulation
