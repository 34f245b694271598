// SPDX-License-Identifier: Apache-2.0
// executor::run: clones the command into new namespaces, builds its root (mounts, /dev, /etc
// files), pivots into it, and relays its output line by line until it exits or is cancelled.
#include "executor/sandbox.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>

namespace xarch::executor {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// A line longer than this is passed on in pieces, so a command printing without newlines cannot
// make us buffer without bound.
constexpr std::size_t kMaxLine = 64 * 1024;

// What the child reports through the error pipe when it fails before execve.
struct ChildFailure {
    int error = 0;
    bool not_found = false;
    std::array<char, 512> what{};
};

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

// Everything the child needs, computed before clone(): after it the child may only make system
// calls (another thread may have held the allocator's lock at that moment).
struct ChildPlan {
    std::string root;
    std::string proc, dev, sys, dev_shm, dev_pts, dev_ptmx, dev_fd, dev_stdin, dev_stdout,
        dev_stderr;
    std::vector<std::pair<std::string, std::string>> dev_nodes;  // host node → target in root
    std::vector<std::pair<std::string, std::string>> etc_files;  // temp file → target in root
    std::string hostname;
    bool network_none = false;
    std::vector<gid_t> groups;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::string> cwd_prefixes;  // "/a", "/a/b": created in turn
    std::string cwd;
    std::vector<std::string> candidates;  // where args[0] may be, inside the root
    std::vector<char*> argv;
    std::vector<char*> envp;
    int out_fd = -1, err_fd = -1, fail_fd = -1;
};

[[noreturn]] void child_fail(
    const ChildPlan& plan, const char* what, const char* path, int error, bool not_found = false) {
    ChildFailure failure;
    failure.error = error;
    failure.not_found = not_found;
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

void child_setup_root(const ChildPlan& plan) {
    // Private first, so that nothing we mount propagates back to the host.
    child_mount(plan, nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
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
    // Read-only and optional: some kernels refuse sysfs outside the initial network namespace.
    [[maybe_unused]] int sys = ::mount("sysfs", plan.sys.c_str(), "sysfs",
                                       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    for (const auto& [file, target] : plan.etc_files) {
        child_mount(plan, file.c_str(), target, nullptr, MS_BIND, nullptr);
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

[[noreturn]] void child_main(const ChildPlan& plan) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
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
    if (::syscall(SYS_setgroups, plan.groups.size(), plan.groups.data()) != 0) {
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
    child_fail(plan, "execute", plan.argv[0], error, error == ENOENT);
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

// Mount points created in the rootfs for this run (only those that were missing), removed
// afterwards in reverse order, with the private temp dir holding the /etc files.
class Scaffold {
public:
    explicit Scaffold(fs::path rootfs) : rootfs_(std::move(rootfs)) {}
    Scaffold(const Scaffold&) = delete;
    Scaffold& operator=(const Scaffold&) = delete;
    ~Scaffold() {
        std::error_code ignored;
        for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
            // Fails, and so keeps it, when the command wrote into a directory we created.
            fs::remove(*it, ignored);
        }
        if (!temp_dir_.empty()) {
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

    // The path of `relative` in the rootfs, made an empty directory or file when missing.
    // Refuses symlinks: a bind mount onto one would follow it out of the rootfs.
    std::string mount_point(const std::string& relative, bool directory) {
        fs::path path = rootfs_ / relative;
        std::error_code error;
        auto status = fs::symlink_status(path, error);
        if (fs::is_symlink(status)) {
            throw Error(ErrorCode::kInvalidArgument,
                        "RUN: " + in_quotes("/" + relative) + " in the rootfs " +
                            in_quotes(rootfs_.string()) +
                            " is a symbolic link; the sandbox mounts there, so make it a " +
                            (directory ? "directory" : "file"));
        }
        if (!fs::exists(status)) {
            if (directory) {
                fs::create_directory(path, error);
            } else {
                std::ofstream(path).close();
                error = fs::exists(path) ? std::error_code{}
                                         : std::make_error_code(std::errc::io_error);
            }
            if (error) {
                throw Error(ErrorCode::kIo, "RUN: cannot create the mount point " +
                                                in_quotes(path.string()) + ": " + error.message());
            }
            created_.push_back(path);
        }
        return path.string();
    }

private:
    fs::path rootfs_;
    fs::path temp_dir_;
    std::vector<fs::path> created_;
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

ChildPlan plan_for(const RunSpec& spec, Scaffold& scaffold) {
    ChildPlan plan;
    plan.root = fs::absolute(spec.rootfs).lexically_normal().string();
    while (plan.root.size() > 1 && plan.root.back() == '/') {
        plan.root.pop_back();
    }
    plan.proc = scaffold.mount_point("proc", true);
    plan.dev = scaffold.mount_point("dev", true);
    plan.sys = scaffold.mount_point("sys", true);
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
    scaffold.mount_point("etc", true);
    for (const char* name : {"hosts", "resolv.conf", "hostname"}) {
        std::error_code ignored;
        if (fs::is_symlink(fs::symlink_status(spec.rootfs / "etc" / name, ignored))) {
            // A bind mount would follow the link, maybe out of the rootfs: the image's own link
            // (e.g. resolv.conf pointing into /run) stays as it is.
            continue;
        }
        plan.etc_files.emplace_back((temp / name).string(),
                                    scaffold.mount_point(std::string("etc/") + name, false));
    }

    plan.hostname = spec.hostname;
    plan.network_none = spec.network_none;
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

void validate(const RunSpec& spec) {
    if (::geteuid() != 0) {
        throw Error(ErrorCode::kPermissionDenied,
                    "RUN needs root for now: the sandbox creates mount and PID namespaces, which "
                    "takes root (effective uid is " +
                        std::to_string(::geteuid()) + "); run the build as root");
    }
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
    token.throw_if_cancelled();
    Scaffold scaffold(spec.rootfs);
    ChildPlan plan = plan_for(spec, scaffold);

    Pipe out, err, fail;
    make_pipe(out);
    make_pipe(err);
    make_pipe(fail);
    plan.out_fd = out.write.get();
    plan.err_fd = err.write.get();
    plan.fail_fd = fail.write.get();

    unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
    if (spec.network_none) {
        flags |= CLONE_NEWNET;
    }
    // The raw system call with no stack behaves like fork() into the new namespaces; the child
    // becomes PID 1 of its PID namespace.
    long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) {
        throw Error(ErrorCode::kIo,
                    std::string("RUN: cannot clone into new namespaces: ") + std::strerror(errno));
    }
    if (pid == 0) {
        child_main(plan);
    }
    Child child(static_cast<pid_t>(pid));
    auto registration = token.on_cancel([&child] { child.kill(); });
    out.write.reset();
    err.write.reset();
    fail.write.reset();

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
        if (failure.not_found) {
            throw Error(ErrorCode::kNotFound,
                        "RUN: executable " + in_quotes(spec.args.front()) + " not found in PATH " +
                            in_quotes(path_of(spec.env)) + " inside the rootfs " +
                            in_quotes(plan.root) +
                            "; install it in the image or give its full path");
        }
        throw Error(failure.error == EACCES || failure.error == EPERM ? ErrorCode::kPermissionDenied
                                                                      : ErrorCode::kIo,
                    message);
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
