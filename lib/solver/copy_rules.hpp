// SPDX-License-Identifier: Apache-2.0
// COPY and ADD as BuildKit's file backend (tonistiigi/fsutil's copy) runs them, computed as the
// list of layer entries the step adds instead of as file operations on a root filesystem: which
// sources match (wildcards, a directory's contents, symlinks followed inside the source),
// where each lands (a trailing '/' or an existing directory takes the file's name, --parents
// keeps its path), which directories are created (mode 0755, the --chown owner, the step's
// time) and which existing ones the layer carries, and the attributes each file keeps or gets
// (--chown, --chmod, --exclude, ADD's archives unpacked).
#pragma once

#include "chmod.hpp"
#include "chown.hpp"
#include "dockerfile/instructions.hpp"
#include "layer/entry.hpp"

#include <xarch/context.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::solver {

// Where a COPY reads from: entries with paths relative to the source root and source_file
// pointing at their bytes on disk (the build context, a stage's filesystem, a named context).
struct SourceTree {
    std::vector<layer::Entry> entries;
};

// The build context as a source tree: the scanned entries, owned by root (as BuildKit's file
// sync sends them).
SourceTree context_source(const std::filesystem::path& dir,
                          const std::vector<ContextEntry>& entries);
// Any list of entries (a stage's filesystem) as a source tree.
SourceTree tree_source(std::vector<layer::Entry> entries);

struct CopyRequest {
    std::vector<std::string> sources;                 // expanded, as written
    std::vector<dockerfile::SourceContent> contents;  // heredoc sources (already expanded)
    std::string dest;                                 // expanded, as written
    std::string workdir = "/";
    std::optional<Owner> owner;
    std::optional<Chmod> chmod;
    bool link = false;
    bool parents = false;
    bool add = false;    // ADD: local archives are unpacked
    bool unpack = true;  // ADD --unpack=false keeps archives as files
    std::vector<std::string> excludes;
    std::int64_t created_time_ns = 0;   // mtime of directories and heredoc files the copy makes
    std::filesystem::path scratch_dir;  // where ADD unpacks archives
};

// The stage's filesystem before the step: an entry by path, and a path with its symlinks
// resolved (follow_last: the final component too). Both null with --link (nothing exists).
using LowerLookup = std::function<std::optional<layer::Entry>(std::string_view)>;
using LowerResolve = std::function<std::string(std::string_view, bool)>;

// The entries the step's layer holds, with paths relative to the root. Throws Error(kNotFound)
// quoting a missing source, Error(kInvalidArgument) for several sources to a destination
// without a trailing '/', a source leaving the source root or a bad pattern.
std::vector<layer::Entry> plan_copy(const CopyRequest& request,
                                    const SourceTree& source,
                                    const LowerLookup& lower,
                                    const LowerResolve& resolve_lower);

}  // namespace xarch::solver
