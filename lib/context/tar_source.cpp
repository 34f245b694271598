// SPDX-License-Identifier: Apache-2.0
// Tar contexts, extracted with libarchive's disk writer and its SECURE_* checks, plus checks of
// our own first so that a refused entry gets a message that names it.
#include "context/tar_source.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace xarch::context {
namespace {

struct ReadFree {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};
struct WriteFree {
    void operator()(archive* a) const noexcept { archive_write_free(a); }
};
using ReadArchive = std::unique_ptr<archive, ReadFree>;
using WriteArchive = std::unique_ptr<archive, WriteFree>;

constexpr std::size_t kBlock = 64 * 1024;

[[noreturn]] void bad_archive(archive* a, const std::string& what) {
    const char* detail = archive_error_string(a);
    throw Error(ErrorCode::kInvalidArgument,
                "cannot read the build context archive: " + what +
                    (detail != nullptr ? std::string(": ") + detail : std::string()));
}

// A member path that stays inside the tree: relative, no ".." component.
bool is_safe(std::string_view name) {
    if (name.empty() || name[0] == '/') {
        return false;
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t slash = name.find('/', start);
        if (slash == std::string_view::npos) {
            slash = name.size();
        }
        if (name.substr(start, slash - start) == "..") {
            return false;
        }
        start = slash + 1;
    }
    return true;
}

void extract(archive* in, const std::filesystem::path& dir) {
    WriteArchive out(archive_write_disk_new());
    if (!out) {
        throw std::bad_alloc();
    }
    // No ARCHIVE_EXTRACT_OWNER: files belong to whoever builds, as with `docker build -`.
    // Members are rewritten to absolute paths under `dir` (no chdir in a library), so absolute
    // paths are refused by is_safe() before that rather than by SECURE_NOABSOLUTEPATHS.
    archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                  ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    for (;;) {
        archive_entry* entry = nullptr;
        const int status = archive_read_next_header(in, &entry);
        if (status == ARCHIVE_EOF) {
            break;
        }
        if (status < ARCHIVE_WARN) {
            bad_archive(in, "bad header");
        }
        const char* raw = archive_entry_pathname(entry);
        std::string name = raw != nullptr ? raw : "";
        while (name.size() > 2 && name.compare(0, 2, "./") == 0) {
            name.erase(0, 2);
        }
        if (name == "." || name == "./") {
            continue;
        }
        if (!is_safe(name)) {
            throw Error(ErrorCode::kInvalidArgument,
                        "build context archive entry " + util::quote(name) +
                            " would be written outside the context (absolute path or \"..\")");
        }
        const mode_t type = archive_entry_filetype(entry);
        if (type == AE_IFCHR || type == AE_IFBLK) {
            throw Error(ErrorCode::kInvalidArgument,
                        "build context archive entry " + util::quote(name) +
                            " is a device node; a build context may not hold devices");
        }
        archive_entry_set_pathname(entry, (dir / name).c_str());
        if (const char* link = archive_entry_hardlink(entry); link != nullptr) {
            std::string target = link;
            while (target.size() > 2 && target.compare(0, 2, "./") == 0) {
                target.erase(0, 2);
            }
            if (!is_safe(target)) {
                throw Error(ErrorCode::kInvalidArgument,
                            "build context archive entry " + util::quote(name) +
                                " is a hard link to " + util::quote(target) +
                                ", outside the context");
            }
            archive_entry_set_hardlink(entry, (dir / target).c_str());
        }
        if (archive_write_header(out.get(), entry) < ARCHIVE_WARN) {
            throw Error(ErrorCode::kInvalidArgument, "cannot extract build context archive entry " +
                                                         util::quote(name) + ": " +
                                                         archive_error_string(out.get()));
        }
        if (archive_entry_size(entry) > 0) {
            const void* block = nullptr;
            size_t size = 0;
            la_int64_t offset = 0;
            for (;;) {
                const int r = archive_read_data_block(in, &block, &size, &offset);
                if (r == ARCHIVE_EOF) {
                    break;
                }
                if (r < ARCHIVE_WARN) {
                    bad_archive(in, "bad data for " + util::quote(name));
                }
                if (archive_write_data_block(out.get(), block, size, offset) < ARCHIVE_WARN) {
                    throw Error(ErrorCode::kIo, "cannot extract " + util::quote(name) + ": " +
                                                    archive_error_string(out.get()));
                }
            }
        }
        if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) {
            throw Error(ErrorCode::kIo, "cannot extract " + util::quote(name) + ": " +
                                            archive_error_string(out.get()));
        }
    }
    // Directory times and permissions are applied at close.
    if (archive_write_close(out.get()) != ARCHIVE_OK) {
        throw Error(ErrorCode::kIo, std::string("cannot finish extracting the build context: ") +
                                        archive_error_string(out.get()));
    }
}

ReadArchive open_reader() {
    ReadArchive a(archive_read_new());
    if (!a) {
        throw std::bad_alloc();
    }
    archive_read_support_format_tar(a.get());
    archive_read_support_filter_all(a.get());
    return a;
}

}  // namespace

TempTree::TempTree() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "xarch-context-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw Error(ErrorCode::kIo, "cannot make a temporary directory " + util::quote(pattern) +
                                        ": " + std::strerror(errno));
    }
    // Canonical, so that SECURE_SYMLINKS meets no symlink above the tree (a symlinked TMPDIR).
    std::error_code ec;
    path_ = std::filesystem::canonical(pattern, ec);
    if (ec) {
        path_ = pattern;
    }
}

TempTree::~TempTree() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::unique_ptr<TempTree> extract_tar_fd(int fd) {
    auto tree = std::make_unique<TempTree>();
    ReadArchive a = open_reader();
    if (archive_read_open_fd(a.get(), fd, kBlock) != ARCHIVE_OK) {
        bad_archive(a.get(), "not a tar stream");
    }
    extract(a.get(), tree->path());
    return tree;
}

std::unique_ptr<TempTree> extract_tar_file(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        throw Error(ErrorCode::kNotFound,
                    "build context archive " + util::quote(file.string()) + " is not a file");
    }
    auto tree = std::make_unique<TempTree>();
    ReadArchive a = open_reader();
    if (archive_read_open_filename(a.get(), file.c_str(), kBlock) != ARCHIVE_OK) {
        bad_archive(a.get(), util::quote(file.string()));
    }
    extract(a.get(), tree->path());
    return tree;
}

}  // namespace xarch::context
