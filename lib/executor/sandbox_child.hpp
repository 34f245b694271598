// SPDX-License-Identifier: Apache-2.0
// The sandbox's child side: what the cloned child is told (ChildPlan) and does before execve —
// overlayfs, /proc, /dev, /sys, /etc files, RUN --mount mounts, pivot_root, ids — and how it
// reports a failure to the parent.
#pragma once

#include <sys/types.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace xarch::executor {

// Why the child failed, for the error's code and wording.
enum class FailureKind { kSetup, kNotFound, kOverlay, kMountTarget };

// What the child reports through the error pipe when it fails before execve.
struct ChildFailure {
    int error = 0;
    FailureKind kind = FailureKind::kSetup;
    std::array<char, 512> what{};
};

// One RunSpec::mounts entry as the child applies it.
struct ChildMount {
    std::string source;          // a host path, or "tmpfs"
    const char* type = nullptr;  // nullptr for a bind mount
    unsigned long flags = 0;
    std::string data;                // mount(2) data; empty for none
    bool read_only_bind = false;     // remounted read-only after the bind
    bool directory = true;           // what to create when the target is missing
    std::vector<std::string> parts;  // the target's components
    std::string what;                // "bind-mount "SRC" at "/target"", for error messages
};

// Everything the child needs, computed before clone(): after it the child may only make system
// calls (another thread may have held the allocator's lock at that moment).
struct ChildPlan {
    std::string root;
    bool overlay = false;
    std::string overlay_options;  // with index/redirect_dir/metacopy=off; the plain ones after
    std::string overlay_plain_options;
    std::string overlay_bind;  // with no lower layer: the upper dir, bind-mounted as the root
    std::string proc, dev, sys, dev_shm, dev_pts, dev_ptmx, dev_fd, dev_stdin, dev_stdout,
        dev_stderr;
    std::vector<std::pair<std::string, std::string>> dev_nodes;  // host node → target in root
    std::vector<std::pair<std::string, std::string>> etc_files;  // temp file → target in root
    std::vector<ChildMount> mounts;
    std::string hostname;
    bool network_none = false;
    std::vector<gid_t> groups;
    // False in a user namespace with the single map, where setgroups is denied (the groups were
    // checked to be none or just `gid`).
    bool set_groups = true;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::string> cwd_prefixes;  // "/a", "/a/b": created in turn
    std::string cwd;
    std::vector<std::string> candidates;  // where args[0] may be, inside the root
    std::vector<char*> argv;
    std::vector<char*> envp;
    int out_fd = -1, err_fd = -1, fail_fd = -1;
    // In a new user namespace: the child waits for one byte on sync_fd, written once the parent
    // has written its id maps (end-of-file: they could not be, so it exits), and closes its copy
    // of the write end first.
    int sync_fd = -1, sync_write_fd = -1;
};

// Runs in the child cloned into the new namespaces: sets up the root and execs the command, or
// writes a ChildFailure to plan.fail_fd and exits 127. Makes system calls only (no allocation).
[[noreturn]] void child_main(const ChildPlan& plan);

}  // namespace xarch::executor
