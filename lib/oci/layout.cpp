// SPDX-License-Identifier: Apache-2.0
// The OCI image layout on disk (image-layout.md), written the way a crash or a concurrent writer
// can never corrupt: blobs through a verified temporary file and a rename, index.json through an
// atomic replacement under an exclusive flock.
#include "oci/fs.hpp"
#include "oci/internal.hpp"
#include "oci/json.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/oci_layout.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>
#include <vector>

namespace xarch {

namespace stdfs = std::filesystem;
using util::quote;

namespace {

constexpr std::string_view kLayoutFile = "oci-layout";
constexpr std::string_view kIndexFile = "index.json";
constexpr std::string_view kBlobsDir = "blobs";
// Serializes the read-modify-write cycles of index.json, and gc() against them. A separate file
// because index.json itself is replaced by rename, which would leave a lock on the old inode.
constexpr std::string_view kLockFile = ".xarch.lock";
constexpr std::size_t kChunk = std::size_t{1} << 20;
// A temporary blob younger than this is never taken for a crashed writer's leftover, even when
// unlocked: a writer creates its file and locks it in two steps.
constexpr std::time_t kTempGraceSeconds = 10;

stdfs::path lock_path(const stdfs::path& dir) {
    return dir / kLockFile;
}

ImageIndex empty_index() {
    return ImageIndex{};
}

// Set the blob's modification time to now: it was just asked for, so gc() should see it as
// recent. Best effort: a read-only layout keeps working for writes of blobs it already has.
void touch(const stdfs::path& path) {
    ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
}

void require_digest(const Digest& digest) {
    if (digest.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "a blob needs a digest, and this one is empty");
    }
}

}  // namespace

namespace oci {

void parse_layout_header(std::string_view text) {
    const json::bj::value document = json::parse_document(text, "oci-layout");
    const json::Reader reader("oci-layout", Validation::kSchema);
    const auto& object = reader.object(document, "");
    const std::string version =
        reader.string(reader.required(object, "imageLayoutVersion", ""), "imageLayoutVersion");
    if (version != "1.0.0") {
        reader.fail("imageLayoutVersion", "must be \"1.0.0\", got " + quote(version));
    }
}

std::string layout_header() {
    return R"({"imageLayoutVersion":"1.0.0"})";
}

void add_to_index(ImageIndex& index, Descriptor descriptor, std::string_view ref_name) {
    if (descriptor.digest.empty() || descriptor.media_type.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "a manifest added to an OCI layout needs a digest and a media type");
    }
    const std::string key(annotation::kRefName);
    if (!ref_name.empty()) {
        descriptor.annotations[key] = std::string(ref_name);
        std::erase_if(index.manifests, [&](const Descriptor& entry) {
            const auto it = entry.annotations.find(key);
            return it != entry.annotations.end() && it->second == ref_name;
        });
    } else if (std::find(index.manifests.begin(), index.manifests.end(), descriptor) !=
               index.manifests.end()) {
        return;
    }
    index.manifests.push_back(std::move(descriptor));
}

void update_index(const OciLayout& layout, const std::function<void(ImageIndex&)>& change) {
    const fs::FileLock lock =
        fs::FileLock::acquire(lock_path(layout.path()), fs::FileLock::Mode::kExclusive);
    const stdfs::path file = layout.path() / kIndexFile;
    const std::optional<std::string> bytes = fs::read_file(file, kMaxIndexBytes);
    ImageIndex index = bytes ? parse_index(*bytes) : empty_index();
    change(index);
    fs::write_file_atomic(file, index.serialize());
}

std::map<Digest, Descriptor> reachable(const OciLayout& layout, std::span<const Descriptor> roots) {
    std::map<Digest, Descriptor> seen;
    std::vector<Descriptor> pending(roots.rbegin(), roots.rend());
    while (!pending.empty()) {
        Descriptor current = std::move(pending.back());
        pending.pop_back();
        if (current.digest.empty() || seen.contains(current.digest)) {
            continue;
        }
        seen.emplace(current.digest, current);
        const bool index = media_type::is_index(current.media_type);
        const bool manifest = media_type::is_manifest(current.media_type);
        if ((!index && !manifest) || !layout.has_blob(current.digest)) {
            continue;
        }
        const std::optional<std::int64_t> size = layout.blob_size(current.digest);
        if (size && static_cast<std::uint64_t>(*size) > kMaxManifestBytes) {
            throw Error(ErrorCode::kInvalidArgument,
                        "the " + std::string(index ? "index " : "manifest ") +
                            current.digest.to_string() + " in the OCI layout at " +
                            quote(layout.path().string()) +
                            " is too large: " + std::to_string(*size) + " bytes");
        }
        std::vector<Descriptor> children;
        try {
            const std::string bytes = layout.read_blob(current.digest);
            if (index) {
                ImageIndex parsed = parse_index(bytes, current.media_type);
                children = std::move(parsed.manifests);
                if (parsed.subject) {
                    children.push_back(std::move(*parsed.subject));
                }
            } else {
                Manifest parsed = parse_manifest(bytes, current.media_type);
                children.push_back(std::move(parsed.config));
                for (Descriptor& layer : parsed.layers) {
                    children.push_back(std::move(layer));
                }
                if (parsed.subject) {
                    children.push_back(std::move(*parsed.subject));
                }
            }
        } catch (const Error& e) {
            throw Error(
                e.code() == ErrorCode::kDigestMismatch ? e.code() : ErrorCode::kInvalidArgument,
                "cannot follow " + current.digest.to_string() + " in the OCI layout at " +
                    quote(layout.path().string()) + ": " + e.what());
        }
        pending.insert(pending.end(), std::make_move_iterator(children.rbegin()),
                       std::make_move_iterator(children.rend()));
    }
    return seen;
}

}  // namespace oci

// ---- BlobWriter ----

class BlobWriter::Impl {
public:
    Impl(const stdfs::path& layout_dir,
         std::optional<Descriptor> expected,
         std::string media_type,
         DigestAlgorithm algorithm)
        : expected_(std::move(expected)), media_type_(std::move(media_type)), hasher_(algorithm) {
        if (expected_) {
            require_digest(expected_->digest);
            verifier_.emplace(expected_->digest, expected_->size);
            algorithm_name_ = std::string(expected_->digest.algorithm());
        } else {
            algorithm_name_ = std::string(to_string(algorithm));
        }
        dir_ = layout_dir / kBlobsDir / algorithm_name_;
        oci::fs::make_directories(dir_);
        temp_ = dir_ / oci::fs::temp_name();
        fd_ = util::UniqueFd(::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (!fd_) {
            oci::fs::fail("create", temp_, errno);
        }
        // Held until the file is renamed or removed: gc() leaves a locked temporary file alone.
        ::flock(fd_.get(), LOCK_EX | LOCK_NB);
    }

    ~Impl() { abandon(); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void write(std::span<const std::byte> bytes) {
        if (done_) {
            throw Error(ErrorCode::kInternal, "blob writer used after commit()");
        }
        if (verifier_) {
            try {
                verifier_->update(bytes);
            } catch (...) {
                abandon();
                throw;
            }
        } else {
            hasher_.update(bytes);
        }
        oci::fs::write_all(fd_.get(), bytes.data(), bytes.size(), temp_);
        size_ += static_cast<std::int64_t>(bytes.size());
    }

    Descriptor commit() {
        if (done_) {
            throw Error(ErrorCode::kInternal, "blob writer committed twice");
        }
        Descriptor out;
        try {
            oci::fs::sync(fd_.get(), temp_);
            if (verifier_) {
                verifier_->finish();
                out = *expected_;
            } else {
                out.media_type = media_type_;
                out.digest = hasher_.finish();
                out.size = size_;
            }
            const stdfs::path target = dir_ / std::string(out.digest.hex());
            // Closing after the rename keeps the gc() lock held until the name is final.
            if (::rename(temp_.c_str(), target.c_str()) != 0) {
                oci::fs::fail("rename into place", target, errno);
            }
            done_ = true;
            oci::fs::close(fd_, target);
        } catch (...) {
            abandon();
            throw;
        }
        oci::fs::sync_directory(dir_);
        return out;
    }

    std::int64_t size() const noexcept { return size_; }

private:
    void abandon() noexcept {
        if (!done_) {
            done_ = true;
            ::unlink(temp_.c_str());
            fd_.reset();
        }
    }

    std::optional<Descriptor> expected_;
    std::string media_type_;
    Hasher hasher_;
    std::optional<DigestVerifier> verifier_;
    std::string algorithm_name_;
    stdfs::path dir_;
    stdfs::path temp_;
    util::UniqueFd fd_;
    std::int64_t size_ = 0;
    bool done_ = false;
};

BlobWriter::BlobWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlobWriter::~BlobWriter() = default;
BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter& BlobWriter::operator=(BlobWriter&&) noexcept = default;

void BlobWriter::write(std::span<const std::byte> bytes) {
    impl_->write(bytes);
}

void BlobWriter::write(std::string_view bytes) {
    impl_->write(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

Descriptor BlobWriter::commit() {
    return impl_->commit();
}

std::int64_t BlobWriter::size() const noexcept {
    return impl_ ? impl_->size() : 0;
}

// ---- OciLayout ----

OciLayout OciLayout::open(const stdfs::path& dir) {
    std::error_code ec;
    if (!stdfs::is_directory(dir, ec)) {
        throw Error(ErrorCode::kNotFound,
                    "no OCI layout at " + quote(dir.string()) + ": not a directory");
    }
    const std::optional<std::string> header =
        oci::fs::read_file(dir / kLayoutFile, oci::kMaxLayoutHeaderBytes);
    if (!header) {
        throw Error(ErrorCode::kNotFound,
                    "no OCI layout at " + quote(dir.string()) + ": it has no oci-layout file");
    }
    oci::parse_layout_header(*header);
    return OciLayout(dir);
}

OciLayout OciLayout::create(const stdfs::path& dir) {
    oci::fs::make_directories(dir / kBlobsDir);
    const oci::fs::FileLock lock =
        oci::fs::FileLock::acquire(lock_path(dir), oci::fs::FileLock::Mode::kExclusive);
    const std::optional<std::string> header =
        oci::fs::read_file(dir / kLayoutFile, oci::kMaxLayoutHeaderBytes);
    if (header) {
        oci::parse_layout_header(*header);
    } else {
        oci::fs::write_file_atomic(dir / kLayoutFile, oci::layout_header());
    }
    std::error_code ec;
    if (!stdfs::exists(dir / kIndexFile, ec)) {
        oci::fs::write_file_atomic(dir / kIndexFile, empty_index().serialize());
    }
    return OciLayout(dir);
}

stdfs::path OciLayout::blob_path(const Digest& digest) const {
    require_digest(digest);
    // The digest grammar admits neither '/' nor a leading '.', so these names stay inside
    // blobs/.
    return dir_ / kBlobsDir / std::string(digest.algorithm()) / std::string(digest.hex());
}

bool OciLayout::has_blob(const Digest& digest) const {
    return blob_size(digest).has_value();
}

std::optional<std::int64_t> OciLayout::blob_size(const Digest& digest) const {
    struct stat info {};
    if (::stat(blob_path(digest).c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(info.st_size);
}

std::string OciLayout::read_blob(const Digest& digest) const {
    std::string out;
    read_blob(digest, [&](std::span<const std::byte> bytes) {
        out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    });
    return out;
}

void OciLayout::read_blob(const Digest& digest, const BlobSink& sink) const {
    const stdfs::path path = blob_path(digest);
    DigestVerifier verifier(digest);
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) {
            throw Error(ErrorCode::kNotFound, "blob " + digest.to_string() +
                                                  " is not in the OCI layout at " +
                                                  quote(dir_.string()));
        }
        oci::fs::fail("open", path, errno);
    }
    std::vector<std::byte> buffer(kChunk);
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            oci::fs::fail("read", path, errno);
        }
        if (n == 0) {
            break;
        }
        const std::span<const std::byte> piece(buffer.data(), static_cast<std::size_t>(n));
        verifier.update(piece);
        sink(piece);
    }
    try {
        verifier.finish();
    } catch (const Error& e) {
        throw Error(ErrorCode::kDigestMismatch,
                    "blob " + quote(path.string()) + " is corrupted: " + e.what());
    }
}

BlobWriter OciLayout::blob_writer(const Descriptor& expected) {
    return BlobWriter(std::make_unique<BlobWriter::Impl>(dir_, expected, expected.media_type,
                                                         DigestAlgorithm::kSha256));
}

BlobWriter OciLayout::blob_writer(std::string media_type) {
    return BlobWriter(std::make_unique<BlobWriter::Impl>(dir_, std::nullopt, std::move(media_type),
                                                         DigestAlgorithm::kSha256));
}

namespace {

// The blob is there with the size the descriptor promises: nothing to write.
bool present(const OciLayout& layout, const Descriptor& expected) {
    const std::optional<std::int64_t> size = layout.blob_size(expected.digest);
    if (size && *size == expected.size) {
        touch(layout.blob_path(expected.digest));
        return true;
    }
    return false;
}

void pump(const BlobReader& source, BlobWriter& writer) {
    std::vector<std::byte> buffer(kChunk);
    for (;;) {
        const std::size_t n = source(buffer);
        if (n == 0) {
            return;
        }
        if (n > buffer.size()) {
            throw Error(ErrorCode::kInternal, "a BlobReader returned more bytes than its buffer");
        }
        writer.write(std::span<const std::byte>(buffer.data(), n));
    }
}

}  // namespace

void OciLayout::write_blob(const Descriptor& expected, std::string_view bytes) {
    require_digest(expected.digest);
    if (present(*this, expected)) {
        return;
    }
    BlobWriter writer = blob_writer(expected);
    writer.write(bytes);
    writer.commit();
}

void OciLayout::write_blob(const Descriptor& expected, const BlobReader& source) {
    require_digest(expected.digest);
    if (present(*this, expected)) {
        return;
    }
    BlobWriter writer = blob_writer(expected);
    pump(source, writer);
    writer.commit();
}

Descriptor OciLayout::store_blob(std::string media_type, std::string_view bytes) {
    Descriptor expected = Descriptor::of(std::move(media_type), bytes);
    write_blob(expected, bytes);
    return expected;
}

Descriptor OciLayout::store_blob(std::string media_type, const BlobReader& source) {
    BlobWriter writer = blob_writer(std::move(media_type));
    pump(source, writer);
    return writer.commit();
}

ImageIndex OciLayout::index() const {
    return parse_index(raw_index().bytes);
}

RawContent OciLayout::raw_index() const {
    std::optional<std::string> bytes = oci::fs::read_file(dir_ / kIndexFile, oci::kMaxIndexBytes);
    if (!bytes) {
        throw Error(ErrorCode::kNotFound,
                    "the OCI layout at " + quote(dir_.string()) + " has no index.json");
    }
    return RawContent::of(std::move(*bytes), std::string(media_type::kOciIndex));
}

void OciLayout::set_index(const ImageIndex& index) {
    oci::update_index(*this, [&](ImageIndex& current) { current = index; });
}

void OciLayout::add_manifest(const Descriptor& descriptor, std::string_view ref_name) {
    oci::update_index(*this,
                      [&](ImageIndex& index) { oci::add_to_index(index, descriptor, ref_name); });
}

std::optional<Descriptor> OciLayout::resolve(std::string_view ref_name) const {
    const ImageIndex current = index();
    for (const Descriptor& entry : current.manifests) {
        const auto it = entry.annotations.find(std::string(annotation::kRefName));
        if (it != entry.annotations.end() && it->second == ref_name) {
            return entry;
        }
    }
    return std::nullopt;
}

std::size_t OciLayout::remove(std::string_view ref_name) {
    std::size_t removed = 0;
    oci::update_index(*this, [&](ImageIndex& index) {
        removed = std::erase_if(index.manifests, [&](const Descriptor& entry) {
            const auto it = entry.annotations.find(std::string(annotation::kRefName));
            return it != entry.annotations.end() && it->second == ref_name;
        });
    });
    return removed;
}

std::size_t OciLayout::remove(const Digest& digest) {
    std::size_t removed = 0;
    oci::update_index(*this, [&](ImageIndex& index) {
        removed = std::erase_if(index.manifests,
                                [&](const Descriptor& entry) { return entry.digest == digest; });
    });
    return removed;
}

namespace {

struct FileInfo {
    std::int64_t size = 0;
    std::time_t mtime = 0;
};

std::optional<FileInfo> regular_file(const stdfs::path& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return std::nullopt;
    }
    return FileInfo{static_cast<std::int64_t>(info.st_size), info.st_mtime};
}

bool is_temp(const std::string& name) {
    return name.starts_with(oci::fs::kTempPrefix);
}

// A temporary file nobody writes any more: old enough, and not locked by a live writer.
bool abandoned(const stdfs::path& path, const FileInfo& info, std::time_t now) {
    if (now - info.mtime < kTempGraceSeconds) {
        return false;
    }
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
}

}  // namespace

GcResult OciLayout::gc(std::chrono::seconds keep_recent) {
    const oci::fs::FileLock lock =
        oci::fs::FileLock::acquire(lock_path(dir_), oci::fs::FileLock::Mode::kExclusive);
    // A missing or unreadable index.json would make every blob garbage; refuse instead.
    const ImageIndex current = index();
    const std::map<Digest, Descriptor> keep = oci::reachable(*this, current.manifests);

    GcResult result;
    const std::time_t now = std::time(nullptr);
    const auto remove_file = [&](const stdfs::path& path, std::int64_t size) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            oci::fs::fail("remove", path, errno);
        }
        result.freed_bytes += size;
    };

    // index.json and oci-layout are only rewritten under the lock held here, so any temporary
    // file beside them belongs to a writer that died.
    std::error_code ec;
    for (const auto& entry : stdfs::directory_iterator(dir_, ec)) {
        const std::string name = entry.path().filename().string();
        if (const auto info = regular_file(entry.path()); info && is_temp(name)) {
            remove_file(entry.path(), info->size);
            ++result.removed_temp_files;
        }
    }

    const stdfs::path blobs = dir_ / kBlobsDir;
    for (const auto& algorithm_dir : stdfs::directory_iterator(blobs, ec)) {
        if (!algorithm_dir.is_directory(ec)) {
            continue;
        }
        const std::string algorithm = algorithm_dir.path().filename().string();
        bool changed = false;
        for (const auto& entry : stdfs::directory_iterator(algorithm_dir.path(), ec)) {
            const std::string name = entry.path().filename().string();
            const std::optional<FileInfo> info = regular_file(entry.path());
            if (!info) {
                continue;
            }
            if (is_temp(name)) {
                if (abandoned(entry.path(), *info, now)) {
                    remove_file(entry.path(), info->size);
                    ++result.removed_temp_files;
                    changed = true;
                }
                continue;
            }
            Digest digest;
            try {
                digest = Digest::parse_any_algorithm(algorithm + ":" + name);
            } catch (const Error&) {
                continue;  // not a blob: somebody else's file, left alone
            }
            if (keep.contains(digest) || now - info->mtime < keep_recent.count()) {
                continue;
            }
            remove_file(entry.path(), info->size);
            result.removed_blobs.push_back(digest);
            changed = true;
        }
        if (changed) {
            oci::fs::sync_directory(algorithm_dir.path());
        }
    }
    if (result.removed_temp_files > 0) {
        oci::fs::sync_directory(dir_);
    }
    std::sort(result.removed_blobs.begin(), result.removed_blobs.end());
    return result;
}

}  // namespace xarch
