// SPDX-License-Identifier: Apache-2.0
// xarch::OciLayout: an OCI image layout directory (`oci-layout`, `index.json`,
// `blobs/<alg>/<encoded>`), written crash-safely and shared safely between processes; and OCI
// archives, a layout in a tar file.
#pragma once

#include <xarch/descriptor.hpp>
#include <xarch/digest.hpp>
#include <xarch/image_index.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch {

// Fills `buffer` with the next bytes of a blob and returns how many it wrote; 0 means the end.
using BlobReader = std::function<std::size_t(std::span<std::byte> buffer)>;
// Receives the bytes of a blob piece by piece.
using BlobSink = std::function<void(std::span<const std::byte> bytes)>;

// Writes one blob into a layout: the bytes go to a temporary file in blobs/<alg>/, and commit()
// checks them, fsyncs and renames the file into place, so that a blob under its digest's name is
// always complete and correct. Destroying a writer that was not committed removes the file.
// Move-only; one thread at a time.
class BlobWriter {
public:
    ~BlobWriter();
    BlobWriter(BlobWriter&&) noexcept;
    BlobWriter& operator=(BlobWriter&&) noexcept;
    BlobWriter(const BlobWriter&) = delete;
    BlobWriter& operator=(const BlobWriter&) = delete;

    // Throws Error(kDigestMismatch) as soon as more bytes arrive than the expected size,
    // Error(kIo) when the disk refuses.
    void write(std::span<const std::byte> bytes);
    void write(std::string_view bytes);
    // Checks size and digest against the expected descriptor (when there was one), then makes
    // the blob visible. Returns its descriptor: the expected one, or the media type given with
    // the digest and size computed. Throws Error(kDigestMismatch) (the blob never appears) or
    // Error(kIo). The writer is spent afterwards.
    Descriptor commit();
    // Bytes written so far.
    std::int64_t size() const noexcept;

    class Impl;

private:
    friend class OciLayout;
    explicit BlobWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// What OciLayout::gc() removed.
struct GcResult {
    std::vector<Digest> removed_blobs;
    // Bytes of the removed blobs and temporary files.
    std::int64_t freed_bytes = 0;
    // Temporary files left behind by writers that crashed.
    std::size_t removed_temp_files = 0;
};

// A handle on an OCI image layout directory; copies name the same directory.
//
// Concurrency: any number of readers and writers, in any processes. Blobs appear atomically
// (rename after verification), so readers never see a partial or wrong blob. index.json is
// replaced atomically (temporary file, fsync, rename) and every read-modify-write of it holds an
// exclusive flock on `.xarch.lock` in the layout, so concurrent add_manifest() calls all land.
// gc() holds the same lock; see there for what it may take from a concurrent writer.
class OciLayout {
public:
    // An existing layout. Throws Error(kNotFound) when `dir` or its oci-layout file is missing,
    // Error(kInvalidArgument) when oci-layout is not {"imageLayoutVersion": "1.0.0"}.
    static OciLayout open(const std::filesystem::path& dir);
    // A layout at `dir`: created with parents when missing (oci-layout, an empty index.json,
    // blobs/), else opened as open() does; an existing directory without oci-layout is made into
    // a layout. Throws Error(kIo) when the directory cannot be written.
    static OciLayout create(const std::filesystem::path& dir);

    const std::filesystem::path& path() const noexcept { return dir_; }

    // ---- blobs ----

    // Where the blob is (or would be) stored: blobs/<algorithm>/<encoded>.
    std::filesystem::path blob_path(const Digest& digest) const;
    bool has_blob(const Digest& digest) const;
    // The blob's size on disk, nullopt when absent.
    std::optional<std::int64_t> blob_size(const Digest& digest) const;
    // The whole blob, its digest verified. Throws Error(kNotFound) when absent,
    // Error(kDigestMismatch) when the file no longer matches its name.
    std::string read_blob(const Digest& digest) const;
    // The blob piece by piece to `sink`, in constant memory; the digest is checked at the end
    // (Error(kDigestMismatch) after the last piece when the file was corrupted on disk).
    void read_blob(const Digest& digest, const BlobSink& sink) const;

    // Store a blob that must match `expected` (digest and size). When the blob is present
    // already, nothing is read or written (its modification time is refreshed, see gc()).
    // Throws Error(kDigestMismatch), leaving no trace of the bad content, Error(kUnsupported)
    // for a digest algorithm xarch cannot compute, Error(kIo).
    void write_blob(const Descriptor& expected, std::string_view bytes);
    void write_blob(const Descriptor& expected, const BlobReader& source);
    // Store a blob whose digest is not known yet; returns its descriptor (media_type, sha256
    // digest, size).
    Descriptor store_blob(std::string media_type, std::string_view bytes);
    Descriptor store_blob(std::string media_type, const BlobReader& source);
    // The primitive under the functions above, for content that arrives in callbacks (an HTTP
    // body). With `expected` the result is verified against it.
    BlobWriter blob_writer(const Descriptor& expected);
    BlobWriter blob_writer(std::string media_type);

    // ---- index.json ----

    ImageIndex index() const;
    // The exact bytes of index.json.
    RawContent raw_index() const;
    // Replace index.json.
    void set_index(const ImageIndex& index);
    // Add a manifest (or index) descriptor to index.json. With a `ref_name` the descriptor gets
    // the org.opencontainers.image.ref.name annotation and replaces any entry that has the same
    // name (a tag moves); without one, an equal entry already present is not added twice. The
    // blob should be written first. Throws Error(kInvalidArgument) for a descriptor without a
    // digest or media type.
    void add_manifest(const Descriptor& descriptor, std::string_view ref_name = {});
    // The entry named `ref_name`, nullopt when none is.
    std::optional<Descriptor> resolve(std::string_view ref_name) const;
    // Remove the entries named `ref_name` / with this digest from index.json; returns how many.
    // The blobs stay until gc().
    std::size_t remove(std::string_view ref_name);
    std::size_t remove(const Digest& digest);

    // Remove the blobs that index.json does not reach (through indexes, manifests, their config,
    // layers and subject), and temporary files that crashed writers left. Blobs modified within
    // `keep_recent` are kept even when unreachable: a writer stores blobs before it adds the
    // manifest that references them, and writing a blob that is present refreshes its time, so a
    // grace period longer than such a writer's work protects it from a concurrent gc(). Throws
    // Error(kInvalidArgument) when a reachable manifest or index cannot be parsed, rather than
    // guessing what it references.
    GcResult gc(std::chrono::seconds keep_recent = std::chrono::seconds{0});

private:
    explicit OciLayout(std::filesystem::path dir) : dir_(std::move(dir)) {}
    std::filesystem::path dir_;
};

struct OciArchiveOptions {
    // The descriptors index.json of the archive lists, with everything they reach; empty means
    // the layout's own index.json, byte for byte.
    std::vector<Descriptor> manifests;
    // Modification time of every entry, seconds since the epoch (0 for reproducible archives).
    std::int64_t mtime = 0;
};

// Write `layout` (or the part options.manifests reaches) as an OCI archive: a plain tar with
// oci-layout, index.json and blobs/<alg>/<encoded>, entries sorted by name, uid/gid 0, modes
// 0644 and 0755, so the same content always gives the same bytes. The file is written next to
// `file` and renamed over it, so `file` is never half written. Nondistributable layers missing
// from the layout are left out; any other missing blob is Error(kNotFound).
void write_oci_archive(const OciLayout& layout,
                       const std::filesystem::path& file,
                       const OciArchiveOptions& options = {});

// Read an OCI archive (plain, gzip or zstd tar) into `layout`: blobs are verified against their
// names as they are extracted, then the archive's index.json entries are added to the layout's
// index (add_manifest(), keeping their ref names). Returns the archive's index. Throws
// Error(kInvalidArgument) for a hostile or malformed archive — an absolute path, a `..`
// component, a link or device entry, a file under blobs/ that is not named by a digest, no
// oci-layout, an unreadable index.json, a manifest it lists that is absent —,
// Error(kDigestMismatch) for a blob that does not match its name; nothing outside the layout is
// ever written.
ImageIndex read_oci_archive(const std::filesystem::path& file, OciLayout& layout);

}  // namespace xarch
