// SPDX-License-Identifier: Apache-2.0
// RUN --mount turned into sandbox mounts: cache directories that persist in the build cache,
// tmpfs, secrets from the build context (files that never reach a layer), SSH agent sockets and
// read-only binds of the context or of another stage's filesystem.
#pragma once

#include "dockerfile/instructions.hpp"
#include "executor/sandbox.hpp"
#include "oci/fs.hpp"

#include <xarch/context.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace xarch::solver {

// What the mounts of one RUN need on the host, kept alive while it runs.
struct PreparedMounts {
    std::vector<executor::MountSpec> mounts;
    std::vector<std::string> env;               // SSH_AUTH_SOCK and secrets given as env=
    std::vector<oci::fs::FileLock> locks;       // sharing=locked cache mounts
    std::vector<std::filesystem::path> remove;  // secret files written for this run
    PreparedMounts() = default;
    PreparedMounts(PreparedMounts&&) noexcept = default;
    PreparedMounts& operator=(PreparedMounts&&) noexcept = default;
    ~PreparedMounts();
};

struct MountSources {
    std::filesystem::path cache_mounts;  // <cache>/mounts: where cache mounts persist
    std::filesystem::path scratch;       // per build: secret files
    const BuildContext* context = nullptr;
    // A directory holding the filesystem of mount `index`'s `from` (a stage or image; the build
    // context when it has none), for bind mounts.
    std::function<std::filesystem::path(std::size_t index)> bind_source;
};

// Prepares every mount of `mounts` (already expanded). Error(kNotFound) for a required secret or
// SSH agent the build context lacks, Error(kInvalidArgument) for a mount it cannot make, both
// quoting the mount's target.
PreparedMounts prepare_mounts(const std::vector<dockerfile::Mount>& mounts,
                              const MountSources& sources);

// The part of a mount that names a RUN's result in the cache key (never a secret's value).
std::string mount_key(const dockerfile::Mount& mount);

}  // namespace xarch::solver
