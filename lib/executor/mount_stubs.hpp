// SPDX-License-Identifier: Apache-2.0
// MountStubs: the mount points a sandbox needs in its root, made for the run where missing (with
// an overlay root: in the upper dir, parents copied up from the lowers) and taken back after it.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace xarch::executor {

// A path inside the root ("/etc/hosts") as its components ({"etc", "hosts"}), without ".", ".."
// or empty ones; ".." stops at the root, as the kernel's lookup does.
std::vector<std::string> path_parts(const std::string& path);

// Looks paths up in the view the sandbox will see, and makes missing mount points in its top
// (writable) directory. Every entry it makes is removed again on destruction when still empty and
// as it was made (the command did not chmod, chown or touch it), deepest first, and the mtimes of
// the directories it touched are put back, so that a command that writes nothing leaves nothing.
class MountStubs {
public:
    // `top` is where stubs go: the rootfs, or the overlay's upper dir. `lowers` are the overlay's
    // lower dirs, topmost first (none without overlay); lookups go through top and lowers with
    // overlayfs' rules: a 0/0 character device hides a name, and so does a non-directory for the
    // layers below it; a directory marked trusted.overlay.opaque=y (with `userxattr`:
    // user.overlay.opaque=y, the one overlayfs then reads) hides the layers below it.
    MountStubs(std::filesystem::path top,
               std::vector<std::filesystem::path> lowers,
               bool userxattr = false);
    MountStubs(const MountStubs&) = delete;
    MountStubs& operator=(const MountStubs&) = delete;
    ~MountStubs();

    enum class Kind { kMissing, kDirectory, kSymlink, kOther };
    // What `parts` names in the view.
    Kind kind_of(const std::vector<std::string>& parts) const;

    // Makes `parts` exist in the view, as an empty directory or an empty file, when it does not:
    // missing parents become directories (mode 0755), parents that exist only in a lower are
    // copied up with its mode, owner, times and xattrs. Throws Error(kInvalidArgument) when an
    // existing component is a symbolic link (a mount there would follow it, maybe out of the
    // root) or a parent is not a directory, and Error(kIo) when an entry cannot be made.
    void make(const std::vector<std::string>& parts, bool directory);

private:
    struct Found;
    struct Made {
        std::filesystem::path path;
        struct stat st {};     // as made, once settled
        bool settled = false;  // false: making it failed half-way, so it goes regardless
    };
    std::vector<Found> walk(const std::vector<std::string>& parts) const;
    void make_entry(const std::filesystem::path& path, bool directory, const Found* copy_of);

    std::vector<std::filesystem::path> layers_;  // top first: layers_[0] is where stubs go
    bool overlay_;
    const char* opaque_xattr_;
    std::vector<Made> made_;  // in the order they were made: parents first
};

}  // namespace xarch::executor
