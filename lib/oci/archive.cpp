// SPDX-License-Identifier: Apache-2.0
// OCI archives: a layout in a tar file, written reproducibly and read without trusting it.
#include "oci/fs.hpp"
#include "oci/internal.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/oci_layout.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace xarch {

namespace stdfs = std::filesystem;
using util::quote;

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

struct ArchiveWriteDeleter {
    void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct ArchiveReadDeleter {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};
struct EntryDeleter {
    void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};
using WriteArchive = std::unique_ptr<archive, ArchiveWriteDeleter>;
using ReadArchive = std::unique_ptr<archive, ArchiveReadDeleter>;
using Entry = std::unique_ptr<archive_entry, EntryDeleter>;

[[noreturn]] void archive_failure(archive* a, std::string_view action, const stdfs::path& file) {
    const char* why = archive_error_string(a);
    std::string message = why != nullptr ? why : "unknown libarchive error";
    // libarchive's text for a failed write() is "Write error": the errno says which.
    if (const int err = archive_errno(a); err > 0) {
        message += std::string(" (") + std::strerror(err) + ")";
    }
    throw Error(ErrorCode::kIo, "cannot " + std::string(action) + " the OCI archive " +
                                    quote(file.string()) + ": " + message);
}

// One member of the archive being written: a directory, bytes in memory, or a blob of the layout.
struct Member {
    bool directory = false;
    std::string bytes;
    std::optional<Digest> blob;
    std::int64_t size = 0;
};

void write_header(archive* a,
                  const std::string& name,
                  const Member& member,
                  std::int64_t mtime,
                  const stdfs::path& file) {
    Entry entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), member.directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), member.directory ? 0755 : 0644);
    archive_entry_set_size(entry.get(), member.directory ? 0 : member.size);
    archive_entry_set_mtime(entry.get(), static_cast<time_t>(mtime), 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
        archive_failure(a, "write", file);
    }
}

void write_data(archive* a, const void* data, std::size_t size, const stdfs::path& file) {
    if (size > 0 && archive_write_data(a, data, size) != static_cast<la_ssize_t>(size)) {
        archive_failure(a, "write", file);
    }
}

}  // namespace

void write_oci_archive(const OciLayout& layout,
                       const stdfs::path& file,
                       const OciArchiveOptions& options) {
    std::vector<Descriptor> roots;
    std::string index_bytes;
    if (options.manifests.empty()) {
        index_bytes = layout.raw_index().bytes;
        roots = parse_index(index_bytes).manifests;
    } else {
        roots = options.manifests;
        ImageIndex subset;
        subset.manifests = options.manifests;
        index_bytes = subset.serialize();
    }

    // Entry names sorted as std::map keeps them, so the same layout gives the same bytes.
    std::map<std::string, Member> members;
    members["oci-layout"] = Member{false, oci::layout_header(), std::nullopt, 0};
    members["index.json"] = Member{false, index_bytes, std::nullopt, 0};
    members["blobs/"] = Member{true, {}, std::nullopt, 0};
    for (const auto& [digest, descriptor] : oci::reachable(layout, roots)) {
        const std::optional<std::int64_t> size = layout.blob_size(digest);
        if (!size) {
            if (media_type::is_nondistributable(descriptor.media_type)) {
                continue;
            }
            throw Error(ErrorCode::kNotFound,
                        "blob " + digest.to_string() + " (" + descriptor.media_type +
                            ") is referenced but missing from the OCI layout at " +
                            quote(layout.path().string()));
        }
        const std::string algorithm(digest.algorithm());
        members["blobs/" + algorithm + "/"] = Member{true, {}, std::nullopt, 0};
        members["blobs/" + algorithm + "/" + std::string(digest.hex())] =
            Member{false, {}, digest, *size};
    }
    for (auto& [name, member] : members) {
        if (!member.directory && !member.blob) {
            member.size = static_cast<std::int64_t>(member.bytes.size());
        }
    }

    const stdfs::path dir = file.parent_path().empty() ? stdfs::path(".") : file.parent_path();
    const stdfs::path temp = dir / ("." + file.filename().string() + oci::fs::temp_name());
    util::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
        oci::fs::fail("create", temp, errno);
    }
    try {
        WriteArchive a(archive_write_new());
        if (!a || archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
            archive_write_open_fd(a.get(), fd.get()) != ARCHIVE_OK) {
            archive_failure(a.get(), "start", file);
        }
        for (const auto& [name, member] : members) {
            write_header(a.get(), name, member, options.mtime, file);
            if (member.blob) {
                std::int64_t written = 0;
                layout.read_blob(*member.blob, [&](std::span<const std::byte> bytes) {
                    written += static_cast<std::int64_t>(bytes.size());
                    if (written > member.size) {
                        throw Error(ErrorCode::kIo, "blob " + member.blob->to_string() +
                                                        " grew while being archived");
                    }
                    write_data(a.get(), bytes.data(), bytes.size(), file);
                });
                if (written != member.size) {
                    throw Error(ErrorCode::kIo, "blob " + member.blob->to_string() +
                                                    " shrank while being archived");
                }
            } else if (!member.directory) {
                write_data(a.get(), member.bytes.data(), member.bytes.size(), file);
            }
        }
        if (archive_write_close(a.get()) != ARCHIVE_OK) {
            archive_failure(a.get(), "finish", file);
        }
        oci::fs::sync(fd.get(), temp);
        oci::fs::close(fd, temp);
        if (::rename(temp.c_str(), file.c_str()) != 0) {
            oci::fs::fail("rename into place", file, errno);
        }
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    oci::fs::sync_directory(dir);
}

namespace {

[[noreturn]] void hostile(const stdfs::path& file, const std::string& name, std::string_view why) {
    throw Error(ErrorCode::kInvalidArgument, "refusing the OCI archive " + quote(file.string()) +
                                                 ": entry " + quote(name) + " " + std::string(why));
}

// The entry name as path components, "./" and "." dropped; nullopt for a name that must not be
// accepted anywhere (absolute, with "..").
std::optional<std::vector<std::string>> components(std::string_view name) {
    if (name.empty() || name.front() == '/') {
        return std::nullopt;
    }
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t slash = name.find('/', start);
        if (slash == std::string_view::npos) {
            slash = name.size();
        }
        const std::string_view part = name.substr(start, slash - start);
        if (part == "..") {
            return std::nullopt;
        }
        if (!part.empty() && part != ".") {
            out.emplace_back(part);
        }
        start = slash + 1;
    }
    return out;
}

// The entry's content, at most `limit` bytes.
std::string read_small(archive* a,
                       const stdfs::path& file,
                       const std::string& name,
                       std::int64_t size,
                       std::size_t limit) {
    if (size < 0 || static_cast<std::uint64_t>(size) > limit) {
        hostile(file, name, "is too large (" + std::to_string(size) + " bytes)");
    }
    std::string out(static_cast<std::size_t>(size), '\0');
    std::size_t done = 0;
    while (done < out.size()) {
        const la_ssize_t n = archive_read_data(a, out.data() + done, out.size() - done);
        if (n < 0) {
            archive_failure(a, "read", file);
        }
        if (n == 0) {
            hostile(file, name, "is truncated");
        }
        done += static_cast<std::size_t>(n);
    }
    return out;
}

}  // namespace

ImageIndex read_oci_archive(const stdfs::path& file, OciLayout& layout) {
    ReadArchive a(archive_read_new());
    if (!a || archive_read_support_format_tar(a.get()) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(a.get()) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(a.get()) != ARCHIVE_OK) {
        archive_failure(a.get(), "set up reading", file);
    }
    if (archive_read_open_filename(a.get(), file.c_str(), kChunk) != ARCHIVE_OK) {
        const std::string why = archive_error_string(a.get()) ? archive_error_string(a.get()) : "";
        std::error_code ec;
        throw Error(stdfs::exists(file, ec) ? ErrorCode::kInvalidArgument : ErrorCode::kNotFound,
                    "cannot open the OCI archive " + quote(file.string()) + ": " + why);
    }

    bool has_layout = false;
    std::optional<std::string> index_bytes;
    std::vector<std::byte> buffer(kChunk);
    for (;;) {
        archive_entry* entry = nullptr;
        const int status = archive_read_next_header(a.get(), &entry);
        if (status == ARCHIVE_EOF) {
            break;
        }
        if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
            archive_failure(a.get(), "read", file);
        }
        const char* raw_name = archive_entry_pathname(entry);
        const std::string name = raw_name != nullptr ? raw_name : "";
        const std::optional<std::vector<std::string>> parts = components(name);
        if (!parts) {
            hostile(file, name, "has an absolute path or a \"..\" component");
        }
        if (archive_entry_hardlink(entry) != nullptr || archive_entry_symlink(entry) != nullptr) {
            hostile(file, name, "is a link; an OCI archive holds only files and directories");
        }
        const mode_t type = archive_entry_filetype(entry);
        if (type != AE_IFREG && type != AE_IFDIR) {
            hostile(file, name, "is a device, FIFO or socket");
        }
        const bool directory = type == AE_IFDIR;
        const std::int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
        const std::vector<std::string>& path = *parts;

        if (path.empty() || (path[0] == "blobs" && path.size() <= 2 && directory)) {
            continue;  // the root, blobs/, blobs/<alg>/
        }
        if (path.size() == 1 && path[0] == "oci-layout" && !directory) {
            oci::parse_layout_header(
                read_small(a.get(), file, name, size, oci::kMaxLayoutHeaderBytes));
            has_layout = true;
            continue;
        }
        if (path.size() == 1 && path[0] == "index.json" && !directory) {
            index_bytes = read_small(a.get(), file, name, size, oci::kMaxIndexBytes);
            continue;
        }
        if (path[0] == "blobs") {
            if (path.size() != 3 || directory) {
                hostile(file, name, "does not fit the blobs/<algorithm>/<digest> layout");
            }
            Digest digest;
            try {
                digest = Digest::parse(path[1] + ":" + path[2]);
            } catch (const Error& e) {
                hostile(file, name, std::string("is not named by a digest: ") + e.what());
            }
            if (size < 0) {
                hostile(file, name, "has no size");
            }
            Descriptor expected;
            expected.media_type = "application/octet-stream";
            expected.digest = digest;
            expected.size = size;
            if (layout.blob_size(digest) == size) {
                continue;  // present already; libarchive skips the data
            }
            BlobWriter writer = layout.blob_writer(expected);
            for (;;) {
                const la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
                if (n < 0) {
                    archive_failure(a.get(), "read", file);
                }
                if (n == 0) {
                    break;
                }
                writer.write(
                    std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)));
            }
            try {
                writer.commit();
            } catch (const Error& e) {
                if (e.code() != ErrorCode::kDigestMismatch) {
                    throw;
                }
                throw Error(ErrorCode::kDigestMismatch, "refusing the OCI archive " +
                                                            quote(file.string()) + ": entry " +
                                                            quote(name) + ": " + e.what());
            }
            continue;
        }
        // Anything else (Docker's manifest.json and repositories beside the layout) is not part
        // of the layout and is skipped unread.
    }

    if (!has_layout) {
        throw Error(ErrorCode::kInvalidArgument,
                    "not an OCI archive: " + quote(file.string()) + " has no oci-layout file");
    }
    if (!index_bytes) {
        throw Error(ErrorCode::kInvalidArgument,
                    "not an OCI archive: " + quote(file.string()) + " has no index.json");
    }
    ImageIndex index;
    try {
        index = parse_index(*index_bytes);
    } catch (const Error& e) {
        throw Error(ErrorCode::kInvalidArgument, "the OCI archive " + quote(file.string()) +
                                                     " has a bad index.json: " + e.what());
    }
    for (const Descriptor& manifest : index.manifests) {
        if (!layout.has_blob(manifest.digest)) {
            throw Error(ErrorCode::kInvalidArgument, "the OCI archive " + quote(file.string()) +
                                                         " lists " + manifest.digest.to_string() +
                                                         " in index.json but does not hold it");
        }
    }
    oci::update_index(layout, [&](ImageIndex& current) {
        for (const Descriptor& manifest : index.manifests) {
            const auto it = manifest.annotations.find(std::string(annotation::kRefName));
            oci::add_to_index(current, manifest,
                              it != manifest.annotations.end() ? it->second : std::string());
        }
    });
    return index;
}

}  // namespace xarch
