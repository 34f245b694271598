// SPDX-License-Identifier: Apache-2.0
// xarch::emulators: QEMU user-mode emulators registered in binfmt_misc, so that a host can run
// (and so build for) foreign platforms. The library's counterpart of `tonistiigi/binfmt --install`.
#pragma once

#include <xarch/platform.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::emulators {

struct Options {
    // Where binfmt_misc is (or gets) mounted.
    std::string binfmt_mount = "/proc/sys/fs/binfmt_misc";
    // Where the emulators live, and how their file names are spelled: <dir>/qemu-<cpu><suffix>.
    // Debian's qemu-user-static installs /usr/bin/qemu-aarch64-static.
    std::string qemu_dir = "/usr/bin";
    std::string qemu_suffix = "-static";
    // Registration flags. F (open the interpreter now) makes handlers work inside chroots and
    // namespaces; C takes credentials from the binary.
    // P (preserve argv[0]) is opt-in, as in tonistiigi/binfmt.
    bool preserve_argv0 = false;
};

// One entry of binfmt_misc (a registered handler), whoever registered it.
struct Handler {
    std::string name;  // file name in binfmt_misc, e.g. "qemu-aarch64"
    bool enabled = false;
    std::string interpreter;  // e.g. "/usr/bin/qemu-aarch64-static"
    std::string flags;        // as the kernel reports them, e.g. "OCF"
    std::string magic;        // hex, as the kernel reports it ("" for extension handlers)
    std::string mask;         // hex ("" when the handler has none: every bit counts)
    std::size_t offset = 0;   // where in the file the magic is compared
    std::string extension;    // the file name extension of an extension handler, e.g. ".exe"
    // The Linux platform whose ELF binaries this handler runs, when the magic is an ELF header of
    // a machine xarch knows.
    std::optional<Platform> platform;
};

// A QEMU user emulator xarch knows how to register.
struct Emulator {
    Platform platform;        // normalized, e.g. linux/arm64, linux/arm/v7
    std::string name;         // handler name, e.g. "qemu-aarch64"
    std::string path;         // interpreter path on this host
    bool present = false;     // the interpreter exists on this host
    bool registered = false;  // an enabled handler runs this platform's binaries
};

enum class Outcome {
    kInstalled = 1,         // registered now
    kAlreadyInstalled = 2,  // an enabled handler for the platform was already there
    kNative = 3,            // the host runs the platform natively: nothing to register
    kUninstalled = 4,       // handler removed
    kNotInstalled = 5,      // nothing to remove
};

struct Change {
    std::string name;  // handler name
    Platform platform;
    Outcome outcome;
};

// binfmt_misc's handlers, by name; `platform` is set from the ELF magic/mask whoever registered
// them. Any directory with a `status` file is read as binfmt_misc (tests use a fake one). Mounts
// binfmt_misc when absent and allowed; otherwise throws Error(kPermissionDenied) or
// Error(kUnsupported, when the kernel has none) saying what to run as root.
std::vector<Handler> handlers(const Options& options = {});

// Every emulator xarch knows for a platform this host does not run natively, with its state, in
// a fixed order (amd64, 386, arm64, arm/v7, ppc64le, s390x, riscv64, mips64le, mips64, loong64).
// A binfmt_misc that is absent and cannot be mounted counts as having no handlers.
std::vector<Emulator> list(const Options& options = {});

// The platforms this host runs without emulation, best first (the host, then what its CPU and
// kernel also run, e.g. linux/386 on amd64: probed by executing a tiny binary, which a binfmt_misc
// handler cannot fake). Probed once per process.
std::vector<Platform> native_platforms();

// Native platforms first, then those an enabled binfmt_misc handler emulates, in list() order,
// without duplicates. A binfmt_misc that is absent and cannot be mounted adds nothing.
std::vector<Platform> runnable_platforms(const Options& options = {});

// Registers emulators. `spec` is "all" (every present emulator for a non-native platform) or a
// comma list of platforms or emulator names ("arm64,arm", "qemu-riscv64"); one Change per item,
// in order. Validates everything before registering anything: Error(kInvalidArgument) for an
// unknown item, Error(kNotFound) for a missing emulator binary, Error(kPermissionDenied) without
// root. A platform an enabled handler already runs (whatever its name) is kAlreadyInstalled; a
// disabled handler of ours is replaced. If a registration fails, those this call made are removed.
std::vector<Change> install(std::string_view spec, const Options& options = {});

// Removes the handlers that run the given platforms or carry the given names ("all": every
// handler for a platform xarch knows). Needs root.
std::vector<Change> uninstall(std::string_view spec, const Options& options = {});

}  // namespace xarch::emulators
