// SPDX-License-Identifier: Apache-2.0
// executor::run: plans the sandbox (mount points, overlay options, mounts), clones the command into
// new namespaces (without root, a user namespace too, whose id maps it writes; sandbox_child.cpp
// builds the root there), and relays its output line by line until it exits or is cancelled.
#include "executor/sandbox.hpp"

#include "executor/mount_stubs.hpp"
#include "executor/sandbox_child.hpp"
#include "executor/user_namespace.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>

namespace xarch::executor {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// The most a mount(2) data string can hold (one page, its terminating NUL included).
constexpr std::size_t kMaxMountData = 4096;
// Asked for explicitly where the kernel knows them: with redirect_dir, index or metacopy on, the
// upper dir would hold entries a layer diff cannot read (redirects, metadata-only copies).
constexpr const char* kOverlayExtraOptions = ",index=off,redirect_dir=off,metacopy=off";

// A line longer than this is passed on in pieces, so a command printing without newlines cannot
// make us buffer without bound.
constexpr std::size_t kMaxLine = 64 * 1024;

// A file descriptor closed on destruction.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

struct Pipe {
    Fd read;
    Fd write;
};

void make_pipe(Pipe& pipe) {
    std::array<int, 2> fds{};
    // CLOEXEC on both ends: a process forked meanwhile by another thread must not hold the write
    // end open, or we would never see end-of-file.
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw Error(ErrorCode::kIo,
                    std::string("RUN: cannot create a pipe: ") + std::strerror(errno));
    }
    pipe.read.reset(fds[0]);
    pipe.write.reset(fds[1]);
}

std::string in_quotes(const std::string& text) {
    std::ostringstream out;
    out << '"' << text << '"';
    return out.str();
}

std::string path_of(const std::vector<std::string>& env) {
    std::string path = kDefaultPath;
    for (const auto& entry : env) {
        if (entry.starts_with("PATH=")) {
            path = entry.substr(5);
        }
    }
    return path;
}

std::vector<std::string> candidates_for(const std::string& name, const std::string& path) {
    if (name.find('/') != std::string::npos) {
        return {name};
    }
    std::vector<std::string> candidates;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) {
            end = path.size();
        }
        std::string dir = path.substr(start, end - start);
        candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + name);
        start = end + 1;
    }
    return candidates;
}

std::vector<std::string> prefixes_of(const std::string& cwd) {
    std::vector<std::string> prefixes;
    std::string current;
    for (const auto& part : fs::path(cwd).lexically_normal()) {
        if (part == "/" || part.empty()) {
            continue;
        }
        current += "/" + part.string();
        prefixes.push_back(current);
    }
    return prefixes;
}

// The host's resolvers, without loopback ones (a resolver on the host's 127.0.0.53 is not
// reachable from the sandbox); Google's public ones when none remain, as BuildKit does.
std::string resolv_conf() {
    std::ifstream host("/etc/resolv.conf");
    std::string line;
    std::string kept;
    bool has_nameserver = false;
    while (std::getline(host, line)) {
        if (line.starts_with("nameserver")) {
            std::istringstream fields(line);
            std::string keyword, address;
            fields >> keyword >> address;
            if (address.starts_with("127.") || address == "::1") {
                continue;
            }
            has_nameserver = true;
        }
        kept += line + "\n";
    }
    if (!has_nameserver) {
        kept += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    }
    return kept;
}

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out.flush()) {
        throw Error(ErrorCode::kIo, "RUN: cannot write " + in_quotes(path.string()));
    }
}

// The mount points made for this run (in the rootfs, or in the overlay's upper dir) and the
// private temp dir holding the /etc files; both go when the run is over.
class Scaffold {
public:
    explicit Scaffold(const RunSpec& spec)
        : stubs_(spec.overlay ? spec.overlay->upper : spec.rootfs,
                 spec.overlay ? spec.overlay->lowers : std::vector<fs::path>{},
                 spec.overlay && spec.overlay->userxattr) {}
    Scaffold(const Scaffold&) = delete;
    Scaffold& operator=(const Scaffold&) = delete;
    ~Scaffold() {
        if (!temp_dir_.empty()) {
            std::error_code ignored;
            fs::remove_all(temp_dir_, ignored);
        }
    }

    fs::path make_temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "xarch-run-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw Error(ErrorCode::kIo, "RUN: cannot create a temporary directory " +
                                            in_quotes(pattern) + ": " + std::strerror(errno));
        }
        temp_dir_ = pattern;
        return temp_dir_;
    }

    MountStubs& stubs() { return stubs_; }

private:
    MountStubs stubs_;
    fs::path temp_dir_;
};

// Splits a stream into lines for RunSpec::output and RunResult::last_lines.
class LineSplitter {
public:
    LineSplitter(const RunSpec& spec, std::deque<std::string>& last, bool is_stderr)
        : spec_(spec), last_(last), is_stderr_(is_stderr) {}

    void feed(std::string_view data) {
        for (char c : data) {
            if (c == '\n') {
                emit();
            } else {
                pending_ += c;
                if (pending_.size() >= kMaxLine) {
                    emit();
                }
            }
        }
    }
    void finish() {
        if (!pending_.empty()) {
            emit();
        }
    }

private:
    void emit() {
        if (spec_.output) {
            spec_.output(pending_, is_stderr_);
        }
        last_.push_back(std::move(pending_));
        if (last_.size() > kLastLines) {
            last_.pop_front();
        }
        pending_.clear();
    }

    const RunSpec& spec_;
    std::deque<std::string>& last_;
    bool is_stderr_;
    std::string pending_;
};

// The cloned child: killed on cancel and, if still unreaped, on destruction (an exception while
// relaying output). Killing PID 1 of the namespace takes down every process in it.
class Child {
public:
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (!reaped_) {
            kill();
            wait();
        }
    }

    void kill() {
        std::lock_guard lock(mutex_);
        // Never signal a reaped PID: it may belong to someone else by now.
        if (!reaped_) {
            ::kill(pid_, SIGKILL);
        }
    }

    int wait() {
        siginfo_t info{};
        // Wait without reaping, so kill() cannot race with the PID being reused.
        while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 &&
               errno == EINTR) {
        }
        std::lock_guard lock(mutex_);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
        return status;
    }

private:
    pid_t pid_;
    std::mutex mutex_;
    bool reaped_ = false;
};

// `path` absolute and normalized, without a trailing slash.
std::string absolute_path(const fs::path& path) {
    std::string absolute = fs::absolute(path).lexically_normal().string();
    while (absolute.size() > 1 && absolute.back() == '/') {
        absolute.pop_back();
    }
    return absolute;
}

// overlayfs' mount options: lowerdir lists the lowers topmost first, as OverlayRoot has them.
std::string overlay_options(const OverlayRoot& overlay, bool with_extras) {
    std::string options = "lowerdir=";
    for (std::size_t i = 0; i < overlay.lowers.size(); ++i) {
        options += (i == 0 ? "" : ":") + absolute_path(overlay.lowers[i]);
    }
    options +=
        ",upperdir=" + absolute_path(overlay.upper) + ",workdir=" + absolute_path(overlay.work);
    if (overlay.userxattr) {
        options += ",userxattr";
    }
    if (with_extras) {
        options += kOverlayExtraOptions;
    }
    return options;
}

ChildMount child_mount_for(const MountSpec& mount) {
    ChildMount child;
    child.parts = path_parts(mount.target);
    if (mount.type == MountSpec::Type::kTmpfs) {
        child.source = "tmpfs";
        child.type = "tmpfs";
        // As BuildKit mounts it: nosuid, the kernel's default size unless one is given.
        child.flags = mount.read_only ? MS_NOSUID | MS_RDONLY : MS_NOSUID;
        if (mount.tmpfs_size > 0) {
            child.data = "size=" + std::to_string(mount.tmpfs_size);
        }
        child.what = "mount a tmpfs at " + util::quote(mount.target);
    } else {
        child.source = absolute_path(mount.source);
        child.flags = MS_BIND | MS_REC;
        child.read_only_bind = mount.read_only;
        std::error_code ignored;
        child.directory = fs::is_directory(mount.source, ignored);
        child.what = "bind-mount " + in_quotes(child.source) + " at " + util::quote(mount.target);
    }
    return child;
}

ChildPlan plan_for(const RunSpec& spec, Scaffold& scaffold) {
    MountStubs& stubs = scaffold.stubs();
    ChildPlan plan;
    plan.root = absolute_path(spec.rootfs);
    if (spec.overlay) {
        plan.overlay = true;
        if (spec.overlay->lowers.empty()) {
            // Nothing below (FROM scratch): the upper dir is the whole root.
            plan.overlay_bind = absolute_path(spec.overlay->upper);
        } else {
            plan.overlay_options = overlay_options(*spec.overlay, true);
            plan.overlay_plain_options = overlay_options(*spec.overlay, false);
        }
    }
    for (const char* dir : {"proc", "dev", "sys"}) {
        stubs.make({dir}, true);
    }
    plan.proc = plan.root + "/proc";
    plan.dev = plan.root + "/dev";
    plan.sys = plan.root + "/sys";
    plan.dev_shm = plan.dev + "/shm";
    plan.dev_pts = plan.dev + "/pts";
    plan.dev_ptmx = plan.dev + "/ptmx";
    plan.dev_fd = plan.dev + "/fd";
    plan.dev_stdin = plan.dev + "/stdin";
    plan.dev_stdout = plan.dev + "/stdout";
    plan.dev_stderr = plan.dev + "/stderr";
    for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
        plan.dev_nodes.emplace_back(std::string("/dev/") + node, plan.dev + "/" + node);
    }

    fs::path temp = scaffold.make_temp_dir();
    write_file(temp / "hosts", "127.0.0.1\tlocalhost " + spec.hostname +
                                   "\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    write_file(temp / "resolv.conf", resolv_conf());
    write_file(temp / "hostname", spec.hostname + "\n");
    stubs.make({"etc"}, true);
    for (const char* name : {"hosts", "resolv.conf", "hostname"}) {
        const std::vector<std::string> parts{"etc", name};
        if (stubs.kind_of(parts) == MountStubs::Kind::kSymlink) {
            // A bind mount would follow the link, maybe out of the rootfs: the image's own link
            // (e.g. resolv.conf pointing into /run) stays as it is.
            continue;
        }
        stubs.make(parts, false);
        plan.etc_files.emplace_back((temp / name).string(), plan.root + "/etc/" + name);
    }

    // The mounts' targets; one inside an earlier mount (a tmpfs, /dev) is made by the child in
    // that mount, the only place it can be seen.
    std::vector<std::vector<std::string>> mounted = {{"proc"}, {"dev"}, {"sys"}};
    for (const auto& mount : spec.mounts) {
        ChildMount child = child_mount_for(mount);
        const bool nested = std::any_of(mounted.begin(), mounted.end(), [&](const auto& outer) {
            return outer.size() < child.parts.size() &&
                   std::equal(outer.begin(), outer.end(), child.parts.begin());
        });
        if (!nested) {
            stubs.make(child.parts, child.directory);
        }
        mounted.push_back(child.parts);
        plan.mounts.push_back(std::move(child));
    }

    plan.hostname = spec.hostname;
    plan.network_none = spec.network == Network::kNone;
    plan.groups.assign(spec.groups.begin(), spec.groups.end());
    plan.uid = spec.uid;
    plan.gid = spec.gid;
    plan.cwd = spec.cwd.empty() ? "/" : spec.cwd;
    plan.cwd_prefixes = prefixes_of(plan.cwd);
    plan.candidates = candidates_for(spec.args.front(), path_of(spec.env));
    for (const auto& arg : spec.args) {
        plan.argv.push_back(const_cast<char*>(arg.c_str()));
    }
    plan.argv.push_back(nullptr);
    for (const auto& entry : spec.env) {
        plan.envp.push_back(const_cast<char*>(entry.c_str()));
    }
    plan.envp.push_back(nullptr);
    return plan;
}

void validate_overlay(const OverlayRoot& overlay) {
    if (overlay.lowers.empty()) {
        return;
    }
    const std::string options = overlay_options(overlay, true);
    if (options.size() + 1 > kMaxMountData) {
        throw Error(ErrorCode::kInvalidArgument,
                    "RUN: the overlayfs options for " + std::to_string(overlay.lowers.size()) +
                        " lower layers take " + std::to_string(options.size() + 1) +
                        " bytes, more than the " + std::to_string(kMaxMountData) +
                        " (one page) a mount accepts; use a base with fewer layers or a "
                        "shorter cache path");
    }
    auto check = [](const fs::path& dir, const char* role, bool lower) {
        const std::string path = absolute_path(dir);
        if (path.find(',') != std::string::npos || (lower && path.find(':') != std::string::npos)) {
            throw Error(ErrorCode::kInvalidArgument,
                        std::string("RUN: the overlay ") + role + " dir " + in_quotes(path) +
                            " contains " + (lower ? "',' or ':'" : "','") +
                            ", which overlayfs' options cannot hold; use a cache path without");
        }
        std::error_code error;
        if (!fs::is_directory(dir, error)) {
            throw Error(ErrorCode::kNotFound, std::string("RUN: the overlay ") + role + " dir " +
                                                  in_quotes(path) + " is not a directory");
        }
    };
    for (const auto& lower : overlay.lowers) {
        check(lower, "lower", true);
    }
    check(overlay.upper, "upper", false);
    check(overlay.work, "work", false);
}

void validate_mount(const MountSpec& mount) {
    if (!mount.target.starts_with('/')) {
        throw Error(ErrorCode::kInvalidArgument,
                    "RUN --mount: the target " + util::quote(mount.target) +
                        " must be an absolute path inside the container");
    }
    if (path_parts(mount.target).empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "RUN --mount: cannot mount over the root (target " + util::quote(mount.target) +
                        "); give a directory below /");
    }
    if (mount.type == MountSpec::Type::kTmpfs) {
        if (mount.tmpfs_size < 0) {
            throw Error(ErrorCode::kInvalidArgument,
                        "RUN --mount: the tmpfs size " + std::to_string(mount.tmpfs_size) + " at " +
                            util::quote(mount.target) + " is negative; give bytes, or 0");
        }
        return;
    }
    struct stat st {};
    if (mount.source.empty() || ::stat(mount.source.c_str(), &st) != 0) {
        throw Error(ErrorCode::kNotFound,
                    "RUN --mount: the bind source " + in_quotes(mount.source.string()) + " for " +
                        util::quote(mount.target) + " does not exist" +
                        (mount.source.empty() ? "" : std::string(": ") + std::strerror(errno)));
    }
}

void validate(const RunSpec& spec) {
    if (spec.args.empty() || spec.args.front().empty()) {
        throw Error(ErrorCode::kInvalidArgument, "RUN: no command given; pass at least args[0]");
    }
    std::error_code error;
    if (!fs::is_directory(spec.rootfs, error)) {
        throw Error(ErrorCode::kNotFound, "RUN: the rootfs " + in_quotes(spec.rootfs.string()) +
                                              " is not a directory; extract the image there first");
    }
    if (!spec.cwd.empty() && spec.cwd.front() != '/') {
        throw Error(ErrorCode::kInvalidArgument,
                    "RUN: the working directory " + in_quotes(spec.cwd) + " must be absolute");
    }
    if (spec.overlay) {
        validate_overlay(*spec.overlay);
    }
    for (const auto& mount : spec.mounts) {
        validate_mount(mount);
    }
}

void relay(const RunSpec& spec, Pipe& out, Pipe& err, std::deque<std::string>& last) {
    LineSplitter out_lines(spec, last, false);
    LineSplitter err_lines(spec, last, true);
    std::array<pollfd, 2> fds{pollfd{out.read.get(), POLLIN, 0}, pollfd{err.read.get(), POLLIN, 0}};
    std::array<LineSplitter*, 2> splitters{&out_lines, &err_lines};
    std::array<char, 16384> buffer{};
    int open_streams = 2;
    while (open_streams > 0) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(ErrorCode::kIo, std::string("RUN: poll failed: ") + std::strerror(errno));
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            ssize_t got = ::read(fds[i].fd, buffer.data(), buffer.size());
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                splitters[i]->finish();
                fds[i].fd = -1;
                --open_streams;
                continue;
            }
            splitters[i]->feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
        }
    }
}

}  // namespace

RunResult run(const RunSpec& spec, const util::CancelToken& token) {
    validate(spec);
    // Without root, a user namespace makes the caller root inside; checked before anything is
    // made, so that ids the maps cannot give leave nothing behind.
    const bool rootless = ::geteuid() != 0;
    std::optional<IdMaps> id_maps;
    if (rootless) {
        id_maps = IdMaps::for_caller();
        id_maps->check(spec.uid, spec.gid, spec.groups);
    }
    token.throw_if_cancelled();
    Scaffold scaffold(spec);
    ChildPlan plan = plan_for(spec, scaffold);

    Pipe out, err, fail, sync;
    make_pipe(out);
    make_pipe(err);
    make_pipe(fail);
    plan.out_fd = out.write.get();
    plan.err_fd = err.write.get();
    plan.fail_fd = fail.write.get();

    unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
    if (spec.network == Network::kNone) {
        flags |= CLONE_NEWNET;
    }
    if (rootless) {
        // The other namespaces are then owned by the new user namespace, in which the child
        // holds every capability.
        flags |= CLONE_NEWUSER;
        make_pipe(sync);
        plan.sync_fd = sync.read.get();
        plan.sync_write_fd = sync.write.get();
        plan.set_groups = id_maps->subordinate();
    }
    // The raw system call with no stack behaves like fork() into the new namespaces; the child
    // becomes PID 1 of its PID namespace.
    long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) {
        const int error = errno;
        if (rootless && (error == EPERM || error == ENOSPC || error == EINVAL || error == EUSERS)) {
            throw Error(ErrorCode::kPermissionDenied,
                        std::string("RUN without root needs a user namespace, but unprivileged "
                                    "user namespaces are disabled here (clone: ") +
                            std::strerror(error) +
                            "); enable them (sysctls kernel.unprivileged_userns_clone=1, "
                            "user.max_user_namespaces > 0) or run the build as root");
        }
        throw Error(ErrorCode::kIo,
                    std::string("RUN: cannot clone into new namespaces: ") + std::strerror(error));
    }
    if (pid == 0) {
        child_main(plan);
    }
    Child child(static_cast<pid_t>(pid));
    auto registration = token.on_cancel([&child] { child.kill(); });
    out.write.reset();
    err.write.reset();
    fail.write.reset();
    if (rootless) {
        try {
            id_maps->write(static_cast<pid_t>(pid));
        } catch (const Error&) {
            token.throw_if_cancelled();  // the child was killed before its maps were written
            throw;
        }
        // The read end stays open until now, so this write cannot raise SIGPIPE even when the
        // child was killed meanwhile.
        const char go = 1;
        while (::write(sync.write.get(), &go, 1) < 0 && errno == EINTR) {
        }
        sync.write.reset();
        sync.read.reset();
    }

    ChildFailure failure;
    ssize_t got = 0;
    while ((got = ::read(fail.read.get(), &failure, sizeof failure)) < 0 && errno == EINTR) {
    }
    if (got == static_cast<ssize_t>(sizeof failure)) {
        child.wait();
        registration.reset();
        failure.what.back() = '\0';
        std::string message = "RUN: cannot " + std::string(failure.what.data()) +
                              " in the sandbox at " + in_quotes(plan.root) + ": " +
                              std::strerror(failure.error);
        switch (failure.kind) {
            case FailureKind::kNotFound:
                throw Error(ErrorCode::kNotFound,
                            "RUN: executable " + in_quotes(spec.args.front()) +
                                " not found in PATH " + in_quotes(path_of(spec.env)) +
                                " inside the rootfs " + in_quotes(plan.root) +
                                "; install it in the image or give its full path");
            case FailureKind::kOverlay:
                throw Error(ErrorCode::kIo,
                            "RUN: cannot mount overlayfs at " + in_quotes(plan.root) + " with " +
                                std::to_string(spec.overlay->lowers.size()) +
                                " lower layers, upper dir " +
                                in_quotes(spec.overlay->upper.string()) + " and work dir " +
                                in_quotes(spec.overlay->work.string()) + ": " +
                                std::strerror(failure.error) +
                                "; upper and work must be empty directories on one filesystem "
                                "that is not itself overlayfs" +
                                (rootless ? std::string(" (without root: Linux 5.11 or later, "
                                                        "and layers made for `userxattr`)")
                                          : std::string()));
            case FailureKind::kMountTarget:
                throw Error(ErrorCode::kInvalidArgument,
                            "RUN: cannot " + std::string(failure.what.data()) + ": a component " +
                                "of the target is " +
                                (failure.error == ELOOP ? "a symbolic link" : "not a directory") +
                                "; mounts never follow links, which could lead out of the root, "
                                "so mount at a path made of real directories");
            case FailureKind::kSetup:
                break;
        }
        const bool denied = failure.error == EACCES || failure.error == EPERM;
        if (denied && rootless) {
            // The usual cause: a kernel that mounts /proc in a user namespace only when the
            // host's /proc is fully visible, which a container's masked paths prevent.
            message +=
                " (without root, the kernel refuses this in the sandbox's user namespace here, "
                "as it does /proc inside a container whose /proc is partly masked); run the "
                "build as root";
        }
        throw Error(denied ? ErrorCode::kPermissionDenied : ErrorCode::kIo, message);
    }

    std::deque<std::string> last;
    relay(spec, out, err, last);
    int status = child.wait();
    registration.reset();
    token.throw_if_cancelled();

    RunResult result;
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
        result.exit_code = 128 + result.signal;
    }
    result.last_lines.assign(last.begin(), last.end());
    return result;
}

}  // namespace xarch::executor
