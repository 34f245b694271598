// SPDX-License-Identifier: Apache-2.0
// Flags shared by the commands that read or change binfmt_misc, mapped onto emulators::Options.
#pragma once

#include "args.hpp"
#include "xarch/emulators.hpp"

#include <vector>

namespace xarch::cli {

inline std::vector<FlagSpec> emulator_flags() {
    const emulators::Options defaults;
    return {
        {"binfmt-mount", '\0', true, "dir", "Where binfmt_misc is mounted", defaults.binfmt_mount},
        {"qemu-dir", '\0', true, "dir", "Folder of the QEMU user emulators", defaults.qemu_dir},
        {"qemu-suffix", '\0', true, "string", "Suffix of the emulators' file names",
         defaults.qemu_suffix},
    };
}

inline emulators::Options emulator_options(const ParsedArgs& args) {
    emulators::Options options;
    options.binfmt_mount = args.get("binfmt-mount", options.binfmt_mount);
    options.qemu_dir = args.get("qemu-dir", options.qemu_dir);
    options.qemu_suffix = args.get("qemu-suffix", options.qemu_suffix);
    options.preserve_argv0 = args.has("preserve-argv0");
    return options;
}

}  // namespace xarch::cli
