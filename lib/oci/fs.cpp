// SPDX-License-Identifier: Apache-2.0
#include "oci/fs.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace xarch::oci::fs {

void close(util::UniqueFd& fd, const stdfs::path& path) {
    if (const int err = fd.close(); err != 0 && err != EINTR) {
        fail("close", path, err);
    }
}

void fail(std::string_view action, const stdfs::path& path, int err) {
    ErrorCode code = ErrorCode::kIo;
    if (err == ENOENT) {
        code = ErrorCode::kNotFound;
    } else if (err == EACCES || err == EPERM || err == EROFS) {
        code = ErrorCode::kPermissionDenied;
    }
    throw Error(code, "cannot " + std::string(action) + " " + util::quote(path.string()) + ": " +
                          std::strerror(err));
}

std::string temp_name() {
    static std::atomic<std::uint64_t> counter{0};
    thread_local std::mt19937_64 random{std::random_device{}()};
    constexpr std::string_view kHex = "0123456789abcdef";
    std::uint64_t bits = random();
    std::string suffix;
    for (int i = 0; i < 12; ++i) {
        suffix += kHex[bits & 0xf];
        bits >>= 4;
    }
    return std::string(kTempPrefix) + std::to_string(::getpid()) + "-" +
           std::to_string(counter.fetch_add(1)) + "-" + suffix;
}

void write_all(int fd, const void* data, std::size_t size, const stdfs::path& path) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, bytes, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("write", path, errno);
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
}

void sync(int fd, const stdfs::path& path) {
    if (::fsync(fd) != 0) {
        fail("fsync", path, errno);
    }
}

void sync_directory(const stdfs::path& dir) {
    util::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        fail("open directory", dir, errno);
    }
    // Some file systems cannot fsync a directory (EINVAL); their renames are durable anyway or
    // cannot be made so, and neither is a reason to fail the write.
    if (::fsync(fd.get()) != 0 && errno != EINVAL && errno != EROFS) {
        fail("fsync directory", dir, errno);
    }
}

void make_directories(const stdfs::path& dir) {
    std::vector<stdfs::path> created;
    stdfs::path current = dir;
    std::error_code ec;
    while (!current.empty() && !stdfs::exists(current, ec)) {
        created.push_back(current);
        const stdfs::path parent = current.parent_path();
        if (parent == current) {
            break;
        }
        current = parent;
    }
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
        if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
            fail("create directory", *it, errno);
        }
        const stdfs::path parent = it->parent_path();
        sync_directory(parent.empty() ? stdfs::path(".") : parent);
    }
    if (!stdfs::is_directory(dir, ec)) {
        fail("use directory", dir, ENOTDIR);
    }
}

std::optional<std::string> read_file(const stdfs::path& path, std::size_t max_bytes) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        fail("open", path, errno);
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        fail("stat", path, errno);
    }
    if (!S_ISREG(info.st_mode)) {
        throw Error(ErrorCode::kInvalidArgument, util::quote(path.string()) + " is not a file");
    }
    if (static_cast<std::uint64_t>(info.st_size) > max_bytes) {
        throw Error(ErrorCode::kInvalidArgument,
                    util::quote(path.string()) + " is too large: " + std::to_string(info.st_size) +
                        " bytes, at most " + std::to_string(max_bytes) + " expected");
    }
    std::string out;
    std::vector<char> buffer(64 * 1024);
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("read", path, errno);
        }
        if (n == 0) {
            break;
        }
        out.append(buffer.data(), static_cast<std::size_t>(n));
        if (out.size() > max_bytes) {
            throw Error(ErrorCode::kInvalidArgument, util::quote(path.string()) + " grew past " +
                                                         std::to_string(max_bytes) +
                                                         " bytes while being read");
        }
    }
    return out;
}

void write_file_atomic(const stdfs::path& target, std::string_view bytes) {
    const stdfs::path dir = target.parent_path().empty() ? stdfs::path(".") : target.parent_path();
    const stdfs::path temp = dir / temp_name();
    util::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
        fail("create", temp, errno);
    }
    try {
        write_all(fd.get(), bytes.data(), bytes.size(), temp);
        sync(fd.get(), temp);
        close(fd, temp);
        if (::rename(temp.c_str(), target.c_str()) != 0) {
            fail("rename into place", target, errno);
        }
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    sync_directory(dir);
}

FileLock FileLock::acquire(const stdfs::path& path, Mode mode) {
    util::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) {
        fail("open lock file", path, errno);
    }
    const int operation = mode == Mode::kExclusive ? LOCK_EX : LOCK_SH;
    while (::flock(fd.get(), operation) != 0) {
        if (errno != EINTR) {
            fail("lock", path, errno);
        }
    }
    return FileLock(std::move(fd));
}

void remove_tree(const stdfs::path& path) {
    struct ::stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        ::chmod(path.c_str(), 0700);
        std::error_code ec;
        for (stdfs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
            remove_tree(it->path());
        }
        if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
            fail("remove", path, errno);
        }
    } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        fail("remove", path, errno);
    }
}

bool rename_dir_into_place(const stdfs::path& from, const stdfs::path& to) {
    if (::rename(from.c_str(), to.c_str()) == 0) {
        return true;
    }
    const int err = errno;
    if (err != EEXIST && err != ENOTEMPTY) {
        fail("rename into place", to, err);
    }
    return false;
}

void remove_tree_quietly(const stdfs::path& path) noexcept {
    try {
        remove_tree(path);
    } catch (...) {
        // Nothing to report to: the caller is cleaning up after another failure.
    }
}

std::int64_t tree_size(const stdfs::path& root) {
    std::int64_t total = 0;
    std::set<std::pair<dev_t, ino_t>> seen;
    std::error_code ec;
    for (stdfs::recursive_directory_iterator it(root, ec), end; !ec && it != end;
         it.increment(ec)) {
        struct ::stat st {};
        if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            seen.emplace(st.st_dev, st.st_ino).second) {
            total += st.st_size;
        }
    }
    return total;
}

void copy_contents(int from, int to, const stdfs::path& source, const stdfs::path& target) {
    // copy_file_range shares extents or copies in the kernel; read/write where it cannot.
    for (;;) {
        const ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, std::size_t{1} << 30, 0);
        if (n == 0) {
            return;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
                break;
            }
            fail("copy " + util::quote(source.string()) + " to", target, errno);
        }
    }
    std::string buffer(1024 * 1024, '\0');
    for (;;) {
        const ssize_t n = ::read(from, buffer.data(), buffer.size());
        if (n == 0) {
            return;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("read", source, errno);
        }
        write_all(to, buffer.data(), static_cast<std::size_t>(n), target);
    }
}

}  // namespace xarch::oci::fs
