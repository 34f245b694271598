// SPDX-License-Identifier: Apache-2.0
// executor::run: runs one command (a Dockerfile RUN) in a sandbox rooted at a directory or an
// overlayfs — new mount, PID, IPC, UTS (optionally net) namespaces, a minimal /dev, /proc, /sys,
// /etc files, and the RUN --mount mounts.
#pragma once

#include "util/cancel.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::executor {

// The root as an overlayfs, mounted inside the sandbox's mount namespace (so it dies with it).
struct OverlayRoot {
    std::vector<std::filesystem::path> lowers;  // overlay-format layer dirs, TOPMOST FIRST
    std::filesystem::path upper, work;          // empty dirs on the same filesystem
    // Mounted with `userxattr` (Linux >= 5.11; how overlayfs works without root): its opaque
    // marks are then user.overlay.opaque instead of trusted.overlay.opaque.
    bool userxattr = false;
};

// One RUN --mount, applied in order after /proc, /dev, /sys and the /etc files.
struct MountSpec {
    enum class Type { kBind, kTmpfs } type = Type::kBind;
    std::filesystem::path source;  // host path (kBind): a directory, a file, or a unix socket
    std::string target;            // absolute path inside the container
    bool read_only = false;
    std::int64_t tmpfs_size = 0;  // bytes, 0 = kernel default (kTmpfs)
};

// kHost: the host's network namespace. kNone: a new one with only loopback up.
enum class Network { kHost, kNone };

struct RunSpec {
    // The directory to pivot_root (or chroot) into; writable. With `overlay`, an empty directory
    // the overlayfs is mounted on.
    std::filesystem::path rootfs;
    std::optional<OverlayRoot> overlay;
    std::vector<std::string> args;  // argv; args[0] is looked up in env's PATH inside the root
    std::vector<std::string> env;   // "K=V"
    std::string cwd = "/";          // created if missing
    std::uint32_t uid = 0, gid = 0;
    std::vector<std::uint32_t> groups;
    Network network = Network::kHost;
    std::vector<MountSpec> mounts;
    std::string hostname = "buildkitsandbox";
    // Called per output line (without its newline), on the calling thread.
    std::function<void(std::string_view line, bool is_stderr)> output;
};

struct RunResult {
    int exit_code = 0;                    // the command's exit status; 128 + signal when killed
    int signal = 0;                       // the signal that killed it, 0 when it exited
    std::vector<std::string> last_lines;  // the last lines of stdout and stderr, for error messages
};

// How many lines RunResult::last_lines keeps.
inline constexpr std::size_t kLastLines = 10;

// Runs `spec`; the command is PID 1 of its PID namespace, so when it dies (or is killed on cancel)
// the kernel kills every process it started. Without root, the sandbox gets a user namespace too,
// mapping the caller to 0 (and, when /etc/subuid and /etc/subgid give it ranges and
// newuidmap/newgidmap exist, 1..N to its subordinate ids); the rootfs (or upper dir) must then be
// the caller's, and what the command writes is owned by the caller (or its subordinate ids).
// Nothing is left in the rootfs (with `overlay`: in the upper dir) but what the command wrote:
// missing mount points are made there for the run and taken back afterwards, with their parents'
// mtimes. Throws Error(kPermissionDenied) without root when the kernel refuses unprivileged user
// namespaces or the ids asked for do not exist in the maps (saying why), Error(kNotFound) when
// args[0] is not found in the root or a bind source is missing, Error(kInvalidArgument) for a bad
// mount target (relative, or through a symlink) or overlay options longer than a page, Error(kIo)
// when the sandbox cannot be set up, and Error(kCancelled) when `token` is cancelled (the process
// tree is gone by then).
RunResult run(const RunSpec& spec, const util::CancelToken& token);

}  // namespace xarch::executor
