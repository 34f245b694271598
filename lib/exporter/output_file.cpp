// SPDX-License-Identifier: Apache-2.0
// Files and directories that replace their destination by rename, so that a failed export
// leaves the old output in place.
#include "exporter/output_file.hpp"

#include "oci/fs.hpp"
#include "util/quote.hpp"
#include "util/unique_fd.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace xarch::exporter {
namespace {

namespace stdfs = std::filesystem;

// `dest` absolute and without a trailing '/': "out/" names the directory "out".
stdfs::path clean_path(const stdfs::path& dest) {
    const stdfs::path absolute = stdfs::absolute(dest).lexically_normal();
    return absolute.has_filename() ? absolute : absolute.parent_path();
}

// Removes a tree, reporting nothing: used on paths that are already failures or leftovers.
void remove_quietly(const stdfs::path& path) noexcept {
    std::error_code ignored;
    stdfs::remove_all(path, ignored);
}

}  // namespace

void write_output_file(const stdfs::path& dest, const std::function<void(int fd)>& write) {
    if (dest == "-") {
        if (::isatty(STDOUT_FILENO) == 1) {
            throw Error(ErrorCode::kInvalidArgument,
                        "dest file is required: refusing to write a tar to the terminal; give "
                        "dest=FILE or redirect standard output");
        }
        write(STDOUT_FILENO);
        return;
    }
    std::error_code ec;
    if (stdfs::is_directory(dest, ec)) {
        throw Error(ErrorCode::kInvalidArgument, "destination file " + util::quote(dest.string()) +
                                                     " is a directory: give a file name");
    }
    const stdfs::path dir = clean_path(dest).parent_path();
    oci::fs::make_directories(dir);
    const stdfs::path temp = dir / oci::fs::temp_name();
    util::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
        oci::fs::fail("create", temp, errno);
    }
    try {
        write(fd.get());
        oci::fs::sync(fd.get(), temp);
        oci::fs::close(fd, temp);
        if (::rename(temp.c_str(), dest.c_str()) != 0) {
            oci::fs::fail("rename into place", dest, errno);
        }
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    oci::fs::sync_directory(dir);
}

void replace_directory(const stdfs::path& dest,
                       const std::function<void(const stdfs::path& dir)>& fill) {
    std::error_code ec;
    if (stdfs::exists(dest, ec) && !stdfs::is_directory(dest, ec)) {
        throw Error(
            ErrorCode::kInvalidArgument,
            "destination directory " + util::quote(dest.string()) + " is a file: give a directory");
    }
    const stdfs::path target = clean_path(dest);
    const stdfs::path parent = target.parent_path();
    oci::fs::make_directories(parent);
    const stdfs::path fresh = parent / oci::fs::temp_name();
    try {
        fill(fresh);
        if (!stdfs::exists(fresh)) {
            stdfs::create_directory(fresh);
        }
    } catch (...) {
        remove_quietly(fresh);
        throw;
    }
    const bool had_old = stdfs::exists(target, ec);
    const stdfs::path aside = parent / oci::fs::temp_name();
    if (had_old && ::rename(target.c_str(), aside.c_str()) != 0) {
        const int err = errno;
        remove_quietly(fresh);
        oci::fs::fail("move aside", target, err);
    }
    if (::rename(fresh.c_str(), target.c_str()) != 0) {
        const int err = errno;
        if (had_old) {
            ::rename(aside.c_str(), target.c_str());  // put the old output back
        }
        remove_quietly(fresh);
        oci::fs::fail("rename into place", target, err);
    }
    oci::fs::sync_directory(parent);
    if (had_old) {
        remove_quietly(aside);
    }
}

}  // namespace xarch::exporter
