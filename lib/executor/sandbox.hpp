// SPDX-License-Identifier: Apache-2.0
// executor::run: runs one command (a Dockerfile RUN) in a sandbox rooted at a directory — new
// mount, PID, IPC, UTS (optionally net) namespaces, a minimal /dev, /proc, /sys and /etc files.
#pragma once

#include "util/cancel.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::executor {

struct RunSpec {
    std::filesystem::path rootfs;   // the directory to pivot_root (or chroot) into; writable
    std::vector<std::string> args;  // argv; args[0] is looked up in env's PATH inside the root
    std::vector<std::string> env;   // "K=V"
    std::string cwd = "/";          // created if missing
    std::uint32_t uid = 0, gid = 0;
    std::vector<std::uint32_t> groups;
    bool network_none = false;  // a new net namespace with only loopback up
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

// Runs `spec` as root; the command is PID 1 of its PID namespace, so when it dies (or is killed on
// cancel) the kernel kills every process it started. Nothing is left in the rootfs but what the
// command wrote. Throws Error(kPermissionDenied) when not root, Error(kNotFound) when args[0] is
// not found in the root, Error(kIo) when the sandbox cannot be set up, and Error(kCancelled) when
// `token` is cancelled (the process tree is gone by then).
RunResult run(const RunSpec& spec, const util::CancelToken& token);

}  // namespace xarch::executor
