// SPDX-License-Identifier: Apache-2.0
// ContextTar: the scanned context streamed as a tar, entry by entry, file content in chunks.
#include "drivers/docker/context_tar.hpp"

#include "layer/entry.hpp"
#include "layer/tar_header.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>

namespace xarch::drivers::docker {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDockerignore = ".dockerignore";

// docker/cli's randomSuffix: 20 hex digits.
std::string random_dockerfile_name() {
    std::random_device random;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name = ".dockerfile.";
    for (int i = 0; i < 20; ++i) {
        name += kHex[random() % 16];
    }
    return name;
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Seconds as Go's Time.Unix() gives them (rounded down, also before 1970).
std::int64_t seconds_of(std::int64_t ns) {
    constexpr std::int64_t kBillion = 1'000'000'000;
    return ns / kBillion - (ns % kBillion < 0 ? 1 : 0);
}

// The Dockerfile's path relative to `root` ('/'-separated), or "" when it lies outside.
std::string relative_inside(const fs::path& root, const fs::path& file) {
    std::error_code ec;
    const fs::path abs_root = fs::weakly_canonical(fs::absolute(root), ec);
    const fs::path abs_file = fs::weakly_canonical(fs::absolute(file), ec);
    const fs::path rel = abs_file.lexically_relative(abs_root);
    const std::string text = rel.generic_string();
    if (rel.empty() || text == "." || text == ".." || text.starts_with("../")) {
        return {};
    }
    return text;
}

const ContextEntry* find_entry(const std::vector<ContextEntry>& entries, std::string_view path) {
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [&](const ContextEntry& e) { return e.path == path; });
    return it == entries.end() ? nullptr : &*it;
}

std::string read_whole_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::kIo, "cannot read " + util::quote(path.string()) +
                                        " of the build context: " + std::strerror(errno));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::vector<ContextEntry>& scanned_entries(BuildContext& context) {
    try {
        return context.entries();
    } catch (const Error& e) {
        if (e.code() != ErrorCode::kInvalidArgument) {
            throw;
        }
    }
    return context.scan();
}

}  // namespace

ContextTar::ContextTar(BuildContext& context) : ContextTar(context, std::nullopt) {}

ContextTar::ContextTar(BuildContext& context,
                       std::optional<std::string> dockerfile_text,
                       ContextEntries entries)
    : root_(context.directory()) {
    // Whether `path` is sent, and as what: from the scan, or (walked) from the disk, since the
    // ignore rules always keep the Dockerfile and the .dockerignore (ignore_patterns()).
    std::function<std::optional<ContextEntryType>(std::string_view)> sent;
    if (entries == ContextEntries::kScanned) {
        entries_ = &scanned_entries(context);
        sent = [this](std::string_view path) -> std::optional<ContextEntryType> {
            const ContextEntry* entry = find_entry(*entries_, path);
            return entry != nullptr ? std::optional(entry->type) : std::nullopt;
        };
    } else {
        context::ScanRequest walk;
        walk.root = root_;
        walk.exclude_patterns = context.ignore_patterns();
        walk_ = std::make_unique<context::EntryStream>(std::move(walk));
        sent = [this](std::string_view path) -> std::optional<ContextEntryType> {
            std::error_code ec;
            const fs::file_status status = fs::symlink_status(root_ / path, ec);
            if (ec || !fs::exists(status)) {
                return std::nullopt;
            }
            return fs::is_directory(status)      ? ContextEntryType::kDirectory
                   : fs::is_regular_file(status) ? ContextEntryType::kRegular
                                                 : ContextEntryType::kOther;
        };
    }
    const std::optional<fs::path> dockerfile = context.dockerfile_path();
    if (dockerfile && !dockerfile_text) {
        const std::string rel = relative_inside(root_, *dockerfile);
        const std::optional<ContextEntryType> type = rel.empty() ? std::nullopt : sent(rel);
        if (type && *type != ContextEntryType::kDirectory) {
            dockerfile_name_ = rel;
            return;
        }
    }
    // Outside the context, given as text, or not among what is sent: a generated entry.
    dockerfile_name_ = random_dockerfile_name();
    const std::int64_t now = now_ns();
    if (sent(kDockerignore) == ContextEntryType::kRegular) {
        amend_dockerignore_ = true;
        dockerignore_suffix_ = "\n" + dockerfile_name_ + "\n";
    } else {
        extras_.push_back(
            {kDockerignore, std::string(kDockerignore) + "\n" + dockerfile_name_ + "\n", now});
    }
    extras_.push_back({dockerfile_name_,
                       dockerfile_text ? std::move(*dockerfile_text) : context.dockerfile_text(),
                       now});
}

void ContextTar::queue_memory_file(const std::string& path,
                                   const std::string& content,
                                   std::uint32_t mode,
                                   std::uint32_t uid,
                                   std::uint32_t gid,
                                   std::int64_t mtime_ns) {
    layer::Entry header;
    header.path = path;
    header.type = layer::EntryType::kRegular;
    header.mode = mode & 07777;
    header.uid = uid;
    header.gid = gid;
    const auto size = static_cast<std::int64_t>(content.size());
    pending_ = layer::tar_header(header, seconds_of(mtime_ns), size);
    pending_ += content;
    pending_.append(layer::tar_padding(size), '\0');
    pending_offset_ = 0;
}

void ContextTar::queue_header(const ContextEntry& entry,
                              std::int64_t size,
                              std::uint32_t type_bits) {
    layer::Entry header;
    header.path = entry.path;
    header.mode = entry.mode & 07777;
    header.uid = entry.uid;
    header.gid = entry.gid;
    switch (type_bits) {
        case S_IFDIR:
            header.type = layer::EntryType::kDirectory;
            break;
        case S_IFLNK:
            header.type = layer::EntryType::kSymlink;
            header.link_target = entry.link_target;
            break;
        case S_IFIFO:
            header.type = layer::EntryType::kFifo;
            break;
        case S_IFCHR:
        case S_IFBLK: {
            header.type = type_bits == S_IFCHR ? layer::EntryType::kCharDevice
                                               : layer::EntryType::kBlockDevice;
            struct stat st {};
            if (::lstat((root_ / entry.path).c_str(), &st) == 0) {
                header.dev_major = major(st.st_rdev);
                header.dev_minor = minor(st.st_rdev);
            }
            break;
        }
        default:
            header.type = layer::EntryType::kRegular;
            break;
    }
    pending_ = layer::tar_header(header, seconds_of(entry.mtime_ns), size);
    pending_offset_ = 0;
}

const ContextEntry* ContextTar::next_scanned() {
    if (entries_done_) {
        return nullptr;
    }
    if (entries_ != nullptr) {
        if (next_index_ < entries_->size()) {
            return &(*entries_)[next_index_++];
        }
    } else if (std::optional<ContextEntry> walked = walk_->next()) {
        walked_ = std::move(*walked);
        return &walked_;
    }
    entries_done_ = true;
    return nullptr;
}

bool ContextTar::next_entry() {
    while (const ContextEntry* next = next_scanned()) {
        const ContextEntry& entry = *next;
        switch (entry.type) {
            case ContextEntryType::kDirectory:
                queue_header(entry, 0, S_IFDIR);
                return true;
            case ContextEntryType::kSymlink:
                queue_header(entry, 0, S_IFLNK);
                return true;
            case ContextEntryType::kOther: {
                const std::uint32_t bits = entry.mode & S_IFMT;
                if (bits == S_IFIFO || bits == S_IFCHR || bits == S_IFBLK) {
                    queue_header(entry, 0, bits);
                    return true;
                }
                continue;  // sockets: Go's archive/tar cannot store them, docker skips them
            }
            case ContextEntryType::kRegular:
                break;
        }
        const fs::path path = root_ / entry.path;
        if (amend_dockerignore_ && entry.path == kDockerignore) {
            queue_memory_file(entry.path, read_whole_file(path) + dockerignore_suffix_, entry.mode,
                              entry.uid, entry.gid, entry.mtime_ns);
            return true;
        }
        if (entry.size > 0) {
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0) {
                const int err = errno;
                throw Error(err == EACCES ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
                            "cannot read " + util::quote(entry.path) +
                                " of the build context: " + std::strerror(err));
            }
            file_.reset(fd);
            file_path_ = entry.path;
            file_remaining_ = entry.size;
            file_size_ = entry.size;
        }
        queue_header(entry, entry.size, S_IFREG);
        return true;
    }
    if (next_extra_ < extras_.size()) {
        const Extra& e = extras_[next_extra_++];
        queue_memory_file(e.path, e.content, 0600, 0, 0, e.mtime_ns);
        return true;
    }
    if (!trailer_queued_) {
        // Go's tar.Writer.Close: two zero blocks end the archive.
        trailer_queued_ = true;
        pending_.assign(2 * layer::kTarBlock, '\0');
        pending_offset_ = 0;
        return true;
    }
    return false;
}

std::size_t ContextTar::read(char* buffer, std::size_t size) {
    std::size_t filled = 0;
    while (filled < size) {
        if (pending_offset_ < pending_.size()) {
            const std::size_t n = std::min(size - filled, pending_.size() - pending_offset_);
            std::memcpy(buffer + filled, pending_.data() + pending_offset_, n);
            pending_offset_ += n;
            filled += n;
            continue;
        }
        if (file_remaining_ > 0) {
            const std::size_t want =
                std::min<std::size_t>(size - filled, static_cast<std::size_t>(file_remaining_));
            const ssize_t n = ::read(file_.get(), buffer + filled, want);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                throw Error(ErrorCode::kIo, "cannot read " + util::quote(file_path_) +
                                                " of the build context: " + std::strerror(errno));
            }
            if (n == 0) {
                throw Error(ErrorCode::kIo,
                            util::quote(file_path_) +
                                " of the build context shrank while it was "
                                "sent (" +
                                std::to_string(file_size_) + " bytes when scanned, " +
                                std::to_string(file_size_ - file_remaining_) +
                                " now); run the build again once it stops changing");
            }
            filled += static_cast<std::size_t>(n);
            file_remaining_ -= n;
            if (file_remaining_ == 0) {
                file_.reset();
                pending_.assign(layer::tar_padding(file_size_), '\0');
                pending_offset_ = 0;
            }
            continue;
        }
        if (!next_entry()) {
            break;
        }
    }
    bytes_read_ += static_cast<std::int64_t>(filled);
    return filled;
}

}  // namespace xarch::drivers::docker
