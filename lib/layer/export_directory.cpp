// SPDX-License-Identifier: Apache-2.0
// export_directory: the merged filesystem written out as plain files (type=local output).
// Entries come parents first; each path is made fresh (whatever is in the way is removed), so a
// symlink already in `dest` is never followed; directories get their mode and mtime last.
#include "layer/merged_view.hpp"
#include "oci/fs.hpp"
#include "util/quote.hpp"
#include "util/unique_fd.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <system_error>
#include <utility>

namespace xarch::layer {
namespace {

namespace stdfs = std::filesystem;

[[noreturn]] void io_failure(const std::string& action, const stdfs::path& path) {
    throw Error(
        errno == EACCES || errno == EPERM ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
        "cannot " + action + " " + util::quote(path.string()) + ": " + std::strerror(errno));
}

void set_mtime(const stdfs::path& path, std::int64_t mtime_ns, bool follow) {
    timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    std::int64_t seconds = mtime_ns / 1'000'000'000;
    std::int64_t nanos = mtime_ns % 1'000'000'000;
    if (nanos < 0) {
        nanos += 1'000'000'000;
        --seconds;
    }
    times[1].tv_sec = static_cast<time_t>(seconds);
    times[1].tv_nsec = static_cast<long>(nanos);
    if (::utimensat(AT_FDCWD, path.c_str(), times, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
        io_failure("set the modification time of", path);
    }
}

// Whatever is at `path` (not a directory we keep) goes.
void clear(const stdfs::path& path, bool keep_directory) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_directory) {
            return;
        }
        std::error_code ec;
        stdfs::remove_all(path, ec);
        if (ec) {
            throw Error(ErrorCode::kIo,
                        "cannot replace " + util::quote(path.string()) + ": " + ec.message());
        }
    } else if (::unlink(path.c_str()) != 0) {
        io_failure("replace", path);
    }
}

class Exporter {
public:
    Exporter(const MergedView& view, stdfs::path dest)
        : view_(view), dest_(std::move(dest)), root_(::geteuid() == 0) {}

    void run() {
        std::error_code ec;
        stdfs::create_directories(dest_, ec);
        if (ec) {
            throw Error(ErrorCode::kIo, "cannot create the output directory " +
                                            util::quote(dest_.string()) + ": " + ec.message());
        }
        std::vector<Entry> directories;
        for (const Entry& entry : view_.all()) {
            const stdfs::path target = dest_ / entry.path;
            switch (entry.type) {
                case EntryType::kDirectory:
                    clear(target, true);
                    if (::mkdir(target.c_str(), 0700) != 0 && errno != EEXIST) {
                        io_failure("create directory", target);
                    }
                    ::chmod(target.c_str(), 0700);
                    directories.push_back(entry);
                    break;
                case EntryType::kRegular:
                    clear(target, false);
                    write_file(entry, target);
                    break;
                case EntryType::kHardlink:
                    clear(target, false);
                    if (!link_within_export(entry, target)) {
                        write_file(entry, target);
                    }
                    break;
                case EntryType::kSymlink:
                    clear(target, false);
                    if (::symlink(entry.link_target.c_str(), target.c_str()) != 0) {
                        io_failure("create symlink", target);
                    }
                    own(target, entry);
                    set_mtime(target, entry.mtime_ns, false);
                    break;
                case EntryType::kFifo:
                case EntryType::kCharDevice:
                case EntryType::kBlockDevice:
                    make_node(entry, target);
                    break;
            }
        }
        // Deepest first: the directories' own times after everything inside them is written.
        for (auto it = directories.rbegin(); it != directories.rend(); ++it) {
            const stdfs::path target = dest_ / it->path;
            own(target, *it);
            if (::chmod(target.c_str(), it->mode & 07777) != 0) {
                io_failure("set the mode of", target);
            }
            set_mtime(target, it->mtime_ns, true);
        }
    }

private:
    void own(const stdfs::path& target, const Entry& entry) {
        if (root_ && ::lchown(target.c_str(), entry.uid, entry.gid) != 0) {
            io_failure("change the owner of", target);
        }
    }

    void write_file(const Entry& entry, const stdfs::path& target) {
        util::UniqueFd to(
            ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!to) {
            io_failure("create", target);
        }
        if (entry.data) {
            oci::fs::write_all(to.get(), entry.data->data(), entry.data->size(), target);
        } else {
            util::UniqueFd from(::open(entry.source_file.c_str(), O_RDONLY | O_CLOEXEC));
            if (!from) {
                io_failure("open", entry.source_file);
            }
            struct stat st {};
            if (::fstat(from.get(), &st) == 0) {
                exported_[{st.st_dev, st.st_ino}] = target;
            }
            oci::fs::copy_contents(from.get(), to.get(), entry.source_file, target);
        }
        if (root_ && ::fchown(to.get(), entry.uid, entry.gid) != 0) {
            io_failure("change the owner of", target);
        }
        // After chown, which clears setuid/setgid.
        if (::fchmod(to.get(), entry.mode & 07777) != 0) {
            io_failure("set the mode of", target);
        }
        set_mtime(target, entry.mtime_ns, true);
        if (to.close() != 0) {
            io_failure("write", target);
        }
    }

    // A hard link whose bytes were exported already (same inode in the layer) is linked to that
    // copy; otherwise (the file it named was replaced by an upper layer) it becomes a copy.
    bool link_within_export(const Entry& entry, const stdfs::path& target) {
        struct stat st {};
        if (entry.source_file.empty() || ::stat(entry.source_file.c_str(), &st) != 0) {
            return false;
        }
        const auto found = exported_.find({st.st_dev, st.st_ino});
        if (found == exported_.end()) {
            return false;
        }
        if (::link(found->second.c_str(), target.c_str()) != 0) {
            io_failure("create hard link", target);
        }
        return true;
    }

    void make_node(const Entry& entry, const stdfs::path& target) {
        if (entry.type != EntryType::kFifo && !root_) {
            return;  // device nodes need root; an unprivileged export leaves them out
        }
        clear(target, false);
        mode_t type = S_IFIFO;
        if (entry.type == EntryType::kCharDevice) {
            type = S_IFCHR;
        } else if (entry.type == EntryType::kBlockDevice) {
            type = S_IFBLK;
        }
        if (::mknod(target.c_str(), type | (entry.mode & 07777),
                    makedev(entry.dev_major, entry.dev_minor)) != 0) {
            io_failure("create device node", target);
        }
        own(target, entry);
        ::chmod(target.c_str(), entry.mode & 07777);
        set_mtime(target, entry.mtime_ns, false);
    }

    const MergedView& view_;
    stdfs::path dest_;
    bool root_;
    std::map<std::pair<dev_t, ino_t>, stdfs::path> exported_;
};

}  // namespace

void export_directory(const MergedView& view, const std::filesystem::path& dest) {
    Exporter(view, dest).run();
}

}  // namespace xarch::layer
