// SPDX-License-Identifier: Apache-2.0
// child_main: in the cloned child, mounts the root (overlayfs, /proc, /dev, /sys, /etc files, RUN
// --mount mounts), pivots into it, drops to the command's ids and execs it.
#include "executor/sandbox_child.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace xarch::executor {
namespace {

[[noreturn]] void child_fail(const ChildPlan& plan,
                             const char* what,
                             const char* path,
                             int error,
                             FailureKind kind = FailureKind::kSetup) {
    ChildFailure failure;
    failure.error = error;
    failure.kind = kind;
    std::size_t at = 0;
    auto append = [&](const char* text) {
        for (; *text != '\0' && at + 1 < failure.what.size(); ++text) {
            failure.what[at++] = *text;
        }
    };
    append(what);
    if (path != nullptr) {
        append(" ");
        append(path);
    }
    failure.what[at] = '\0';
    [[maybe_unused]] auto written = ::write(plan.fail_fd, &failure, sizeof failure);
    ::_exit(127);
}

void child_mount(const ChildPlan& plan,
                 const char* source,
                 const std::string& target,
                 const char* type,
                 unsigned long flags,
                 const char* data) {
    if (::mount(source, target.c_str(), type, flags, data) != 0) {
        child_fail(plan, "mount", target.c_str(), errno);
    }
}

// Creates an empty file at `target` (in the /dev tmpfs) and binds the host's `node` onto it.
void child_bind_node(const ChildPlan& plan, const std::string& node, const std::string& target) {
    int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) {
        child_fail(plan, "create", target.c_str(), errno);
    }
    ::close(fd);
    child_mount(plan, node.c_str(), target, nullptr, MS_BIND, nullptr);
}

void child_loopback_up(const ChildPlan& plan) {
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        child_fail(plan, "socket for", "lo", errno);
    }
    ifreq request{};
    std::memcpy(request.ifr_name, "lo", 3);
    if (::ioctl(sock, SIOCGIFFLAGS, &request) != 0) {
        child_fail(plan, "read the flags of", "lo", errno);
    }
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (::ioctl(sock, SIOCSIFFLAGS, &request) != 0) {
        child_fail(plan, "bring up", "lo", errno);
    }
    ::close(sock);
}

// Mounts the overlayfs (or, with no lower layer, the upper dir) on the root; in the sandbox's
// mount namespace, so it goes when the sandbox does.
void child_mount_overlay(const ChildPlan& plan) {
    if (!plan.overlay_bind.empty()) {
        child_mount(plan, plan.overlay_bind.c_str(), plan.root, nullptr, MS_BIND | MS_REC, nullptr);
        return;
    }
    if (::mount("overlay", plan.root.c_str(), "overlay", 0, plan.overlay_options.c_str()) == 0) {
        return;
    }
    int error = errno;
    if (error == EINVAL) {
        // An older kernel that does not know one of the extra options (and so not the feature).
        if (::mount("overlay", plan.root.c_str(), "overlay", 0,
                    plan.overlay_plain_options.c_str()) == 0) {
            return;
        }
        error = errno;
    }
    child_fail(plan, "mount overlayfs at", plan.root.c_str(), error, FailureKind::kOverlay);
}

// "/proc/self/fd/N" in `buffer`, without allocating.
const char* fd_path(std::array<char, 32>& buffer, int fd) {
    constexpr std::string_view kPrefix = "/proc/self/fd/";
    std::size_t at = kPrefix.copy(buffer.data(), kPrefix.size());
    std::array<char, 12> digits{};
    std::size_t count = 0;
    do {
        digits[count++] = static_cast<char>('0' + fd % 10);
        fd /= 10;
    } while (fd > 0);
    while (count > 0) {
        buffer[at++] = digits[--count];
    }
    buffer[at] = '\0';
    return buffer.data();
}

// Opens `name` in `dir` without following a symlink, creating it when missing (a target inside an
// earlier mount, which the parent could not see). Components before the last must be directories.
int child_open_target(
    const ChildPlan& plan, const ChildMount& mount, int dir, const char* name, bool parent) {
    int fd = ::openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (parent || mount.directory) {
            if (::mkdirat(dir, name, 0755) != 0 && errno != EEXIST) {
                child_fail(plan, mount.what.c_str(), nullptr, errno);
            }
        } else {
            const int made =
                ::openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (made < 0 && errno != EEXIST) {
                child_fail(plan, mount.what.c_str(), nullptr, errno);
            }
            if (made >= 0) {
                ::close(made);
            }
        }
        fd = ::openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        child_fail(plan, mount.what.c_str(), nullptr, errno);
    }
    if (S_ISLNK(st.st_mode)) {
        child_fail(plan, mount.what.c_str(), nullptr, ELOOP, FailureKind::kMountTarget);
    }
    if (parent && !S_ISDIR(st.st_mode)) {
        child_fail(plan, mount.what.c_str(), nullptr, ENOTDIR, FailureKind::kMountTarget);
    }
    return fd;
}

// Mounts `mount` at its target, walked from the root one component at a time so that no symlink
// (the image's, or one inside an earlier mount) can lead the mount out of the root.
void child_apply_mount(const ChildPlan& plan, const ChildMount& mount) {
    int dir = ::open(plan.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        child_fail(plan, "open", plan.root.c_str(), errno);
    }
    for (std::size_t i = 0; i + 1 < mount.parts.size(); ++i) {
        const int next = child_open_target(plan, mount, dir, mount.parts[i].c_str(), true);
        ::close(dir);
        dir = next;
    }
    const char* name = mount.parts.back().c_str();
    const int target = child_open_target(plan, mount, dir, name, false);
    std::array<char, 32> path{};
    if (::mount(mount.source.c_str(), fd_path(path, target), mount.type, mount.flags,
                mount.data.empty() ? nullptr : mount.data.c_str()) != 0) {
        child_fail(plan, mount.what.c_str(), nullptr, errno);
    }
    ::close(target);
    if (mount.read_only_bind) {
        // A bind mount keeps the source's flags: read-only takes a remount of the new mount, which
        // a fresh lookup of the name reaches. Its other flags stay (dropping one is refused).
        const int mounted = ::openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct statvfs vfs {};
        if (mounted < 0 || ::fstatvfs(mounted, &vfs) != 0) {
            child_fail(plan, mount.what.c_str(), nullptr, errno);
        }
        unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
        for (const auto& [st_flag, ms_flag] :
             {std::pair{ST_NOSUID, MS_NOSUID}, std::pair{ST_NODEV, MS_NODEV},
              std::pair{ST_NOEXEC, MS_NOEXEC}, std::pair{ST_NOATIME, MS_NOATIME},
              std::pair{ST_NODIRATIME, MS_NODIRATIME}, std::pair{ST_RELATIME, MS_RELATIME}}) {
            if ((vfs.f_flag & st_flag) != 0) {
                flags |= ms_flag;
            }
        }
        if (::mount(nullptr, fd_path(path, mounted), nullptr, flags, nullptr) != 0) {
            child_fail(plan, mount.what.c_str(), nullptr, errno);
        }
        ::close(mounted);
    }
    ::close(dir);
}

void child_setup_root(const ChildPlan& plan) {
    // Private first, so that nothing we mount propagates back to the host.
    child_mount(plan, nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    if (plan.overlay) {
        child_mount_overlay(plan);
    }
    // A mount point of its own, which pivot_root needs.
    child_mount(plan, plan.root.c_str(), plan.root, nullptr, MS_BIND | MS_REC, nullptr);
    child_mount(plan, "proc", plan.proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    child_mount(plan, "tmpfs", plan.dev, "tmpfs", MS_NOSUID | MS_STRICTATIME,
                "mode=755,size=65536k");
    for (const auto& [node, target] : plan.dev_nodes) {
        child_bind_node(plan, node, target);
    }
    ::mkdir(plan.dev_shm.c_str(), 01777);
    child_mount(plan, "shm", plan.dev_shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=1777,size=65536k");
    ::mkdir(plan.dev_pts.c_str(), 0755);
    // Optional, as the brief allows: without devpts only ptys are missing.
    if (::mount("devpts", plan.dev_pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620") == 0) {
        [[maybe_unused]] int linked = ::symlink("pts/ptmx", plan.dev_ptmx.c_str());
    }
    [[maybe_unused]] int fd_link = ::symlink("/proc/self/fd", plan.dev_fd.c_str());
    [[maybe_unused]] int in_link = ::symlink("/proc/self/fd/0", plan.dev_stdin.c_str());
    [[maybe_unused]] int out_link = ::symlink("/proc/self/fd/1", plan.dev_stdout.c_str());
    [[maybe_unused]] int err_link = ::symlink("/proc/self/fd/2", plan.dev_stderr.c_str());
    // Read-only and optional: some kernels refuse sysfs outside the initial network namespace,
    // and every kernel refuses it in a user namespace that shares the host's network.
    [[maybe_unused]] int sys = ::mount("sysfs", plan.sys.c_str(), "sysfs",
                                       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    for (const auto& [file, target] : plan.etc_files) {
        child_mount(plan, file.c_str(), target, nullptr, MS_BIND, nullptr);
    }
    for (const auto& mount : plan.mounts) {
        child_apply_mount(plan, mount);
    }
    if (::sethostname(plan.hostname.data(), plan.hostname.size()) != 0) {
        child_fail(plan, "sethostname", plan.hostname.c_str(), errno);
    }
    if (plan.network_none) {
        child_loopback_up(plan);
    }
    if (::chdir(plan.root.c_str()) != 0) {
        child_fail(plan, "chdir", plan.root.c_str(), errno);
    }
    // pivot_root(".", "."): the old root ends up stacked under the new one; detaching it leaves
    // no way back to the host's files. chroot when pivot_root is refused (a rootfs on ramfs).
    if (::syscall(SYS_pivot_root, ".", ".") == 0) {
        if (::umount2(".", MNT_DETACH) != 0) {
            child_fail(plan, "detach the old root under", plan.root.c_str(), errno);
        }
    } else if (::chroot(".") != 0) {
        child_fail(plan, "chroot", plan.root.c_str(), errno);
    }
    if (::chdir("/") != 0) {
        child_fail(plan, "chdir", "/", errno);
    }
}

// In a new user namespace, nothing works until the parent has mapped our ids: wait for it.
void child_wait_for_id_maps(const ChildPlan& plan) {
    if (plan.sync_fd < 0) {
        return;
    }
    ::close(plan.sync_write_fd);
    char byte = 0;
    ssize_t got = 0;
    while ((got = ::read(plan.sync_fd, &byte, 1)) < 0 && errno == EINTR) {
    }
    if (got != 1) {
        ::_exit(127);  // the parent failed to map them and reports why
    }
    ::close(plan.sync_fd);
}

}  // namespace

[[noreturn]] void child_main(const ChildPlan& plan) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    child_wait_for_id_maps(plan);
    if (::dup2(plan.out_fd, STDOUT_FILENO) < 0 || ::dup2(plan.err_fd, STDERR_FILENO) < 0) {
        child_fail(plan, "dup2", nullptr, errno);
    }
    child_setup_root(plan);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0) {
        child_fail(plan, "open", "/dev/null", errno);
    }
    // Every other descriptor this process inherited closes on execve (the error pipe included,
    // which is how the parent learns that execve succeeded).
    ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
    for (const auto& prefix : plan.cwd_prefixes) {
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
            child_fail(plan, "create the working directory", prefix.c_str(), errno);
        }
    }
    // Raw system calls: glibc's wrappers, in a process cloned from a multithreaded one, would
    // wait for the parent's other threads (which do not exist here) to change their ids too.
    if (plan.set_groups && ::syscall(SYS_setgroups, plan.groups.size(), plan.groups.data()) != 0) {
        child_fail(plan, "setgroups", nullptr, errno);
    }
    if (::syscall(SYS_setgid, plan.gid) != 0) {
        child_fail(plan, "setgid", nullptr, errno);
    }
    if (::syscall(SYS_setuid, plan.uid) != 0) {
        child_fail(plan, "setuid", nullptr, errno);
    }
    if (::chdir(plan.cwd.c_str()) != 0) {
        child_fail(plan, "chdir", plan.cwd.c_str(), errno);
    }
    int error = ENOENT;
    for (const auto& candidate : plan.candidates) {
        ::execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
        // As execvp does: keep looking past a missing file, remember any other reason.
        if (errno != ENOENT && errno != ENOTDIR) {
            error = errno;
        }
    }
    child_fail(plan, "execute", plan.argv[0], error,
               error == ENOENT ? FailureKind::kNotFound : FailureKind::kSetup);
}

}  // namespace xarch::executor
