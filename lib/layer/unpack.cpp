// SPDX-License-Identifier: Apache-2.0
// unpack_layer: the blob is decompressed here (zlib, libzstd) so that the uncompressed tar can be
// hashed on the way for the diff_id check; libarchive parses the tar; files are created by hand
// so every path is checked against the entries extracted before it.
#include "layer/unpack.hpp"

#include "util/quote.hpp"
#include "util/unique_fd.hpp"

#include <xarch/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <system_error>

namespace xarch::layer {
namespace {

namespace stdfs = std::filesystem;

constexpr std::size_t kChunk = 256 * 1024;

[[noreturn]] void io_failure(const std::string& action, const stdfs::path& path) {
    throw Error(ErrorCode::kIo, "cannot " + action + " " + util::quote(path.string()) + ": " +
                                    std::strerror(errno));
}

// The uncompressed tar stream of a blob, hashed as it is read.
class TarStream {
public:
    explicit TarStream(const BlobReader& source) : source_(source), input_(kChunk, '\0') {}
    ~TarStream() {
        if (gzip_started_) {
            inflateEnd(&gzip_);
        }
        ZSTD_freeDStream(zstd_);
    }
    TarStream(const TarStream&) = delete;
    TarStream& operator=(const TarStream&) = delete;

    // Up to `size` bytes of tar into `buffer`; 0 at the end.
    std::size_t read(char* buffer, std::size_t size) {
        if (!detected_) {
            detect();
        }
        std::size_t n = 0;
        switch (kind_) {
            case Kind::kPlain:
                n = read_plain(buffer, size);
                break;
            case Kind::kGzip:
                n = read_gzip(buffer, size);
                break;
            case Kind::kZstd:
                n = read_zstd(buffer, size);
                break;
        }
        hasher_.update(std::string_view(buffer, n));
        return n;
    }

    // Reads what is left (the zero blocks after the end of the archive) and returns the digest.
    Digest finish() {
        std::string rest(kChunk, '\0');
        while (read(rest.data(), rest.size()) > 0) {
        }
        return hasher_.finish();
    }

private:
    enum class Kind { kPlain, kGzip, kZstd };

    bool fill() {
        if (pos_ < end_) {
            return true;
        }
        if (eof_) {
            return false;
        }
        const std::size_t n =
            source_(std::span(reinterpret_cast<std::byte*>(input_.data()), input_.size()));
        pos_ = 0;
        end_ = n;
        eof_ = n == 0;
        return n > 0;
    }

    void detect() {
        detected_ = true;
        // Gather at least four bytes for the magic numbers.
        while (!eof_ && end_ < 4) {
            const std::size_t n = source_(std::span(
                reinterpret_cast<std::byte*>(input_.data() + end_), input_.size() - end_));
            if (n == 0) {
                eof_ = true;
            }
            end_ += n;
        }
        const auto* b = reinterpret_cast<const unsigned char*>(input_.data());
        if (end_ >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
            kind_ = Kind::kGzip;
            std::memset(&gzip_, 0, sizeof gzip_);
            if (inflateInit2(&gzip_, 16 + 15) != Z_OK) {
                throw std::bad_alloc();
            }
            gzip_started_ = true;
        } else if (end_ >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
            kind_ = Kind::kZstd;
            zstd_ = ZSTD_createDStream();
            if (zstd_ == nullptr) {
                throw std::bad_alloc();
            }
        }
    }

    std::size_t read_plain(char* buffer, std::size_t size) {
        if (!fill()) {
            return 0;
        }
        const std::size_t n = std::min(size, end_ - pos_);
        std::memcpy(buffer, input_.data() + pos_, n);
        pos_ += n;
        return n;
    }

    std::size_t read_gzip(char* buffer, std::size_t size) {
        for (;;) {
            if (member_done_) {
                // Another gzip member may follow (pigz, concatenated files).
                if (!fill()) {
                    return 0;
                }
                inflateReset(&gzip_);
                member_done_ = false;
            }
            if (pos_ == end_ && !fill()) {
                throw Error(ErrorCode::kInvalidArgument,
                            "layer blob ends in the middle of its gzip stream");
            }
            gzip_.next_in = reinterpret_cast<Bytef*>(input_.data() + pos_);
            gzip_.avail_in = static_cast<uInt>(end_ - pos_);
            gzip_.next_out = reinterpret_cast<Bytef*>(buffer);
            gzip_.avail_out = static_cast<uInt>(size);
            const int status = inflate(&gzip_, Z_NO_FLUSH);
            pos_ = end_ - gzip_.avail_in;
            if (status == Z_STREAM_END) {
                member_done_ = true;
            } else if (status != Z_OK && status != Z_BUF_ERROR) {
                throw Error(ErrorCode::kInvalidArgument,
                            std::string("layer blob is not valid gzip: ") +
                                (gzip_.msg != nullptr ? gzip_.msg : "inflate failed"));
            }
            const std::size_t n = size - gzip_.avail_out;
            if (n > 0) {
                return n;
            }
        }
    }

    std::size_t read_zstd(char* buffer, std::size_t size) {
        for (;;) {
            if (pos_ == end_ && !fill()) {
                if (zstd_pending_) {
                    throw Error(ErrorCode::kInvalidArgument,
                                "layer blob ends in the middle of its zstd stream");
                }
                return 0;
            }
            ZSTD_inBuffer in{input_.data(), end_, pos_};
            ZSTD_outBuffer out{buffer, size, 0};
            const std::size_t status = ZSTD_decompressStream(zstd_, &out, &in);
            if (ZSTD_isError(status) != 0) {
                throw Error(
                    ErrorCode::kInvalidArgument,
                    std::string("layer blob is not valid zstd: ") + ZSTD_getErrorName(status));
            }
            pos_ = in.pos;
            zstd_pending_ = status != 0;
            if (out.pos > 0) {
                return out.pos;
            }
        }
    }

    const BlobReader& source_;
    std::string input_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    bool eof_ = false;
    bool detected_ = false;
    Kind kind_ = Kind::kPlain;
    z_stream gzip_{};
    bool gzip_started_ = false;
    bool member_done_ = false;
    ZSTD_DStream* zstd_ = nullptr;
    bool zstd_pending_ = false;
    Hasher hasher_;
};

struct ArchiveReader {
    TarStream* stream;
    std::string buffer;
    std::exception_ptr error;
};

la_ssize_t read_callback(archive* a, void* data, const void** block) {
    auto* reader = static_cast<ArchiveReader*>(data);
    try {
        const std::size_t n = reader->stream->read(reader->buffer.data(), reader->buffer.size());
        *block = reader->buffer.data();
        return static_cast<la_ssize_t>(n);
    } catch (...) {
        reader->error = std::current_exception();
        archive_set_error(a, EIO, "reading the layer blob failed");
        return -1;
    }
}

struct ReadFree {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};

// "./a//b/" → "a/b"; nullopt for the root itself; Error for absolute paths and "..".
std::optional<std::string> clean_member(const std::string& raw, const std::string& entry_name) {
    if (!raw.empty() && raw.front() == '/') {
        throw Error(ErrorCode::kInvalidArgument,
                    "layer entry " + util::quote(entry_name) +
                        " has an absolute path; a layer may only hold relative paths");
    }
    std::string out;
    std::size_t start = 0;
    while (start <= raw.size()) {
        std::size_t slash = raw.find('/', start);
        if (slash == std::string::npos) {
            slash = raw.size();
        }
        const std::string_view part(raw.data() + start, slash - start);
        if (part == "..") {
            throw Error(ErrorCode::kInvalidArgument,
                        "layer entry " + util::quote(entry_name) +
                            " has a \"..\" component and would be written outside the layer");
        }
        if (!part.empty() && part != ".") {
            if (!out.empty()) {
                out += '/';
            }
            out += part;
        }
        start = slash + 1;
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

EntryType entry_type(archive_entry* entry) {
    if (archive_entry_hardlink(entry) != nullptr) {
        return EntryType::kHardlink;
    }
    switch (archive_entry_filetype(entry)) {
        case AE_IFDIR:
            return EntryType::kDirectory;
        case AE_IFLNK:
            return EntryType::kSymlink;
        case AE_IFCHR:
            return EntryType::kCharDevice;
        case AE_IFBLK:
            return EntryType::kBlockDevice;
        case AE_IFIFO:
            return EntryType::kFifo;
        default:
            return EntryType::kRegular;
    }
}

void set_times(const stdfs::path& path, std::int64_t mtime_ns, bool follow) {
    timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = static_cast<time_t>(mtime_ns / 1'000'000'000);
    times[1].tv_nsec = static_cast<long>(mtime_ns % 1'000'000'000);
    if (times[1].tv_nsec < 0) {
        times[1].tv_nsec += 1'000'000'000;
        times[1].tv_sec -= 1;
    }
    if (::utimensat(AT_FDCWD, path.c_str(), times, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
        io_failure("set the modification time of", path);
    }
}

class Extractor {
public:
    explicit Extractor(stdfs::path dir) : dir_(std::move(dir)), root_(::geteuid() == 0) {}

    void add(archive* in, archive_entry* header) {
        const char* raw = archive_entry_pathname(header);
        if (raw == nullptr) {
            raw = archive_entry_pathname_utf8(header);
        }
        const std::string raw_name = raw != nullptr ? raw : "";
        const std::optional<std::string> name = clean_member(raw_name, raw_name);
        if (!name) {
            return;  // "./": the root, which is `dir` itself
        }
        check_parents(*name, raw_name);

        Entry entry;
        entry.path = *name;
        entry.type = entry_type(header);
        entry.mode = static_cast<std::uint32_t>(archive_entry_perm(header)) & 07777;
        entry.uid = static_cast<std::uint32_t>(archive_entry_uid(header));
        entry.gid = static_cast<std::uint32_t>(archive_entry_gid(header));
        // Saturated: a PAX mtime can be beyond what nanoseconds in 64 bits hold (year 2262).
        const auto seconds =
            std::clamp<std::int64_t>(archive_entry_mtime(header), -9'000'000'000, 9'000'000'000);
        entry.mtime_ns = seconds * 1'000'000'000 + archive_entry_mtime_nsec(header);
        if (entry.type == EntryType::kCharDevice || entry.type == EntryType::kBlockDevice) {
            entry.dev_major = static_cast<std::uint32_t>(archive_entry_rdevmajor(header));
            entry.dev_minor = static_cast<std::uint32_t>(archive_entry_rdevminor(header));
        }
        archive_entry_xattr_reset(header);
        const char* xattr_name = nullptr;
        const void* xattr_value = nullptr;
        size_t xattr_size = 0;
        while (archive_entry_xattr_next(header, &xattr_name, &xattr_value, &xattr_size) ==
               ARCHIVE_OK) {
            entry.xattrs[xattr_name] =
                std::string(static_cast<const char*>(xattr_value), xattr_size);
        }

        const stdfs::path target = dir_ / entry.path;
        replace_existing(entry, target);
        switch (entry.type) {
            case EntryType::kRegular:
                write_file(in, header, entry, target);
                entry.source_file = target;
                break;
            case EntryType::kDirectory:
                if (::mkdir(target.c_str(), 0700) != 0 && errno != EEXIST) {
                    io_failure("create directory", target);
                }
                ::chmod(target.c_str(), (entry.mode | 0700) & 07777);
                break;
            case EntryType::kSymlink: {
                const char* link = archive_entry_symlink(header);
                entry.link_target = link != nullptr ? link : "";
                if (::symlink(entry.link_target.c_str(), target.c_str()) != 0) {
                    io_failure("create symlink", target);
                }
                set_times(target, entry.mtime_ns, false);
                break;
            }
            case EntryType::kHardlink: {
                const std::optional<std::string> linked =
                    clean_member(archive_entry_hardlink(header), raw_name);
                const auto found = linked ? entries_.find(*linked) : entries_.end();
                if (found == entries_.end() || found->second.type == EntryType::kDirectory) {
                    throw Error(ErrorCode::kInvalidArgument,
                                "layer entry " + util::quote(raw_name) + " is a hard link to " +
                                    util::quote(archive_entry_hardlink(header)) +
                                    ", which is not a file extracted before it");
                }
                entry.link_target = *linked;
                if (::link(found->second.source_file.empty() ? (dir_ / *linked).c_str()
                                                             : found->second.source_file.c_str(),
                           target.c_str()) != 0) {
                    io_failure("create hard link", target);
                }
                entry.size = found->second.size;
                entry.source_file = target;
                break;
            }
            case EntryType::kFifo:
            case EntryType::kCharDevice:
            case EntryType::kBlockDevice:
                // Recorded only: unprivileged users cannot make devices.
                break;
        }
        entries_[entry.path] = std::move(entry);
    }

    // Directory modes and times last, deepest first, so that writing into them is done.
    void finish() {
        for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
            const Entry& entry = it->second;
            if (entry.type != EntryType::kDirectory) {
                continue;
            }
            const stdfs::path target = dir_ / entry.path;
            if (::chmod(target.c_str(), disk_mode(entry)) != 0) {
                io_failure("set the mode of", target);
            }
            set_times(target, entry.mtime_ns, true);
        }
    }

    std::vector<Entry> take() {
        std::vector<Entry> out;
        out.reserve(entries_.size());
        for (auto& [path, entry] : entries_) {
            out.push_back(std::move(entry));
        }
        return out;
    }

private:
    // Every parent must be a directory extracted before (or one made implicitly here): never a
    // symlink or file, which could lead outside `dir`.
    void check_parents(const std::string& name, const std::string& raw_name) {
        std::size_t slash = name.find('/');
        while (slash != std::string::npos) {
            const std::string parent = name.substr(0, slash);
            const auto found = entries_.find(parent);
            if (found != entries_.end()) {
                if (found->second.type != EntryType::kDirectory) {
                    throw Error(ErrorCode::kInvalidArgument,
                                "layer entry " + util::quote(raw_name) + " is under " +
                                    util::quote(parent) +
                                    ", which is not a directory (a symlink could lead outside "
                                    "the layer)");
                }
            } else if (!implicit_dirs_.contains(parent)) {
                const stdfs::path target = dir_ / parent;
                if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
                    io_failure("create directory", target);
                }
                implicit_dirs_.emplace(parent, true);
            }
            slash = name.find('/', slash + 1);
        }
    }

    // A later entry with the same path replaces the earlier one (two directories merge).
    void replace_existing(const Entry& entry, const stdfs::path& target) {
        const auto found = entries_.find(entry.path);
        if (found == entries_.end()) {
            if (implicit_dirs_.contains(entry.path) && entry.type != EntryType::kDirectory) {
                remove_tree(entry.path, target);
            }
            return;
        }
        if (found->second.type == EntryType::kDirectory && entry.type == EntryType::kDirectory) {
            return;
        }
        remove_tree(entry.path, target);
    }

    void remove_tree(const std::string& path, const stdfs::path& target) {
        std::error_code ec;
        // Subdirectories may lack u+w at this point only if their mode was set: that happens at
        // finish(), so they are still writable here.
        stdfs::remove_all(target, ec);
        if (ec) {
            throw Error(ErrorCode::kIo,
                        "cannot replace " + util::quote(target.string()) + ": " + ec.message());
        }
        entries_.erase(path);
        const std::string prefix = path + "/";
        entries_.erase(entries_.lower_bound(prefix), entries_.lower_bound(path + "0"));
        implicit_dirs_.erase(path);
        implicit_dirs_.erase(implicit_dirs_.lower_bound(prefix),
                             implicit_dirs_.lower_bound(path + "0"));
    }

    void write_file(archive* in, archive_entry* header, Entry& entry, const stdfs::path& target) {
        util::UniqueFd fd(
            ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd) {
            io_failure("create", target);
        }
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        for (;;) {
            const int status = archive_read_data_block(in, &block, &size, &offset);
            if (status == ARCHIVE_EOF) {
                break;
            }
            if (status < ARCHIVE_WARN) {
                throw Error(ErrorCode::kInvalidArgument, "cannot read the data of layer entry " +
                                                             util::quote(entry.path) + ": " +
                                                             archive_error_string(in));
            }
            const char* data = static_cast<const char*>(block);
            while (size > 0) {
                const ssize_t n = ::pwrite(fd.get(), data, size, offset);
                if (n < 0) {
                    if (errno == EINTR) {
                        continue;
                    }
                    io_failure("write", target);
                }
                data += n;
                size -= static_cast<size_t>(n);
                offset += n;
            }
        }
        entry.size = archive_entry_size(header);
        if (::ftruncate(fd.get(), entry.size) != 0) {
            io_failure("write", target);
        }
        if (::fchmod(fd.get(), disk_mode(entry)) != 0) {
            io_failure("set the mode of", target);
        }
        set_times(target, entry.mtime_ns, true);
        if (fd.close() != 0) {
            io_failure("write", target);
        }
    }

    // The entry's mode, except that an unprivileged owner keeps read access (u+r, and u+x on
    // directories) so the layer can be read back: RHEL's /etc/shadow is mode 0000. The entries
    // keep the real mode, which is what layers and exports use.
    std::uint32_t disk_mode(const Entry& entry) const {
        std::uint32_t mode = entry.mode & 07777;
        if (!root_) {
            mode |= entry.type == EntryType::kDirectory ? 0500 : 0400;
        }
        return mode;
    }

    stdfs::path dir_;
    bool root_;
    std::map<std::string, Entry> entries_;
    std::map<std::string, bool> implicit_dirs_;
};

}  // namespace

std::vector<Entry> unpack_layer(const BlobReader& source,
                                const std::filesystem::path& dir,
                                const std::optional<Digest>& expected_diff_id) {
    std::error_code ec;
    if (!dir.parent_path().empty()) {
        stdfs::create_directories(dir.parent_path(), ec);
    }
    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno == EEXIST) {
            throw Error(ErrorCode::kAlreadyExists, "cannot unpack a layer into " +
                                                       util::quote(dir.string()) +
                                                       ": it exists already; give a new directory");
        }
        io_failure("create directory", dir);
    }

    TarStream stream(source);
    ArchiveReader reader{&stream, std::string(kChunk, '\0'), nullptr};
    std::unique_ptr<archive, ReadFree> in(archive_read_new());
    if (!in) {
        throw std::bad_alloc();
    }
    archive_read_support_format_tar(in.get());
    if (archive_read_open(in.get(), &reader, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
        if (reader.error) {
            std::rethrow_exception(reader.error);
        }
        throw Error(ErrorCode::kInvalidArgument, std::string("layer blob is not a tar archive: ") +
                                                     archive_error_string(in.get()));
    }
    Extractor extractor(dir);
    for (;;) {
        archive_entry* header = nullptr;
        const int status = archive_read_next_header(in.get(), &header);
        if (status == ARCHIVE_EOF) {
            break;
        }
        if (reader.error) {
            std::rethrow_exception(reader.error);
        }
        if (status < ARCHIVE_WARN) {
            throw Error(ErrorCode::kInvalidArgument,
                        std::string("layer blob is not a valid tar archive: ") +
                            archive_error_string(in.get()));
        }
        extractor.add(in.get(), header);
        if (reader.error) {
            std::rethrow_exception(reader.error);
        }
    }
    extractor.finish();
    const Digest diff_id = stream.finish();
    if (expected_diff_id && diff_id != *expected_diff_id) {
        throw Error(ErrorCode::kDigestMismatch,
                    "layer content has diff_id " + diff_id.to_string() + " but " +
                        expected_diff_id->to_string() +
                        " was expected; the blob is corrupt or not the layer named");
    }
    return extractor.take();
}

}  // namespace xarch::layer
