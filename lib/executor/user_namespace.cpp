// SPDX-License-Identifier: Apache-2.0
// IdMaps: finds the caller's subordinate ids and the setuid helpers, checks a RUN's ids against
// the maps, and writes them for a child in a new user namespace (newuidmap/newgidmap, or the
// single map the kernel lets anyone write).
#include "executor/user_namespace.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

extern char** environ;

namespace xarch::executor {
namespace {

constexpr const char* kHelperPath = "/usr/bin:/bin:/usr/sbin:/sbin";

std::string name_of(uid_t uid) {
    std::array<char, 4096> buffer{};
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
        return found->pw_name;
    }
    return std::to_string(uid);
}

// `name` in the caller's PATH, then in the usual system dirs; empty when not found.
std::string find_helper(const std::string& name) {
    std::string path = kHelperPath;
    if (const char* env = std::getenv("PATH"); env != nullptr && *env != '\0') {
        path = std::string(env) + ":" + kHelperPath;
    }
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty() || dir.front() != '/') {
            continue;
        }
        const std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

std::optional<SubordinateRange> range_in(const char* file, const std::string& name, uid_t id) {
    std::ifstream listing(file);
    if (!listing) {
        return std::nullopt;
    }
    return find_subordinate_range(listing, name, id);
}

bool parse_id(const std::string& text, std::uint32_t& out) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 10) {
        return false;
    }
    const unsigned long long value = std::stoull(text);
    if (value > 0xffffffffULL) {
        return false;
    }
    out = static_cast<std::uint32_t>(value);
    return true;
}

// Runs `argv` (newuidmap or newgidmap) and returns its exit status and what it printed on stderr.
std::pair<int, std::string> run_helper(const std::vector<std::string>& argv) {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw Error(ErrorCode::kIo,
                    std::string("RUN: cannot create a pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    std::string output;
    if (spawned == 0) {
        std::array<char, 1024> buffer{};
        ssize_t got = 0;
        while ((got = ::read(fds[0], buffer.data(), buffer.size())) != 0) {
            if (got < 0) {
                if (errno == EINTR) {
                    continue;
                }
                break;
            }
            output.append(buffer.data(), static_cast<std::size_t>(got));
        }
    }
    ::close(fds[0]);
    if (spawned != 0) {
        return {-1, std::string("cannot execute it: ") + std::strerror(spawned)};
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) {
        output.pop_back();
    }
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

// Writes `content` to /proc/PID/`file`, as the kernel lets the namespace's owner do once.
void write_proc(pid_t pid, const char* file, const std::string& content) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    const bool written = fd >= 0 && ::write(fd, content.data(), content.size()) ==
                                        static_cast<ssize_t>(content.size());
    const int error = errno;
    if (fd >= 0) {
        ::close(fd);
    }
    if (!written) {
        throw Error(ErrorCode::kPermissionDenied,
                    "RUN without root: cannot write " + util::quote(content) + " to \"" + path +
                        "\" for the sandbox's user namespace: " + std::strerror(error) +
                        "; run the build as root");
    }
}

std::string describe(std::uint32_t uid, std::uint32_t gid) {
    return "USER " + std::to_string(uid) + (gid == uid ? "" : ":" + std::to_string(gid));
}

}  // namespace

std::optional<SubordinateRange> find_subordinate_range(std::istream& listing,
                                                       const std::string& name,
                                                       std::uint32_t id) {
    const std::string id_text = std::to_string(id);
    std::string line;
    while (std::getline(listing, line)) {
        const auto first = line.find(':');
        const auto second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos) {
            continue;
        }
        const std::string owner = line.substr(0, first);
        if (owner != name && owner != id_text) {
            continue;
        }
        SubordinateRange range;
        if (parse_id(line.substr(first + 1, second - first - 1), range.start) &&
            parse_id(line.substr(second + 1), range.count) && range.count > 0) {
            return range;
        }
    }
    return std::nullopt;
}

IdMaps IdMaps::for_caller() {
    IdMaps maps;
    maps.uid_ = ::geteuid();
    maps.gid_ = ::getegid();
    maps.user_ = name_of(maps.uid_);
    maps.newuidmap_ = find_helper("newuidmap");
    maps.newgidmap_ = find_helper("newgidmap");
    if (maps.newuidmap_.empty() || maps.newgidmap_.empty()) {
        return maps;
    }
    const auto uids = range_in("/etc/subuid", maps.user_, maps.uid_);
    // newgidmap matches /etc/subgid by the user's name or uid too, not by the group.
    const auto gids = range_in("/etc/subgid", maps.user_, maps.uid_);
    if (uids && gids) {
        maps.subordinate_ = true;
        maps.uids_ = *uids;
        maps.gids_ = *gids;
    }
    return maps;
}

void IdMaps::check(std::uint32_t uid,
                   std::uint32_t gid,
                   const std::vector<std::uint32_t>& groups) const {
    if (!subordinate_) {
        const bool only_gid = std::all_of(groups.begin(), groups.end(),
                                          [gid](std::uint32_t group) { return group == gid; });
        if (uid == 0 && gid == 0 && only_gid) {
            return;
        }
        const std::string what =
            uid != 0 || gid != 0 ? describe(uid, gid) : "USER 0 with supplementary groups";
        throw Error(ErrorCode::kPermissionDenied,
                    "RUN as " + what + " without root needs subordinate ids: add a range for " +
                        util::quote(user_) + " to /etc/subuid and /etc/subgid (uidmap's newuidmap" +
                        (newuidmap_.empty() || newgidmap_.empty() ? ", not installed here" : "") +
                        "), or run the build as root");
    }
    // Inside, 0 is the caller and 1..count its subordinate ids.
    auto outside = [](std::uint32_t id, const SubordinateRange& range) { return id > range.count; };
    std::vector<std::uint32_t> all_gids = groups;
    all_gids.push_back(gid);
    const bool gid_outside = std::any_of(all_gids.begin(), all_gids.end(),
                                         [&](std::uint32_t id) { return outside(id, gids_); });
    if (outside(uid, uids_) || gid_outside) {
        throw Error(ErrorCode::kPermissionDenied,
                    "RUN as " + describe(uid, gid) +
                        (groups.empty() ? "" : " with its supplementary groups") +
                        " without root: only ids up to " + std::to_string(uids_.count) +
                        " (uids) and " + std::to_string(gids_.count) +
                        " (gids) exist in the sandbox, as many as the subordinate ranges of " +
                        util::quote(user_) +
                        " in /etc/subuid and /etc/subgid hold; give it larger ranges, or run "
                        "the build as root");
    }
}

void IdMaps::write(pid_t pid) const {
    if (!subordinate_) {
        // The kernel lets an unprivileged owner map only its own ids, and its own gid only once
        // setgroups is denied (dropping groups could otherwise grant access).
        write_proc(pid, "setgroups", "deny");
        write_proc(pid, "uid_map", "0 " + std::to_string(uid_) + " 1\n");
        write_proc(pid, "gid_map", "0 " + std::to_string(gid_) + " 1\n");
        return;
    }
    for (const auto& [helper, id, range, file] :
         {std::tuple{newuidmap_, static_cast<std::uint32_t>(uid_), uids_, "/etc/subuid"},
          std::tuple{newgidmap_, static_cast<std::uint32_t>(gid_), gids_, "/etc/subgid"}}) {
        const std::vector<std::string> argv = {helper,
                                               std::to_string(pid),
                                               "0",
                                               std::to_string(id),
                                               "1",
                                               "1",
                                               std::to_string(range.start),
                                               std::to_string(range.count)};
        const auto [status, output] = run_helper(argv);
        if (status != 0) {
            std::string command;
            for (const auto& arg : argv) {
                command += (command.empty() ? "" : " ") + arg;
            }
            throw Error(ErrorCode::kPermissionDenied,
                        "RUN without root: \"" + command + "\" failed (status " +
                            std::to_string(status) + ")" + (output.empty() ? "" : ": " + output) +
                            "; check that it is setuid root (or has the setuid/setgid file "
                            "capability) and that " +
                            file + " gives " + util::quote(user_) +
                            " that range, or run the build as root");
        }
    }
}

}  // namespace xarch::executor
