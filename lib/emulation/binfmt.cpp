// SPDX-License-Identifier: Apache-2.0
#include "emulation/binfmt.hpp"

#include "emulation/elf_machines.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace xarch::emulation {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

std::string join_path(std::string_view dir, std::string_view name) {
    std::string path(dir);
    if (!path.empty() && path.back() != '/') {
        path += '/';
    }
    path += name;
    return path;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

std::string mount_command(const std::string& dir) {
    return "`mount -t binfmt_misc binfmt_misc " + dir + "`";
}

// Reads a whole file; nullopt when it does not exist (an entry removed while listing).
std::optional<std::string> read_file(const std::string& path) {
    const util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw Error(ErrorCode::kIo,
                    "cannot read " + util::quote(path) + ": " + std::strerror(errno));
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw Error(ErrorCode::kIo,
                        "cannot read " + util::quote(path) + ": " + std::strerror(errno));
        }
        if (n == 0) {
            return text;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

// One write() carrying all of `data`: binfmt_misc parses each write as a whole command.
bool write_all(int fd, std::string_view data) {
    ssize_t n = 0;
    do {
        n = ::write(fd, data.data(), data.size());
    } while (n < 0 && errno == EINTR);
    if (n >= 0 && static_cast<std::size_t>(n) != data.size()) {
        errno = EIO;
        return false;
    }
    return n >= 0;
}

std::string_view rest_after(std::string_view line, std::string_view prefix) {
    line.remove_prefix(prefix.size());
    while (!line.empty() && line.front() == ' ') {
        line.remove_prefix(1);
    }
    return line;
}

void check_field(std::string_view what, std::string_view value, std::string_view forbidden) {
    if (value.empty() || value.find_first_of(forbidden) != std::string_view::npos) {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot register a binfmt_misc " + std::string(what) + " " +
                        util::quote(value) + ": it must be non-empty and free of ':' and newlines");
    }
}

}  // namespace

std::string to_hex(std::string_view bytes) {
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        hex += kHexDigits[byte >> 4];
        hex += kHexDigits[byte & 0xf];
    }
    return hex;
}

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string bytes;
    bytes.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        unsigned value = 0;
        const auto* begin = hex.data() + i;
        const auto [end, ec] = std::from_chars(begin, begin + 2, value, 16);
        if (ec != std::errc() || end != begin + 2) {
            return std::nullopt;
        }
        bytes += static_cast<char>(value);
    }
    return bytes;
}

std::string escape_bytes(std::string_view bytes) {
    std::string escaped;
    escaped.reserve(bytes.size() * 4);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        escaped += "\\x";
        escaped += kHexDigits[byte >> 4];
        escaped += kHexDigits[byte & 0xf];
    }
    return escaped;
}

emulators::Handler parse_handler(std::string name, std::string_view text) {
    emulators::Handler handler;
    handler.name = std::move(name);
    bool has_magic = false;
    while (!text.empty()) {
        const auto newline = text.find('\n');
        const auto line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
        if (line == "enabled") {
            handler.enabled = true;
        } else if (line == "disabled") {
            handler.enabled = false;
        } else if (line.starts_with("interpreter ")) {
            handler.interpreter = rest_after(line, "interpreter ");
        } else if (line.starts_with("flags:")) {
            handler.flags = rest_after(line, "flags:");
        } else if (line.starts_with("offset ")) {
            const auto value = rest_after(line, "offset ");
            std::size_t offset = 0;
            const auto [end, ec] =
                std::from_chars(value.data(), value.data() + value.size(), offset);
            if (ec == std::errc() && end == value.data() + value.size()) {
                handler.offset = offset;
            }
        } else if (line.starts_with("magic ")) {
            handler.magic = rest_after(line, "magic ");
            has_magic = true;
        } else if (line.starts_with("mask ")) {
            handler.mask = rest_after(line, "mask ");
        } else if (line.starts_with("extension ")) {
            handler.extension = rest_after(line, "extension ");
        }
    }
    if (has_magic) {
        const auto magic = from_hex(handler.magic);
        const auto mask = from_hex(handler.mask);
        if (magic && mask) {
            // No mask line means the kernel compares every bit (the empty mask reads as 0xff).
            if (const auto* emulator = match_elf(*magic, *mask, handler.offset)) {
                handler.platform = emulator->platform();
            }
        }
    }
    return handler;
}

void ensure_mounted(const std::string& dir) {
    if (exists(join_path(dir, "status"))) {
        return;
    }
    if (::mount("binfmt_misc", dir.c_str(), "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                nullptr) == 0) {
        if (exists(join_path(dir, "status"))) {
            return;
        }
        throw Error(ErrorCode::kUnsupported,
                    "mounted binfmt_misc at " + util::quote(dir) + " but it has no 'status' file");
    }
    const int error = errno;
    switch (error) {
        case EPERM:
        case EACCES:
            throw Error(ErrorCode::kPermissionDenied,
                        "binfmt_misc is not mounted at " + util::quote(dir) +
                            " and mounting it needs root: run " + mount_command(dir) + " as root");
        case ENODEV:
            throw Error(ErrorCode::kUnsupported,
                        "the kernel has no binfmt_misc (CONFIG_BINFMT_MISC): run `modprobe "
                        "binfmt_misc` and then " +
                            mount_command(dir) + " as root");
        case ENOENT:
        case ENOTDIR:
            throw Error(ErrorCode::kUnsupported,
                        "binfmt_misc is not mounted and " + util::quote(dir) +
                            " does not exist: run `modprobe binfmt_misc` and then " +
                            mount_command(dir) + " as root");
        default:
            throw Error(ErrorCode::kIo, "cannot mount binfmt_misc at " + util::quote(dir) + ": " +
                                            std::strerror(error) + "; run " + mount_command(dir) +
                                            " as root");
    }
}

std::vector<emulators::Handler> read_handlers(const std::string& dir) {
    ensure_mounted(dir);
    const std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), &::closedir);
    if (!listing) {
        throw Error(ErrorCode::kIo,
                    "cannot list " + util::quote(dir) + ": " + std::strerror(errno));
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(listing.get())) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != ".." && name != "register" && name != "status") {
            names.emplace_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    std::vector<emulators::Handler> handlers;
    for (auto& name : names) {
        if (auto text = read_file(join_path(dir, name))) {
            handlers.push_back(parse_handler(std::move(name), *text));
        }
    }
    return handlers;
}

std::string register_line(std::string_view name,
                          std::string_view magic,
                          std::string_view mask,
                          std::string_view interpreter,
                          std::string_view flags) {
    check_field("handler name", name, ":/\n");
    if (name == "." || name == ".." || name == "register" || name == "status") {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot register a binfmt_misc handler named " + util::quote(name));
    }
    check_field("interpreter", interpreter, ":\n");
    if (magic.empty() || mask.size() != magic.size()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "a binfmt_misc magic needs a mask of the same length");
    }
    if (flags.find_first_not_of("POCF") != std::string_view::npos) {
        throw Error(ErrorCode::kInvalidArgument, "unknown binfmt_misc flags " + util::quote(flags));
    }
    std::string line = ":";
    line.append(name).append(":M:0:");
    line.append(escape_bytes(magic)).append(":").append(escape_bytes(mask)).append(":");
    line.append(interpreter).append(":").append(flags);
    return line;
}

Registrar::Registrar(const std::string& dir)
    : dir_(dir), fd_(::open(join_path(dir, "register").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC)) {
    if (fd_) {
        return;
    }
    const int error = errno;
    if (error == EACCES || error == EPERM || error == EROFS) {
        throw Error(ErrorCode::kPermissionDenied,
                    "registering emulators needs root (CAP_SYS_ADMIN): cannot write " +
                        util::quote(join_path(dir, "register")));
    }
    throw Error(ErrorCode::kIo, "cannot open " + util::quote(join_path(dir, "register")) + ": " +
                                    std::strerror(error));
}

void Registrar::add(std::string_view name, const std::string& line) {
    if (write_all(fd_.get(), line + "\n")) {
        return;
    }
    const int error = errno;
    const std::string quoted = util::quote(name);
    switch (error) {
        case EEXIST:
            throw Error(ErrorCode::kAlreadyExists,
                        "a binfmt_misc handler named " + quoted + " already exists in " + dir_);
        case EPERM:
        case EACCES:
            throw Error(
                ErrorCode::kPermissionDenied,
                "registering emulators needs root (CAP_SYS_ADMIN): the kernel refused " + quoted);
        case ENOENT:
            throw Error(ErrorCode::kNotFound, "cannot register " + quoted +
                                                  ": its interpreter is missing (" + line + ")");
        case EINVAL:
            throw Error(ErrorCode::kInternal,
                        "the kernel rejected the binfmt_misc registration " + util::quote(line));
        default:
            throw Error(ErrorCode::kIo,
                        "cannot register " + quoted + ": " + std::string(std::strerror(error)));
    }
}

bool remove_handler(const std::string& dir, std::string_view name) {
    const auto path = join_path(dir, name);
    const util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    if (fd && write_all(fd.get(), "-1\n")) {
        return true;
    }
    const int error = errno;
    if (error == ENOENT) {
        return false;  // already gone (removed by someone else since we listed it)
    }
    if (error == EACCES || error == EPERM || error == EROFS) {
        throw Error(
            ErrorCode::kPermissionDenied,
            "removing emulators needs root (CAP_SYS_ADMIN): cannot write " + util::quote(path));
    }
    throw Error(ErrorCode::kIo, "cannot remove " + util::quote(path) + ": " + std::strerror(error));
}

}  // namespace xarch::emulation
