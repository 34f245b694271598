// SPDX-License-Identifier: Apache-2.0
// Credentials from Docker's client configuration, read the way docker/cli reads it
// (cli/config/configfile, cli/config/credentials) and with credential helpers run the way
// docker-credential-helpers' client runs them, plus a bounded wait so a hung helper cannot hang
// a build.
#include "registry/credentials.hpp"

#include "util/base64.hpp"
#include "util/quote.hpp"
#include "util/strings.hpp"
#include "util/unique_fd.hpp"

#include <xarch/credentials.hpp>
#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace xarch {

bool Credentials::empty() const noexcept {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
}

std::string Credentials::to_string() const {
    const auto secret = [](const std::string& value) {
        return value.empty() ? "<none>" : "<redacted>";
    };
    return "Credentials{username=" + (username.empty() ? "<none>" : util::quote(username)) +
           ", password=" + secret(password) + ", identity_token=" + secret(identity_token) +
           ", registry_token=" + secret(registry_token) + "}";
}

std::ostream& operator<<(std::ostream& out, const Credentials& credentials) {
    return out << credentials.to_string();
}

namespace registry {

namespace {

using util::quote;

constexpr std::string_view kHelperPrefix = "docker-credential-";
constexpr std::string_view kTokenUsername = "<token>";
constexpr std::string_view kNotFoundMessage = "credentials not found in native keychain";
constexpr std::size_t kMaxConfigSize = std::size_t{16} << 20;
constexpr std::size_t kMaxHelperOutput = std::size_t{1} << 20;
constexpr std::size_t kMaxExcerpt = 400;

// A file name for a message in full: quote() shortens long text, and the end of a path is the
// part that says which file it is.
std::string show_path(const std::filesystem::path& path) {
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "\"";
    for (char c : path.native()) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

[[noreturn]] void config_error(const std::filesystem::path& path, const std::string& why) {
    throw Error(ErrorCode::kInvalidArgument,
                "malformed docker config " + show_path(path) + ": " + why);
}

bool has_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
}

bool is_json_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// encoding/json's Decoder.Decode: the first JSON value of `text`; whatever follows it is not
// looked at. nullopt for text that is empty or only whitespace (Decode's io.EOF). On a syntax
// error `ec` is set and `offset` says where.
std::optional<boost::json::value> parse_first_value(std::string_view text,
                                                    boost::system::error_code& ec,
                                                    std::size_t& offset) {
    if (std::all_of(text.begin(), text.end(), is_json_space)) {
        return std::nullopt;
    }
    boost::json::stream_parser parser;
    offset = parser.write_some(text.data(), text.size(), ec);
    if (!ec && !parser.done()) {
        parser.finish(ec);
        offset = text.size();
    }
    if (ec) {
        return boost::json::value();
    }
    return parser.release();
}

std::string line_and_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Go's encoding/json matches object keys to struct fields case-insensitively, preferring an
// exact match.
const boost::json::value* find_field(const boost::json::object& object, std::string_view name) {
    if (const auto it = object.find(name); it != object.end()) {
        return &it->value();
    }
    for (const auto& member : object) {
        if (util::equals_ignore_case(std::string_view(member.key()), name)) {
            return &member.value();
        }
    }
    return nullptr;
}

// The string field `name`, "" when absent or null; `what` names the field in the message of a
// wrong type (Go refuses a number where a string belongs).
std::string string_field(const boost::json::object& object,
                         std::string_view name,
                         const std::filesystem::path& path,
                         const std::string& where) {
    const boost::json::value* value = find_field(object, name);
    if (value == nullptr || value->is_null()) {
        return {};
    }
    if (!value->is_string()) {
        config_error(path, where + "\"" + std::string(name) + "\" must be a string");
    }
    return std::string(value->get_string());
}

Credentials parse_auth_entry(const boost::json::object& entry,
                             const std::string& key,
                             const std::filesystem::path& path) {
    const std::string where = "in auths " + quote(key) + ": ";
    Credentials credentials;
    credentials.username = string_field(entry, "username", path, where);
    credentials.password = string_field(entry, "password", path, where);
    credentials.identity_token = string_field(entry, "identitytoken", path, where);
    credentials.registry_token = string_field(entry, "registrytoken", path, where);
    const std::string auth = string_field(entry, "auth", path, where);
    if (!auth.empty()) {
        // LoadFromReader: a non-empty "auth" replaces username and password.
        const std::optional<std::string> decoded = util::base64_decode(auth);
        if (!decoded) {
            config_error(path, where + "\"auth\" is not valid base64");
        }
        const std::size_t colon = decoded->find(':');
        if (colon == std::string::npos || colon == 0) {
            config_error(path, where + "\"auth\" does not decode to username:password");
        }
        credentials.username = decoded->substr(0, colon);
        std::string_view password = std::string_view(*decoded).substr(colon + 1);
        while (!password.empty() && password.front() == '\0') {
            password.remove_prefix(1);
        }
        while (!password.empty() && password.back() == '\0') {
            password.remove_suffix(1);
        }
        credentials.password = password;
    }
    // Tokens go into headers and form bodies; a CR or LF in one would inject a header.
    if (has_control(credentials.identity_token) || has_control(credentials.registry_token)) {
        config_error(path, where + "a token contains control characters");
    }
    return credentials;
}

// ---- running a credential helper ----

using Fd = util::UniqueFd;

[[noreturn]] void system_failure(const std::string& what, int error) {
    throw Error(ErrorCode::kIo, what + ": " + std::generic_category().message(error));
}

// The child's dup2() calls onto 0, 1 and 2 would clobber one another if a source were one of
// those numbers (a host process started with stdio closed), so every descriptor is moved up.
Fd above_stdio(int fd) {
    if (fd > 2) {
        return Fd(fd);
    }
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    const int error = errno;
    ::close(fd);
    if (moved < 0) {
        system_failure("fcntl", error);
    }
    return Fd(moved);
}

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        system_failure("fcntl", errno);
    }
}

struct ProcessResult {
    int spawn_error = 0;
    bool timed_out = false;
    bool status_known = false;
    bool exited = false;
    int exit_code = 0;
    int signal = 0;
    std::string out;
    std::string err;
    bool out_overflow = false;
};

// Kills the helper's process group and reaps the helper unless it was reaped already, so that
// no exit path (a timeout, an exception) leaves a process behind.
class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    ~ChildGuard() {
        if (pid_ > 0) {
            kill_and_reap();
        }
    }

    int kill_and_reap() noexcept {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return status;
    }
    void reaped() noexcept { pid_ = -1; }

private:
    pid_t pid_;
};

void read_available(Fd& fd, std::string& sink, bool& overflow) {
    char buffer[65536];
    while (true) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n > 0) {
            // Past the cap the output is drained and dropped, so that the helper never blocks
            // on a full pipe.
            const std::size_t room = kMaxHelperOutput - std::min(kMaxHelperOutput, sink.size());
            const auto count = static_cast<std::size_t>(n);
            sink.append(buffer, std::min(room, count));
            overflow = overflow || count > room;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        fd.reset();  // end of file, or an error that ends the stream all the same
        return;
    }
}

void record_status(ProcessResult& result, int status) {
    result.status_known = true;
    if (WIFEXITED(status)) {
        result.exited = true;
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
}

// Runs `program` with `args`, `input` on stdin and stdout and stderr captured, for at most
// `timeout`. The child gets its own process group so that a timeout kills what it started too
// (a shell script's `sleep`), default signal handling and an empty signal mask whatever the
// host application set, and no descriptor but 0-2 (everything else here is close-on-exec).
ProcessResult run_process(const std::string& program,
                          const std::vector<std::string>& args,
                          std::string_view input,
                          std::chrono::milliseconds timeout) {
    // stdin is a socket rather than a pipe so that writing to a helper that has already exited
    // fails with EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE in the host process.
    int in_pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
        system_failure("socketpair", errno);
    }
    Fd in_parent = above_stdio(in_pair[0]);
    Fd in_child = above_stdio(in_pair[1]);
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        system_failure("pipe2", errno);
    }
    Fd out_parent = above_stdio(out_pipe[0]);
    Fd out_child = above_stdio(out_pipe[1]);
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        system_failure("pipe2", errno);
    }
    Fd err_parent = above_stdio(err_pipe[0]);
    Fd err_child = above_stdio(err_pipe[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_child.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_child.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_child.get(), STDERR_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(
        &attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attributes, 0);
    sigset_t mask;
    sigemptyset(&mask);
    posix_spawnattr_setsigmask(&attributes, &mask);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig :
         {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2}) {
        sigaddset(&defaults, sig);
    }
    posix_spawnattr_setsigdefault(&attributes, &defaults);

    std::vector<std::string> argv_storage = args;
    std::vector<char*> argv;
    argv.reserve(argv_storage.size() + 1);
    for (std::string& arg : argv_storage) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);

    ProcessResult result;
    pid_t pid = -1;
    const int spawned =
        ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0) {
        result.spawn_error = spawned;
        return result;
    }
    ChildGuard guard(pid);
    in_child.reset();
    out_child.reset();
    err_child.reset();
    set_nonblocking(in_parent.get());
    set_nonblocking(out_parent.get());
    set_nonblocking(err_parent.get());

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto remaining_ms = [&deadline] {
        // Rounded up: a truncated 0.9 ms would end the wait before the deadline.
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        return std::max<long long>(0, std::min<long long>(left.count(), INT_MAX));
    };
    std::size_t sent = 0;
    if (input.empty()) {
        in_parent.reset();
    }
    while (in_parent || out_parent || err_parent) {
        const long long wait = remaining_ms();
        if (wait <= 0) {
            result.timed_out = true;
            break;
        }
        pollfd fds[3];
        nfds_t count = 0;
        Fd* owners[3];
        for (Fd* fd : {&in_parent, &out_parent, &err_parent}) {
            if (*fd) {
                const short events = fd == &in_parent ? POLLOUT : POLLIN;
                fds[count] = pollfd{fd->get(), events, 0};
                owners[count++] = fd;
            }
        }
        const int ready = ::poll(fds, count, static_cast<int>(wait));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            system_failure("poll", errno);
        }
        for (nfds_t i = 0; i < count; ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            if (owners[i] == &in_parent) {
                const ssize_t n = ::send(in_parent.get(), input.data() + sent, input.size() - sent,
                                         MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0) {
                    sent += static_cast<std::size_t>(n);
                }
                const bool retry = n < 0 && (errno == EINTR || errno == EAGAIN);
                if (sent == input.size() || (n < 0 && !retry)) {
                    in_parent.reset();  // end of input for the helper; a refusal ends it too
                }
            } else if (owners[i] == &out_parent) {
                read_available(out_parent, result.out, result.out_overflow);
            } else {
                bool ignored = false;
                read_available(err_parent, result.err, ignored);
            }
        }
    }

    // Output closed: the helper is exiting, or closed its streams and went on; wait for it only
    // until the same deadline.
    while (!result.timed_out) {
        int status = 0;
        const pid_t waited = ::waitpid(pid, &status, WNOHANG);
        if (waited == pid) {
            guard.reaped();
            record_status(result, status);
            break;
        }
        if (waited < 0 && errno == EINTR) {
            continue;
        }
        if (waited < 0) {
            // ECHILD: the host application ignores SIGCHLD, so the kernel reaped the helper and
            // its status is gone.
            guard.reaped();
            break;
        }
        if (remaining_ms() <= 0) {
            result.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (result.timed_out) {
        guard.kill_and_reap();
    }
    return result;
}

// Helper output for a message: trimmed, control bytes escaped, cut to a readable length.
std::string excerpt(std::string_view text) {
    text = util::trim(text);
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size() && i < kMaxExcerpt; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += text[i];
        }
    }
    out += text.size() > kMaxExcerpt ? "...\"" : "\"";
    return out;
}

std::string find_in_path(std::string_view name, std::string_view search_path) {
    std::size_t start = 0;
    while (start <= search_path.size()) {
        std::size_t end = search_path.find(':', start);
        if (end == std::string_view::npos) {
            end = search_path.size();
        }
        const std::string_view dir = search_path.substr(start, end - start);
        start = end + 1;
        // Go's exec.LookPath refuses results relative to the current directory (ErrDot); an
        // empty entry means the current directory.
        if (dir.empty() || dir.front() != '/') {
            continue;
        }
        std::string candidate = std::string(dir) + "/" + std::string(name);
        struct stat info {};
        if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

}  // namespace

DockerConfigFile parse_docker_config(std::string_view text, const std::filesystem::path& path) {
    DockerConfigFile config;
    config.path = path;
    boost::system::error_code ec;
    std::size_t offset = 0;
    const std::optional<boost::json::value> root = parse_first_value(text, ec, offset);
    if (ec) {
        // The message says where, never what: the text around a syntax error may be a secret.
        config_error(
            path, "invalid JSON at " + line_and_column(text, offset) + " (" + ec.message() + ")");
    }
    if (!root || root->is_null()) {
        return config;
    }
    if (!root->is_object()) {
        config_error(path, "the top level must be a JSON object");
    }
    const boost::json::object& top = root->get_object();

    if (const boost::json::value* auths = find_field(top, "auths");
        auths != nullptr && !auths->is_null()) {
        if (!auths->is_object()) {
            config_error(path, "\"auths\" must be an object");
        }
        for (const auto& member : auths->get_object()) {
            AuthEntry entry;
            entry.key = std::string(member.key());
            if (member.value().is_object()) {
                entry.credentials = parse_auth_entry(member.value().get_object(), entry.key, path);
            } else if (!member.value().is_null()) {
                config_error(path, "auths " + quote(entry.key) + " must be an object");
            }
            config.auths.push_back(std::move(entry));
        }
    }
    config.creds_store = string_field(top, "credsStore", path, "");
    if (const boost::json::value* helpers = find_field(top, "credHelpers");
        helpers != nullptr && !helpers->is_null()) {
        if (!helpers->is_object()) {
            config_error(path, "\"credHelpers\" must be an object");
        }
        for (const auto& member : helpers->get_object()) {
            std::string helper;
            if (member.value().is_string()) {
                helper = member.value().get_string();
            } else if (!member.value().is_null()) {
                config_error(path, "credHelpers " + quote(std::string_view(member.key())) +
                                       " must be a string");
            }
            config.cred_helpers.emplace_back(std::string(member.key()), std::move(helper));
        }
    }
    return config;
}

std::optional<DockerConfigFile> load_docker_config(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return std::nullopt;  // no configuration: anonymous, as docker/cli's load()
        }
        system_failure("cannot open docker config " + show_path(path), errno);
    }
    std::string text;
    char buffer[65536];
    while (true) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            system_failure("cannot read docker config " + show_path(path), errno);
        }
        if (n == 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > kMaxConfigSize) {
            config_error(path, "larger than 16 MiB");
        }
    }
    return parse_docker_config(text, path);
}

std::filesystem::path default_docker_config_dir() {
    if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::filesystem::path(home) / ".docker";
    }
    // No HOME (a service): the passwd entry's home, as Go's os/user does.
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
        found != nullptr && found->pw_dir != nullptr && *found->pw_dir != '\0') {
        return std::filesystem::path(found->pw_dir) / ".docker";
    }
    return {};
}

std::string auth_config_key(std::string_view registry) {
    if (registry == "docker.io" || registry == "index.docker.io") {
        return std::string(kDockerHubAuthKey);
    }
    return std::string(registry);
}

std::string convert_to_hostname(std::string_view maybe_url) {
    if (const std::size_t scheme = maybe_url.find("://"); scheme != std::string_view::npos) {
        const std::string_view rest = maybe_url.substr(scheme + 3);
        std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
        if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
            authority.remove_prefix(at + 1);
        }
        const auto all_digits = [](std::string_view text) {
            return std::all_of(text.begin(), text.end(),
                               [](char c) { return c >= '0' && c <= '9'; });
        };
        const std::string_view host_name = rest.substr(0, rest.find('/'));
        if (!authority.empty() && authority.front() == '[') {
            // net/url: Hostname() without brackets, JoinHostPort() puts them back with a port.
            const std::size_t close = authority.find(']');
            if (close != std::string_view::npos) {
                const std::string_view host = authority.substr(1, close - 1);
                const std::string_view after = authority.substr(close + 1);
                if (after.empty() || after == ":") {
                    return std::string(host);
                }
                if (after.front() == ':' && all_digits(after.substr(1))) {
                    return "[" + std::string(host) + "]" + std::string(after);
                }
            }
            return std::string(host_name);
        }
        const std::size_t colons =
            static_cast<std::size_t>(std::count(authority.begin(), authority.end(), ':'));
        if (!authority.empty() && colons == 0) {
            return std::string(authority);
        }
        if (!authority.empty() && colons == 1) {
            const std::size_t colon = authority.find(':');
            const std::string_view port = authority.substr(colon + 1);
            if (all_digits(port) && colon > 0) {
                return port.empty() ? std::string(authority.substr(0, colon))
                                    : std::string(authority);
            }
            return std::string(host_name);
        }
        // hostFromURLFallback: an unbracketed IPv6 address, which net/url refuses.
        if (!host_name.empty()) {
            if (colons > 1 && host_name.front() != '[') {
                const std::size_t last = host_name.rfind(':');
                const std::string_view address = host_name.substr(0, last);
                const std::string_view port = host_name.substr(last + 1);
                if (!address.empty() && !port.empty() && all_digits(port)) {
                    return "[" + std::string(address) + "]:" + std::string(port);
                }
            }
            return std::string(host_name);
        }
    }
    return std::string(maybe_url.substr(0, maybe_url.find('/')));
}

std::optional<Credentials> run_credential_helper(std::string_view helper,
                                                 std::string_view server_url,
                                                 const HelperOptions& options) {
    const std::string program = std::string(kHelperPrefix) + std::string(helper);
    const std::string context = "credential helper " + quote(program) + " for " + quote(server_url);
    // docker/cli would run a name with a '/' as a relative path; a helper is a program on the
    // search path, so such a name is refused rather than followed.
    if (helper.empty() || helper.find('/') != std::string_view::npos || has_control(helper) ||
        helper.find(' ') != std::string_view::npos) {
        throw Error(ErrorCode::kAuthentication,
                    "invalid credential helper name " + quote(helper) + " in the docker config");
    }
    const std::string path = find_in_path(program, options.search_path);
    if (path.empty()) {
        throw Error(ErrorCode::kAuthentication,
                    context + ": " + quote(program) + " was not found in PATH");
    }
    const ProcessResult result = run_process(path, {program, "get"}, server_url, options.timeout);
    if (result.spawn_error != 0) {
        throw Error(ErrorCode::kAuthentication,
                    context + ": cannot run " + show_path(path) + ": " +
                        std::generic_category().message(result.spawn_error));
    }
    const std::string stderr_part =
        util::trim(result.err).empty() ? std::string() : "; stderr: " + excerpt(result.err);
    if (result.timed_out) {
        throw Error(ErrorCode::kAuthentication, context + ": no answer within " +
                                                    std::to_string(options.timeout.count()) +
                                                    " ms, the helper was killed" + stderr_part);
    }
    if (!result.status_known) {
        throw Error(ErrorCode::kAuthentication,
                    context + ": its exit status could not be collected (is SIGCHLD ignored?)" +
                        stderr_part);
    }
    if (!result.exited) {
        throw Error(ErrorCode::kAuthentication,
                    context + ": killed by signal " + std::to_string(result.signal) + stderr_part);
    }
    if (result.exit_code != 0) {
        if (util::trim(result.out) == kNotFoundMessage) {
            return std::nullopt;
        }
        // Helpers print their error on stdout (docker-credential-helpers' Serve), so it is
        // shown, unless it looks like a JSON answer that could carry the secret.
        std::string stdout_part;
        if (!util::trim(result.out).empty() && result.out.find('{') == std::string::npos) {
            stdout_part = ": " + excerpt(result.out);
        }
        throw Error(ErrorCode::kAuthentication, context + " failed with exit status " +
                                                    std::to_string(result.exit_code) + stdout_part +
                                                    stderr_part);
    }

    const std::string garbage =
        context + ": the answer is not the JSON object {ServerURL, Username, Secret}";
    if (result.out_overflow) {
        throw Error(ErrorCode::kAuthentication, garbage + " (more than 1 MiB)" + stderr_part);
    }
    boost::system::error_code ec;
    std::size_t offset = 0;
    const std::optional<boost::json::value> answer = parse_first_value(result.out, ec, offset);
    if (ec || !answer || !answer->is_object()) {
        throw Error(ErrorCode::kAuthentication, garbage + stderr_part);
    }
    const auto text_of = [&](std::string_view field) -> std::string {
        const boost::json::value* value = find_field(answer->get_object(), field);
        if (value == nullptr || value->is_null()) {
            return {};
        }
        if (!value->is_string()) {
            throw Error(ErrorCode::kAuthentication, garbage + stderr_part);
        }
        return std::string(value->get_string());
    };
    const std::string username = text_of("Username");
    std::string secret = text_of("Secret");
    Credentials credentials;
    if (username == kTokenUsername) {
        credentials.identity_token = std::move(secret);
        if (has_control(credentials.identity_token)) {
            throw Error(ErrorCode::kAuthentication,
                        context + ": the identity token contains control characters");
        }
    } else {
        credentials.username = username;
        credentials.password = std::move(secret);
    }
    return credentials;
}

std::optional<Credentials> lookup_credentials(const DockerConfigFile& config,
                                              std::string_view registry,
                                              const HelperOptions& options) {
    const std::string key = auth_config_key(registry);

    // fileStore.Get: the exact key, else the first key written as a URL of the same host.
    const Credentials* stored = nullptr;
    for (const AuthEntry& entry : config.auths) {
        if (entry.key == key) {
            stored = &entry.credentials;
            break;
        }
    }
    if (stored == nullptr) {
        for (const AuthEntry& entry : config.auths) {
            if (convert_to_hostname(entry.key) == key) {
                stored = &entry.credentials;
                break;
            }
        }
    }

    // getConfiguredCredentialStore: a credHelpers entry wins even when it is empty (which
    // means the file), else credsStore.
    std::string helper = config.creds_store;
    for (const auto& [registry_key, name] : config.cred_helpers) {
        if (registry_key == key) {
            helper = name;
            break;
        }
    }

    Credentials result = stored != nullptr ? *stored : Credentials{};
    if (!helper.empty()) {
        // nativeStore.Get: the helper's answer replaces the file's username, password and
        // identity token, also when it has none.
        const Credentials answer =
            run_credential_helper(helper, key, options).value_or(Credentials{});
        result.username = answer.username;
        result.password = answer.password;
        result.identity_token = answer.identity_token;
    }
    if (result.empty()) {
        return std::nullopt;
    }
    return result;
}

}  // namespace registry

CredentialsLookup docker_config_keychain(DockerConfigOptions options) {
    if (options.helper_timeout.count() <= 0) {
        throw Error(ErrorCode::kInvalidArgument,
                    "the credential helper timeout must be positive, not " +
                        std::to_string(options.helper_timeout.count()) + " ms");
    }
    std::filesystem::path dir =
        options.config_dir.empty() ? registry::default_docker_config_dir() : options.config_dir;
    registry::HelperOptions helper;
    helper.timeout = options.helper_timeout;
    if (options.helper_path) {
        helper.search_path = *options.helper_path;
    } else if (const char* path = std::getenv("PATH"); path != nullptr) {
        helper.search_path = path;
    }
    std::filesystem::path file = dir.empty() ? dir : dir / "config.json";
    return [file = std::move(file),
            helper = std::move(helper)](std::string_view host) -> std::optional<Credentials> {
        if (host.empty()) {
            throw Error(ErrorCode::kInvalidArgument, "no registry to look up credentials for");
        }
        if (file.empty()) {
            return std::nullopt;
        }
        const std::optional<registry::DockerConfigFile> config = registry::load_docker_config(file);
        if (!config) {
            return std::nullopt;
        }
        return registry::lookup_credentials(*config, host, helper);
    };
}

}  // namespace xarch
