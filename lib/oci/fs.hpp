// SPDX-License-Identifier: Apache-2.0
// The POSIX file operations the layout and archive code is built on: descriptors closed on scope
// exit, whole writes, durable atomic replacement (temporary file, fsync, rename, fsync of the
// directory) and flock-based locks. Failures are Error(kIo) naming the path.
#pragma once

#include "util/unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace xarch::oci::fs {

namespace stdfs = std::filesystem;

// Every temporary file xarch makes in a layout starts with this, so that gc() can tell leftovers
// from content (blob names are digests and never start with '.').
inline constexpr std::string_view kTempPrefix = ".xarch-tmp-";

// close() with its error reported: a failed close can mean lost data (NFS).
void close(util::UniqueFd& fd, const stdfs::path& path);

// Error(kIo) "cannot <action> <path>: <strerror(err)>"; ENOENT gives kNotFound, EACCES/EPERM
// kPermissionDenied.
[[noreturn]] void fail(std::string_view action, const stdfs::path& path, int err);

// A fresh name for a temporary file: kTempPrefix + pid + counter + random.
std::string temp_name();

void write_all(int fd, const void* data, std::size_t size, const stdfs::path& path);
void sync(int fd, const stdfs::path& path);
// fsync of a directory, so that a rename or unlink in it survives a crash.
void sync_directory(const stdfs::path& dir);
// create_directories, then fsync of each parent that got a new entry.
void make_directories(const stdfs::path& dir);

// The whole file; nullopt when it does not exist. Error(kInvalidArgument) when it is larger than
// `max_bytes` (a hostile or corrupted layout).
std::optional<std::string> read_file(const stdfs::path& path, std::size_t max_bytes);

// Replace `target` with `bytes` so that readers see the old or the new content, never a mix, and
// the new content survives a crash once this returns.
void write_file_atomic(const stdfs::path& target, std::string_view bytes);

// Copies the rest of `from` into `to`: copy_file_range (the kernel copies, or shares extents
// where the filesystem can), read/write where it cannot. `source` and `target` name them in
// errors.
void copy_contents(int from, int to, const stdfs::path& source, const stdfs::path& target);

// Removes `path` and everything under it; each directory gets u+rwx before it is read (unpacked
// layers keep modes like 0555, overlayfs leaves work/work at 000). A missing path is no error.
void remove_tree(const stdfs::path& path);
// The same after another failure or in a destructor: what cannot go stays, silently (the
// cache's prune removes leftovers in its tmp/).
void remove_tree_quietly(const stdfs::path& path) noexcept;
// Renames the finished directory `from` to `to`: true when it moved; false when `to` is there
// already (another process or an earlier step made it first: theirs is whole, `from` stays for
// the caller to remove). Throws Error(kIo) for any other failure.
bool rename_dir_into_place(const stdfs::path& from, const stdfs::path& to);
// The apparent size of the regular files under `root`, each inode counted once.
std::int64_t tree_size(const stdfs::path& root);

// An flock() held until destruction.
class FileLock {
public:
    enum class Mode { kShared, kExclusive };
    // Blocks until the lock on `path` (created when missing) is granted.
    static FileLock acquire(const stdfs::path& path, Mode mode);

    FileLock(FileLock&&) noexcept = default;
    FileLock& operator=(FileLock&&) noexcept = default;

private:
    explicit FileLock(util::UniqueFd fd) : fd_(std::move(fd)) {}
    util::UniqueFd fd_;
};

}  // namespace xarch::oci::fs
