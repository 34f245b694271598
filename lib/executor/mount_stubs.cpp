// SPDX-License-Identifier: Apache-2.0
// MountStubs: overlay-aware lookups in the sandbox's root, mount points made in its top dir
// (parents copied up from the lowers), and their removal with the parents' times put back.
#include "executor/mount_stubs.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <string_view>

namespace xarch::executor {

namespace fs = std::filesystem;

struct MountStubs::Found {
    struct stat st {};
    std::size_t layer = 0;  // the topmost layer holding the entry
};

namespace {

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool is_opaque(const fs::path& dir, const char* xattr) {
    std::array<char, 2> value{};
    const ssize_t got = ::lgetxattr(dir.c_str(), xattr, value.data(), value.size());
    return got == 1 && value[0] == 'y';
}

std::string in_root(const std::vector<std::string>& parts, std::size_t count) {
    std::string path;
    for (std::size_t i = 0; i < count; ++i) {
        path += "/" + parts[i];
    }
    return path.empty() ? "/" : path;
}

// Sets `path`'s access and modification times to those in `st`.
void put_times_back(const fs::path& path, const struct stat& st) {
    const std::array<timespec, 2> times{st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, path.c_str(), times.data(), AT_SYMLINK_NOFOLLOW);
}

// The extended attributes of `from` but overlayfs' own (an opaque mark copied up would hide the
// lower's contents), copied onto `to`. Best effort, as a filesystem may refuse some (security.*
// without its module): the directory only holds a mount point.
void copy_xattrs(const fs::path& from, const fs::path& to) {
    const ssize_t size = ::llistxattr(from.c_str(), nullptr, 0);
    if (size <= 0) {
        return;
    }
    std::string names(static_cast<std::size_t>(size), '\0');
    const ssize_t got = ::llistxattr(from.c_str(), names.data(), names.size());
    if (got <= 0) {
        return;
    }
    names.resize(static_cast<std::size_t>(got));
    for (std::size_t at = 0; at < names.size();) {
        const std::string name(names.c_str() + at);
        at += name.size() + 1;
        if (name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.")) {
            continue;
        }
        const ssize_t length = ::lgetxattr(from.c_str(), name.c_str(), nullptr, 0);
        if (length < 0) {
            continue;
        }
        std::string value(static_cast<std::size_t>(length), '\0');
        const ssize_t read = ::lgetxattr(from.c_str(), name.c_str(), value.data(), value.size());
        if (read >= 0) {
            ::lsetxattr(to.c_str(), name.c_str(), value.data(), static_cast<std::size_t>(read), 0);
        }
    }
}

[[noreturn]] void throw_io(const std::string& what, const fs::path& path, int error) {
    // Without root, mount points are made as the caller, outside the sandbox's user namespace:
    // a directory owned by another (subordinate) id cannot be written or copied up.
    const bool denied = (error == EPERM || error == EACCES) && ::geteuid() != 0;
    throw Error(denied ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
                "RUN: cannot " + what + " " + util::quote(path.string()) + ": " +
                    std::strerror(error) +
                    (denied ? "; without root, the directories mount points are made in must "
                              "belong to the caller: run the build as root"
                            : ""));
}

}  // namespace

std::vector<std::string> path_parts(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) {
            end = path.size();
        }
        const std::string_view part(path.data() + start, end - start);
        if (part == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
        } else if (!part.empty() && part != ".") {
            parts.emplace_back(part);
        }
        start = end + 1;
    }
    return parts;
}

MountStubs::MountStubs(fs::path top, std::vector<fs::path> lowers, bool userxattr)
    : overlay_(!lowers.empty()),
      opaque_xattr_(userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque") {
    layers_.push_back(std::move(top));
    for (auto& lower : lowers) {
        layers_.push_back(std::move(lower));
    }
}

MountStubs::~MountStubs() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
        struct stat st {};
        if (::lstat(it->path.c_str(), &st) != 0 || (S_ISREG(st.st_mode) && st.st_size != 0)) {
            continue;
        }
        if (it->settled &&
            (st.st_mode != it->st.st_mode || st.st_uid != it->st.st_uid ||
             st.st_gid != it->st.st_gid || st.st_mtim.tv_sec != it->st.st_mtim.tv_sec ||
             st.st_mtim.tv_nsec != it->st.st_mtim.tv_nsec)) {
            continue;  // the command changed it (chmod, chown, touch): a change of the layer
        }
        const fs::path parent = it->path.parent_path();
        struct stat parent_st {};
        const bool have_parent = ::lstat(parent.c_str(), &parent_st) == 0;
        // rmdir fails, and so keeps it, when the command wrote into a directory we made.
        const int removed =
            S_ISDIR(st.st_mode) ? ::rmdir(it->path.c_str()) : ::unlink(it->path.c_str());
        if (removed == 0 && have_parent) {
            put_times_back(parent, parent_st);
        }
    }
}

// Overlayfs' lookup: a name is the topmost layer's entry; a directory there merges with the
// directories of the same name below it, down to an opaque one or anything that is not a
// directory (a whiteout included).
std::vector<MountStubs::Found> MountStubs::walk(const std::vector<std::string>& parts) const {
    std::vector<Found> found;
    std::vector<std::size_t> visible(layers_.size());
    std::iota(visible.begin(), visible.end(), std::size_t{0});
    fs::path relative;
    for (const auto& part : parts) {
        relative /= part;
        std::vector<std::size_t> merged;
        bool have_top = false;
        Found top;
        for (const std::size_t layer : visible) {
            const fs::path path = layers_[layer] / relative;
            struct stat st {};
            if (::lstat(path.c_str(), &st) != 0) {
                if (errno == ENOENT || errno == ENOTDIR) {
                    continue;
                }
                throw_io("look up the mount point", path, errno);
            }
            if (!have_top) {
                if (overlay_ && is_whiteout(st)) {
                    return found;
                }
                have_top = true;
                top = Found{st, layer};
                if (!S_ISDIR(st.st_mode)) {
                    break;
                }
            } else if (!S_ISDIR(st.st_mode)) {
                break;
            }
            merged.push_back(layer);
            if (overlay_ && is_opaque(path, opaque_xattr_)) {
                break;
            }
        }
        if (!have_top) {
            return found;
        }
        found.push_back(top);
        if (!S_ISDIR(top.st.st_mode)) {
            return found;
        }
        visible = std::move(merged);
    }
    return found;
}

MountStubs::Kind MountStubs::kind_of(const std::vector<std::string>& parts) const {
    const std::vector<Found> found = walk(parts);
    if (found.size() < parts.size()) {
        return Kind::kMissing;
    }
    if (parts.empty()) {
        return Kind::kDirectory;
    }
    const mode_t mode = found.back().st.st_mode;
    return S_ISDIR(mode) ? Kind::kDirectory : S_ISLNK(mode) ? Kind::kSymlink : Kind::kOther;
}

void MountStubs::make(const std::vector<std::string>& parts, bool directory) {
    const std::vector<Found> found = walk(parts);
    for (std::size_t i = 0; i < found.size(); ++i) {
        const mode_t mode = found[i].st.st_mode;
        const bool last = i + 1 == parts.size();
        if (S_ISLNK(mode) || (!last && !S_ISDIR(mode))) {
            throw Error(ErrorCode::kInvalidArgument,
                        "RUN: cannot mount at " + util::quote(in_root(parts, parts.size())) + ": " +
                            util::quote(in_root(parts, i + 1)) + " in the root is " +
                            (S_ISLNK(mode) ? "a symbolic link" : "not a directory") +
                            "; mounts never follow links, which could lead out of the root, so "
                            "mount at a path made of real directories");
        }
    }
    if (found.size() == parts.size()) {
        return;
    }
    fs::path path = layers_.front();
    for (std::size_t i = 0; i < parts.size(); ++i) {
        path /= parts[i];
        if (i < found.size()) {
            if (found[i].layer != 0) {
                make_entry(path, true, &found[i]);
            }
        } else {
            make_entry(path, i + 1 < parts.size() || directory, nullptr);
        }
    }
}

// Makes `path` in the top dir without changing its parent's times; as a copy of the lower's
// `copy_of` when given (a directory, as overlayfs' copy-up would make it).
void MountStubs::make_entry(const fs::path& path, bool directory, const Found* copy_of) {
    const fs::path parent = path.parent_path();
    struct stat parent_st {};
    const bool have_parent = ::lstat(parent.c_str(), &parent_st) == 0;
    if (directory) {
        if (::mkdir(path.c_str(), 0700) != 0) {
            throw_io("create the mount point", path, errno);
        }
    } else {
        const int fd =
            ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            throw_io("create the mount point", path, errno);
        }
        ::close(fd);
    }
    made_.push_back(Made{path});
    if (have_parent) {
        put_times_back(parent, parent_st);
    }
    if (copy_of == nullptr) {
        if (directory && ::chmod(path.c_str(), 0755) != 0) {
            throw_io("set the mode of the mount point", path, errno);
        }
    } else {
        const struct stat& st = copy_of->st;
        if (::lchown(path.c_str(), st.st_uid, st.st_gid) != 0 ||
            ::chmod(path.c_str(), st.st_mode & 07777) != 0) {
            throw_io("copy the owner and mode of the lower directory to", path, errno);
        }
        fs::path lower = layers_[copy_of->layer];
        lower /= path.lexically_relative(layers_.front());
        copy_xattrs(lower, path);
        put_times_back(path, st);
    }
    if (::lstat(path.c_str(), &made_.back().st) != 0) {
        throw_io("look at the mount point", path, errno);
    }
    made_.back().settled = true;
}

}  // namespace xarch::executor
