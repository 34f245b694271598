// SPDX-License-Identifier: Apache-2.0
// Image archives written with libarchive, blobs streamed from the content store.
#include "exporter/image_archive.hpp"

#include <xarch/error.hpp>
#include <xarch/reference.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>

namespace xarch::exporter {
namespace {

struct ArchiveDeleter {
    void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct EntryDeleter {
    void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

[[noreturn]] void archive_failure(archive* a, std::string_view action) {
    const char* why = a != nullptr ? archive_error_string(a) : nullptr;
    std::string message = why != nullptr ? why : "out of memory";
    // libarchive's text for a failed write() is "Write error": the errno says which.
    if (const int err = a != nullptr ? archive_errno(a) : 0; err > 0) {
        message += std::string(" (") + std::strerror(err) + ")";
    }
    throw Error(ErrorCode::kIo, "cannot " + std::string(action) + " the image archive: " + message);
}

struct Member {
    bool directory = false;
    const std::string* bytes = nullptr;
    std::optional<Digest> blob;
    std::int64_t size = 0;
};

void write_header(archive* a, const std::string& name, const Member& member) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), member.directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), member.directory ? 0755 : 0644);
    archive_entry_set_size(entry.get(), member.directory ? 0 : member.size);
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
        archive_failure(a, "write");
    }
}

void write_data(archive* a, const void* data, std::size_t size) {
    if (size > 0 && archive_write_data(a, data, size) != static_cast<la_ssize_t>(size)) {
        archive_failure(a, "write");
    }
}

// The tag part of a name for org.opencontainers.image.ref.name, as containerd's
// ociReferenceName: the tag when the name has one, else the whole name.
std::string reference_name(const std::string& full_name) {
    try {
        const Reference ref = Reference::parse(full_name);
        if (ref.has_tag()) {
            return ref.tag();
        }
    } catch (const Error&) {
        // Not a reference: the name as given, as containerd does.
    }
    return full_name;
}

}  // namespace

ImageIndex archive_index(const Descriptor& root, const std::vector<std::string>& full_names) {
    ImageIndex index;
    if (full_names.empty()) {
        index.manifests.push_back(root);
        return index;
    }
    for (const auto& name : full_names) {
        Descriptor entry = root;
        entry.annotations["io.containerd.image.name"] = name;
        entry.annotations[std::string(annotation::kRefName)] = reference_name(name);
        index.manifests.push_back(std::move(entry));
    }
    return index;
}

void write_image_archive(int fd,
                         const OciLayout& store,
                         const std::vector<Descriptor>& blobs,
                         const std::vector<ArchiveFile>& files,
                         const std::function<bool()>& cancelled) {
    std::map<std::string, Member> members;
    for (const auto& file : files) {
        members[file.name] =
            Member{false, &file.bytes, std::nullopt, static_cast<std::int64_t>(file.bytes.size())};
    }
    for (const auto& blob : blobs) {
        const auto size = store.blob_size(blob.digest);
        if (!size) {
            if (media_type::is_nondistributable(blob.media_type)) {
                continue;
            }
            throw Error(ErrorCode::kNotFound,
                        "blob " + blob.digest.to_string() + " is missing from the content store " +
                            store.path().string() + "; build again to restore it");
        }
        const std::string algorithm(blob.digest.algorithm());
        members["blobs/"] = Member{true, nullptr, std::nullopt, 0};
        members["blobs/" + algorithm + "/"] = Member{true, nullptr, std::nullopt, 0};
        members["blobs/" + algorithm + "/" + std::string(blob.digest.hex())] =
            Member{false, nullptr, blob.digest, *size};
    }
    std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
    if (!a || archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
        archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) {
        archive_failure(a.get(), "start");
    }
    for (const auto& [name, member] : members) {
        if (cancelled && cancelled()) {
            throw Error(ErrorCode::kCancelled, "build cancelled");
        }
        write_header(a.get(), name, member);
        if (member.blob) {
            std::int64_t written = 0;
            store.read_blob(*member.blob, [&](std::span<const std::byte> bytes) {
                written += static_cast<std::int64_t>(bytes.size());
                if (written > member.size) {
                    throw Error(ErrorCode::kIo,
                                "blob " + member.blob->to_string() + " grew while being archived");
                }
                write_data(a.get(), bytes.data(), bytes.size());
            });
            if (written != member.size) {
                throw Error(ErrorCode::kIo,
                            "blob " + member.blob->to_string() + " shrank while being archived");
            }
        } else if (member.bytes != nullptr) {
            write_data(a.get(), member.bytes->data(), member.bytes->size());
        }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) {
        archive_failure(a.get(), "finish");
    }
}

}  // namespace xarch::exporter
