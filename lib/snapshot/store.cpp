// SPDX-License-Identifier: Apache-2.0
// The snapshot store: layer entries written out as overlay-format directories, workspaces for a
// step's overlay mount, commit of an upper directory, and the once-per-process overlay probe.
#include "snapshot/store.hpp"

#include "layer/writer.hpp"
#include "oci/fs.hpp"
#include "util/quote.hpp"
#include "util/unique_fd.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <system_error>
#include <utility>

namespace xarch::snapshot {
namespace {

namespace fs = std::filesystem;
using layer::Entry;
using layer::EntryType;
using oci::fs::copy_contents;
using oci::fs::remove_tree_quietly;
using oci::fs::tree_size;

// Where overlayfs looks for an opaque directory: as root the trusted.* namespace; mounted with
// `userxattr` (without root) the user.* one, which an unprivileged caller can write.
constexpr const char* kTrustedOpaqueXattr = "trusted.overlay.opaque";
constexpr const char* kUserOpaqueXattr = "user.overlay.opaque";

[[noreturn]] void fail_entry(std::string_view action, const Entry& entry, int err) {
    const char* hint = "; check that the snapshot directory is writable";
    if (err == EPERM) {
        hint = ::geteuid() == 0
                   ? "; check that the snapshot directory's filesystem supports it"
                   : "; without root a layer can hold no device nodes (other than whiteouts) and "
                     "no security.* or trusted.* xattrs: build as root";
    }
    throw Error(err == EACCES || err == EPERM ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
                "cannot " + std::string(action) + " layer entry " + util::quote(entry.path) + ": " +
                    std::strerror(err) + hint);
}

timespec to_timespec(std::int64_t ns) {
    std::int64_t seconds = ns / 1'000'000'000;
    std::int64_t nanos = ns % 1'000'000'000;
    if (nanos < 0) {
        nanos += 1'000'000'000;
        --seconds;
    }
    return timespec{static_cast<time_t>(seconds), static_cast<long>(nanos)};
}

std::int64_t mtime_of(const struct ::stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Sets the modification time to now, the use time prune orders by. Returns false when the file
// is missing.
bool touch(const fs::path& file) noexcept {
    return ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0) == 0 || errno != ENOENT;
}

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Writes one layer's entries as an overlay lower directory under `root` (which exists, empty).
class LayerDirMaker {
public:
    LayerDirMaker(const layer::MergedView::Layer& layer, fs::path root)
        : layer_(layer),
          root_(std::move(root)),
          privileged_(::geteuid() == 0),
          opaque_xattr_(privileged_ ? kTrustedOpaqueXattr : kUserOpaqueXattr) {
        struct ::stat st {};
        if (::stat(root_.c_str(), &st) != 0) {
            oci::fs::fail("read", root_, errno);
        }
        device_ = st.st_dev;
    }

    // Returns the bytes the directory holds of its own: copied files, not hard links.
    std::int64_t make() {
        std::vector<const Entry*> sorted;
        sorted.reserve(layer_.entries.size());
        std::set<std::string> real_paths;
        for (const Entry& entry : layer_.entries) {
            sorted.push_back(&entry);
            const std::string base = base_of(entry.path);
            if (base == layer::kOpaqueWhiteout) {
                opaque_.insert(parent_of(entry.path));
            } else if (!base.starts_with(layer::kWhiteoutPrefix)) {
                real_paths.insert(entry.path);
            }
        }
        std::sort(sorted.begin(), sorted.end(),
                  [](const Entry* a, const Entry* b) { return layer::layer_order(*a, *b); });
        std::vector<const Entry*> hardlinks;
        for (const Entry* entry : sorted) {
            const std::string base = base_of(entry->path);
            if (base == layer::kOpaqueWhiteout) {
                ensure_dir(parent_of(entry->path));
            } else if (base.starts_with(layer::kWhiteoutPrefix)) {
                const std::string hidden =
                    parent_of(entry->path).empty()
                        ? base.substr(std::strlen(layer::kWhiteoutPrefix))
                        : parent_of(entry->path) + "/" +
                              base.substr(std::strlen(layer::kWhiteoutPrefix));
                // A layer holding both NAME and .wh.NAME keeps NAME, as MergedView does; in an
                // opaque directory there is nothing lower to hide. Either whiteout would only
                // show in readdir: overlayfs filters whiteouts from merged directories only.
                if (!real_paths.contains(hidden) && !opaque_.contains(parent_of(entry->path))) {
                    make_whiteout(*entry, hidden);
                }
            } else if (entry->type == EntryType::kHardlink) {
                hardlinks.push_back(entry);  // after every file, whatever the order
            } else {
                make(*entry);
            }
        }
        for (const Entry* entry : hardlinks) {
            ensure_dir(parent_of(entry->path));
            const fs::path target = root_ / entry->path;
            if (::link((root_ / entry->link_target).c_str(), target.c_str()) == 0) {
                continue;
            }
            if (errno != ENOENT) {
                fail_entry("create hard link", *entry, errno);
            }
            place_file(*entry, target);  // its file is not in this layer: a copy of the bytes
        }
        finish_directories();
        return own_bytes_;
    }

private:
    // `dir` and its parents as directories; those the layer lacks are implied (0755, root,
    // mtime 0) as MergedView implies them.
    void ensure_dir(const std::string& dir) {
        if (dir.empty() || made_.contains(dir)) {
            return;
        }
        ensure_dir(parent_of(dir));
        const fs::path target = root_ / dir;
        if (::mkdir(target.c_str(), 0700) != 0) {
            struct ::stat st {};
            if (errno != EEXIST || ::lstat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
                throw Error(ErrorCode::kInvalidArgument,
                            "layer path " + util::quote(dir) +
                                " is needed as a directory but the layer has another file "
                                "there; the layer is malformed");
            }
        }
        made_.insert(dir);
        directories_.push_back(dir);
    }

    void make(const Entry& entry) {
        const fs::path target = root_ / entry.path;
        if (entry.type == EntryType::kDirectory) {
            ensure_dir(entry.path);
            explicit_dirs_[entry.path] = &entry;
            return;
        }
        ensure_dir(parent_of(entry.path));
        switch (entry.type) {
            case EntryType::kRegular:
                place_file(entry, target);
                return;
            case EntryType::kSymlink:
                if (::symlink(entry.link_target.c_str(), target.c_str()) != 0) {
                    fail_entry("create symlink", entry, errno);
                }
                break;
            case EntryType::kFifo:
            case EntryType::kCharDevice:
            case EntryType::kBlockDevice: {
                if (!privileged_ && entry.type != EntryType::kFifo &&
                    (entry.dev_major != 0 || entry.dev_minor != 0)) {
                    // Checked here rather than left to mknod's EPERM, to say why.
                    throw Error(ErrorCode::kPermissionDenied,
                                "layer entry " + util::quote(entry.path) + " is a device node (" +
                                    std::to_string(entry.dev_major) + "," +
                                    std::to_string(entry.dev_minor) +
                                    ") and only root can make one: a layer with real device "
                                    "nodes cannot be used without root; build as root, or "
                                    "remove the device from the image");
                }
                mode_t type = S_IFIFO;
                if (entry.type == EntryType::kCharDevice) {
                    type = S_IFCHR;
                } else if (entry.type == EntryType::kBlockDevice) {
                    type = S_IFBLK;
                }
                if (::mknod(target.c_str(), type | 0600,
                            ::makedev(entry.dev_major, entry.dev_minor)) != 0) {
                    fail_entry("create device node", entry, errno);
                }
                break;
            }
            default:
                return;
        }
        own(entry, target);
        if (entry.type != EntryType::kSymlink && ::chmod(target.c_str(), entry.mode & 07777) != 0) {
            fail_entry("set the mode of", entry, errno);
        }
        set_xattrs(entry, target, entry.xattrs);
        set_mtime(entry, target, entry.mtime_ns);
    }

    void make_whiteout(const Entry& entry, const std::string& hidden) {
        ensure_dir(parent_of(hidden));
        const fs::path target = root_ / hidden;
        if (::mknod(target.c_str(), S_IFCHR | 0000, ::makedev(0, 0)) != 0) {
            fail_entry("create the whiteout device node for", entry, errno);
        }
        set_mtime(entry, target, entry.mtime_ns);
    }

    // Hard-linked from the unpacked layer when it is on this filesystem and its metadata is the
    // entry's already; never re-owned or re-moded, since its inode is the cache's copy too
    // (overlayfs never writes a lower, so sharing is safe).
    void place_file(const Entry& entry, const fs::path& target) {
        if (!entry.data && !entry.source_file.empty()) {
            struct ::stat st {};
            if (::lstat(entry.source_file.c_str(), &st) != 0) {
                fail_entry(
                    "read the unpacked file " + util::quote(entry.source_file.string()) + " of",
                    entry, errno);
            }
            // Without root a copy would be the caller's: so must a shared inode be.
            const bool owner_matches = privileged_
                                           ? st.st_uid == entry.uid && st.st_gid == entry.gid
                                           : st.st_uid == ::geteuid();
            if (S_ISREG(st.st_mode) && st.st_dev == device_ &&
                (st.st_mode & 07777) == (entry.mode & 07777) && owner_matches &&
                mtime_of(st) == entry.mtime_ns && entry.xattrs.empty()) {
                if (::link(entry.source_file.c_str(), target.c_str()) == 0) {
                    return;
                }
                if (errno != EXDEV && errno != EMLINK && errno != EPERM) {
                    fail_entry("hard-link", entry, errno);
                }
            }
        }
        util::UniqueFd to(
            ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!to) {
            fail_entry("create", entry, errno);
        }
        if (entry.data) {
            oci::fs::write_all(to.get(), entry.data->data(), entry.data->size(), target);
            own_bytes_ += static_cast<std::int64_t>(entry.data->size());
        } else {
            util::UniqueFd from(::open(entry.source_file.c_str(), O_RDONLY | O_CLOEXEC));
            if (!from) {
                fail_entry("open " + util::quote(entry.source_file.string()) + " for", entry,
                           errno);
            }
            copy_contents(from.get(), to.get(), entry.source_file, target);
            struct ::stat st {};
            if (::fstat(to.get(), &st) == 0) {
                own_bytes_ += st.st_size;
            }
        }
        if (privileged_ && ::fchown(to.get(), entry.uid, entry.gid) != 0) {
            fail_entry("change the owner of", entry, errno);
        }
        // After chown, which clears setuid/setgid.
        if (::fchmod(to.get(), entry.mode & 07777) != 0) {
            fail_entry("set the mode of", entry, errno);
        }
        set_xattrs(entry, target, entry.xattrs);
        const timespec times[2] = {{0, UTIME_OMIT}, to_timespec(entry.mtime_ns)};
        if (::futimens(to.get(), times) != 0) {
            fail_entry("set the modification time of", entry, errno);
        }
        if (const int err = to.close(); err != 0) {
            fail_entry("write", entry, err);
        }
    }

    // Deepest first, so that nothing written inside changes a directory's mtime afterwards.
    void finish_directories() {
        for (auto it = directories_.rbegin(); it != directories_.rend(); ++it) {
            finish_directory(*it);
        }
        if (opaque_.contains("")) {
            Entry root_entry;
            set_xattr(root_entry, root_, opaque_xattr_, "y");
        }
    }

    void finish_directory(const std::string& dir) {
        const fs::path target = root_ / dir;
        Entry implied;
        implied.path = dir;
        implied.type = EntryType::kDirectory;
        implied.mode = 0755;
        const auto found = explicit_dirs_.find(dir);
        const Entry& entry = found != explicit_dirs_.end() ? *found->second : implied;
        own(entry, target);
        if (::chmod(target.c_str(), entry.mode & 07777) != 0) {
            fail_entry("set the mode of", entry, errno);
        }
        set_xattrs(entry, target, entry.xattrs);
        if (opaque_.contains(dir)) {
            set_xattr(entry, target, opaque_xattr_, "y");
        }
        set_mtime(entry, target, entry.mtime_ns);
    }

    void own(const Entry& entry, const fs::path& target) {
        if (privileged_ && ::lchown(target.c_str(), entry.uid, entry.gid) != 0) {
            fail_entry("change the owner of", entry, errno);
        }
    }

    static void set_xattr(const Entry& entry,
                          const fs::path& target,
                          const std::string& name,
                          const std::string& value) {
        if (::lsetxattr(target.c_str(), name.c_str(), value.data(), value.size(), 0) != 0) {
            fail_entry("set xattr " + util::quote(name) + " on", entry, errno);
        }
    }

    static void set_xattrs(const Entry& entry,
                           const fs::path& target,
                           const std::map<std::string, std::string>& xattrs) {
        for (const auto& [name, value] : xattrs) {
            // overlayfs's own would change how the mount reads this layer (redirects, metacopy,
            // opaque): a layer tar never decides that.
            if (!is_overlay_xattr(name)) {
                set_xattr(entry, target, name, value);
            }
        }
    }

    static void set_mtime(const Entry& entry, const fs::path& target, std::int64_t mtime_ns) {
        const timespec times[2] = {{0, UTIME_OMIT}, to_timespec(mtime_ns)};
        if (::utimensat(AT_FDCWD, target.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
            fail_entry("set the modification time of", entry, errno);
        }
    }

    const layer::MergedView::Layer& layer_;
    const fs::path root_;
    const bool privileged_;
    const char* const opaque_xattr_;
    dev_t device_ = 0;
    std::int64_t own_bytes_ = 0;
    std::set<std::string> made_;
    std::vector<std::string> directories_;  // in the order made: parents first
    std::map<std::string, const Entry*> explicit_dirs_;
    std::set<std::string> opaque_;
};

}  // namespace

SnapshotStore::SnapshotStore(fs::path dir)
    : dir_(std::move(dir)),
      rootless_(::geteuid() != 0),
      layers_(dir_ / (rootless_ ? kRootlessLayerArea : kRootLayerArea).layers),
      used_(dir_ / (rootless_ ? kRootlessLayerArea : kRootLayerArea).used) {
    oci::fs::make_directories(layers_);
    oci::fs::make_directories(used_);
    oci::fs::make_directories(dir_ / "tmp");
}

OverlayMode SnapshotStore::overlay_mode() {
    std::call_once(probed_, [this] { overlay_ = probe_overlay(); });
    return overlay_;
}

namespace {

// Writes `text` to a /proc file; only system calls, for a child forked from a threaded process.
bool write_proc(const char* file, std::string_view text) noexcept {
    const int fd = ::open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    return ::close(fd) == 0 && written;
}

}  // namespace

OverlayMode SnapshotStore::probe_overlay() {
    const OverlayMode mode = rootless_ ? OverlayMode::kUserxattr : OverlayMode::kTrusted;
    std::string base = (dir_ / "tmp" / "probe-XXXXXX").string();
    if (::mkdtemp(base.data()) == nullptr) {
        return OverlayMode::kNone;
    }
    const fs::path probe(base);
    bool works = false;
    // What the layer dirs need: 0/0 whiteout devices (unprivileged since Linux 5.8) and the
    // opaque xattr, each hiding a file of the layer below.
    const auto make_file = [](const fs::path& file) {
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        return fd >= 0 && ::close(fd) == 0;
    };
    if (::mkdir((probe / "lower").c_str(), 0755) == 0 &&
        ::mkdir((probe / "lower" / "opaque").c_str(), 0755) == 0 &&
        ::mkdir((probe / "below").c_str(), 0755) == 0 &&
        ::mkdir((probe / "below" / "opaque").c_str(), 0755) == 0 &&
        make_file(probe / "below" / "gone") && make_file(probe / "below" / "opaque" / "hidden") &&
        ::mkdir((probe / "upper").c_str(), 0755) == 0 &&
        ::mkdir((probe / "work").c_str(), 0700) == 0 &&
        ::mkdir((probe / "merged").c_str(), 0755) == 0 &&
        ::mknod((probe / "lower" / "gone").c_str(), S_IFCHR | 0000, ::makedev(0, 0)) == 0 &&
        ::lsetxattr((probe / "lower" / "opaque").c_str(),
                    rootless_ ? kUserOpaqueXattr : kTrustedOpaqueXattr, "y", 1, 0) == 0) {
        // Relative paths (from the probe dir) so that no ',' or ':' in the cache path can break
        // the mount options. The child only makes system calls: it is forked from a process
        // that may have other threads, so the strings are made here.
        const std::string options =
            std::string("lowerdir=lower:below,upperdir=upper,workdir=work") +
            (rootless_ ? ",userxattr" : "");
        const std::string uid_map = "0 " + std::to_string(::geteuid()) + " 1";
        const std::string gid_map = "0 " + std::to_string(::getegid()) + " 1";
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::chdir(base.c_str()) != 0) {
                ::_exit(1);
            }
            if (rootless_) {
                // As a RUN without root has it: the caller is 0 inside, nothing else is mapped.
                // A process that changed its ids is not dumpable, and then its /proc/self/uid_map
                // belongs to root: make it ours again.
                if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0 ||
                    ::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 ||
                    !write_proc("/proc/self/uid_map", uid_map) ||
                    !write_proc("/proc/self/setgroups", "deny") ||
                    !write_proc("/proc/self/gid_map", gid_map)) {
                    ::_exit(1);
                }
            } else if (::unshare(CLONE_NEWNS) != 0) {
                ::_exit(1);
            }
            struct ::stat st {};
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
                ::mount("overlay", "merged", "overlay", 0, options.c_str()) != 0) {
                ::_exit(1);
            }
            const bool whiteout_hides = ::lstat("merged/gone", &st) != 0 && errno == ENOENT;
            const bool opaque_hides = ::lstat("merged/opaque/hidden", &st) != 0 && errno == ENOENT;
            ::_exit(whiteout_hides && opaque_hides ? 0 : 2);
        }
        if (pid > 0) {
            int status = 0;
            pid_t got = 0;
            do {
                got = ::waitpid(pid, &status, 0);
            } while (got < 0 && errno == EINTR);
            works = got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
    }
    remove_tree_quietly(probe);
    return works ? mode : OverlayMode::kNone;
}

fs::path SnapshotStore::layer_dir(const Digest& diff_id, const layer::MergedView::Layer& layer) {
    const std::string hex(diff_id.hex());
    const fs::path place = layers_ / hex;
    std::error_code ec;
    if (fs::is_directory(place, ec)) {
        if (!touch(used_ / hex)) {
            oci::fs::write_file_atomic(used_ / hex, std::to_string(tree_size(place)));
        }
        return place;
    }
    // Threads asking at once share one build; once it is renamed into place, the check above
    // finds it.
    return building_.run(hex, [&] { return build_layer_dir(hex, layer); });
}

fs::path SnapshotStore::build_layer_dir(const std::string& hex,
                                        const layer::MergedView::Layer& layer) {
    const fs::path place = layers_ / hex;
    const fs::path stamp = used_ / hex;
    std::error_code ec;
    if (fs::is_directory(place, ec)) {
        // Made by a thread that finished between our first look and taking over the build.
        touch(stamp);
        return place;
    }
    const fs::path temp = dir_ / "tmp" / oci::fs::temp_name();
    if (::mkdir(temp.c_str(), 0755) != 0) {
        oci::fs::fail("create", temp, errno);
    }
    try {
        const std::int64_t size = LayerDirMaker(layer, temp).make();
        if (oci::fs::rename_dir_into_place(temp, place)) {
            // A layer whose stamp is not written yet is measured by prune instead.
            oci::fs::write_file_atomic(stamp, std::to_string(size));
            return place;
        }
    } catch (...) {
        remove_tree_quietly(temp);
        throw;
    }
    // Another process made the same layer first: theirs is whole, ours goes.
    remove_tree_quietly(temp);
    touch(stamp);
    return place;
}

SnapshotStore::Workspace::Workspace(fs::path base)
    : base_(std::move(base)),
      root_(base_ / "root"),
      upper_(base_ / "upper"),
      work_(base_ / "work") {}

SnapshotStore::Workspace::Workspace(Workspace&& other) noexcept
    : base_(std::exchange(other.base_, {})),
      root_(std::move(other.root_)),
      upper_(std::move(other.upper_)),
      work_(std::move(other.work_)) {}

SnapshotStore::Workspace& SnapshotStore::Workspace::operator=(Workspace&& other) noexcept {
    if (this != &other) {
        if (!base_.empty()) {
            remove_tree_quietly(base_);
        }
        base_ = std::exchange(other.base_, {});
        root_ = std::move(other.root_);
        upper_ = std::move(other.upper_);
        work_ = std::move(other.work_);
    }
    return *this;
}

SnapshotStore::Workspace::~Workspace() {
    if (!base_.empty()) {
        remove_tree_quietly(base_);
    }
}

SnapshotStore::Workspace SnapshotStore::workspace() {
    const fs::path base = dir_ / "tmp" / oci::fs::temp_name();
    if (::mkdir(base.c_str(), 0700) != 0) {
        oci::fs::fail("create", base, errno);
    }
    Workspace ws(base);
    for (const auto& [dir, mode] :
         {std::pair(ws.root(), 0755), std::pair(ws.upper(), 0755), std::pair(ws.work(), 0700)}) {
        if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0) {
            oci::fs::fail("create", dir, errno);
        }
    }
    return ws;
}

fs::path SnapshotStore::commit(Workspace& ws, const Digest& diff_id) {
    const std::string hex(diff_id.hex());
    const fs::path place = layers_ / hex;
    const fs::path stamp = used_ / hex;
    const std::int64_t size = tree_size(ws.upper());
    if (oci::fs::rename_dir_into_place(ws.upper(), place)) {
        oci::fs::write_file_atomic(stamp, std::to_string(size));
        return place;
    }
    // The same layer is there already (an earlier step or another process); ws's upper goes
    // with the workspace.
    touch(stamp);
    return place;
}

std::vector<Entry> SnapshotStore::rebase(std::vector<Entry> entries,
                                         const fs::path& from,
                                         const fs::path& to) {
    for (Entry& entry : entries) {
        if (entry.source_file.empty()) {
            continue;
        }
        const fs::path relative = entry.source_file.lexically_relative(from);
        if (relative.empty() || *relative.begin() == "..") {
            continue;
        }
        entry.source_file = relative == "." ? to : to / relative;
    }
    return entries;
}

}  // namespace xarch::snapshot
