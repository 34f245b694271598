// SPDX-License-Identifier: Apache-2.0
// write_tar and write_layer: entries sorted and written as tar, file contents streamed in large
// reads, the tar hashed (diff_id) and compressed on the way into the layout's blob writer.
#include "layer/writer.hpp"

#include "layer/gzip_parallel.hpp"
#include "layer/tar_header.hpp"
#include "util/quote.hpp"
#include "util/unique_fd.hpp"

#include <xarch/error.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

namespace xarch::layer {
namespace {

constexpr std::size_t kChunk = 1024 * 1024;
constexpr int kDefaultZstdLevel = 3;

[[noreturn]] void throw_cancelled() {
    throw Error(ErrorCode::kCancelled, "layer write cancelled");
}

std::span<const std::byte> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// Collects small pieces (headers, padding) into large writes to the sink.
class Output {
public:
    Output(const BlobSink& sink, const std::function<bool()>& cancelled)
        : sink_(sink), cancelled_(cancelled) {
        buffer_.reserve(kChunk);
    }

    void put(std::string_view bytes) {
        if (buffer_.size() + bytes.size() > kChunk) {
            flush();
        }
        if (bytes.size() >= kChunk) {
            pass(bytes);
        } else {
            buffer_.append(bytes);
        }
    }
    void zeros(std::size_t count) {
        static const std::string kZeros(kTarBlock * 2, '\0');
        while (count > 0) {
            const std::size_t n = std::min(count, kZeros.size());
            put(std::string_view(kZeros).substr(0, n));
            count -= n;
        }
    }
    void flush() {
        if (!buffer_.empty()) {
            pass(buffer_);
            buffer_.clear();
        }
    }
    std::int64_t size() const noexcept { return size_ + static_cast<std::int64_t>(buffer_.size()); }

private:
    void pass(std::string_view bytes) {
        if (cancelled_ && cancelled_()) {
            throw_cancelled();
        }
        sink_(as_bytes(bytes));
        size_ += static_cast<std::int64_t>(bytes.size());
    }

    const BlobSink& sink_;
    const std::function<bool()>& cancelled_;
    std::string buffer_;
    std::int64_t size_ = 0;
};

std::int64_t header_mtime(const Entry& entry, const std::optional<std::int64_t>& clamp) {
    // Floor division: moby truncates the time to whole seconds.
    std::int64_t seconds = entry.mtime_ns / 1'000'000'000;
    if (entry.mtime_ns % 1'000'000'000 < 0) {
        --seconds;
    }
    if (clamp && seconds > *clamp) {
        seconds = *clamp;
    }
    return seconds;
}

void copy_file(const Entry& entry, Output& out) {
    util::UniqueFd fd(::open(entry.source_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw Error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                    "cannot open " + util::quote(entry.source_file.string()) + " for layer entry " +
                        util::quote(entry.path) + ": " + std::strerror(errno));
    }
    std::string buffer(static_cast<std::size_t>(std::min<std::int64_t>(entry.size, kChunk)), '\0');
    std::int64_t left = entry.size;
    while (left > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::int64_t>(left, kChunk));
        const ssize_t n = ::read(fd.get(), buffer.data(), want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(ErrorCode::kIo, "cannot read " + util::quote(entry.source_file.string()) +
                                            ": " + std::strerror(errno));
        }
        if (n == 0) {
            throw Error(ErrorCode::kIo, "file " + util::quote(entry.source_file.string()) +
                                            " shrank to " + std::to_string(entry.size - left) +
                                            " bytes while it was written " +
                                            "into a layer (expected " + std::to_string(entry.size) +
                                            "); do not modify files while building");
        }
        out.put(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        left -= n;
    }
}

// A hard link must come after the file it names, but sorting may put it first ("a/link" before
// "b/file"): then the first path becomes the file and the later one the link (they are the same
// inode, so only the roles swap). A link to a path not in the layer is refused.
void order_hardlinks(std::vector<Entry>& entries) {
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        index[entries[i].path] = i;
    }
    std::unordered_map<std::string, std::string> moved;  // old file path -> path now holding it
    for (std::size_t i = 0; i < entries.size(); ++i) {
        Entry& link = entries[i];
        if (link.type != EntryType::kHardlink) {
            continue;
        }
        if (const auto found = moved.find(link.link_target); found != moved.end()) {
            link.link_target = found->second;
        }
        const auto target = index.find(link.link_target);
        if (target == index.end() || target->second == i ||
            entries[target->second].type == EntryType::kDirectory) {
            throw Error(ErrorCode::kInvalidArgument,
                        "layer entry " + util::quote(link.path) + " is a hard link to " +
                            util::quote(link.link_target) + ", which is not a file in the layer");
        }
        if (target->second < i) {
            continue;
        }
        Entry& file = entries[target->second];
        const std::string link_path = link.path;
        const std::string file_path = file.path;
        std::swap(link, file);
        link.path = link_path;  // entries[i] now holds the file's data
        file.path = file_path;
        file.link_target = link_path;
        moved[file_path] = link_path;
    }
}

void write_tar_stream(std::vector<Entry>& entries,
                      const BlobSink& sink,
                      const std::optional<std::int64_t>& clamp_mtime,
                      const std::function<bool()>& cancelled) {
    std::sort(entries.begin(), entries.end(), layer_order);
    order_hardlinks(entries);
    Output out(sink, cancelled);
    for (const Entry& entry : entries) {
        if (entry.path.empty() || entry.path.front() == '/') {
            throw Error(ErrorCode::kInvalidArgument,
                        "layer entry path " + util::quote(entry.path) +
                            " is not a relative path; layer paths are relative to the root");
        }
        std::int64_t size = 0;
        if (entry.type == EntryType::kRegular) {
            size = entry.data ? static_cast<std::int64_t>(entry.data->size()) : entry.size;
        }
        out.put(tar_header(entry, header_mtime(entry, clamp_mtime), size));
        if (size > 0) {
            if (entry.data) {
                out.put(*entry.data);
            } else {
                copy_file(entry, out);
            }
            out.zeros(tar_padding(size));
        }
    }
    // Go's tar writer ends with two zero blocks and no record padding.
    out.zeros(2 * kTarBlock);
    out.flush();
}

// Streaming zstd with libzstd's worker threads. nbWorkers is at least 1 so that the bytes do
// not depend on the thread count (libzstd's output is the same for every nbWorkers >= 1).
class ZstdCompressor {
public:
    ZstdCompressor(int level, unsigned threads, BlobSink out)
        : context_(ZSTD_createCCtx()), out_(std::move(out)), buffer_(ZSTD_CStreamOutSize(), '\0') {
        if (context_ == nullptr) {
            throw std::bad_alloc();
        }
        if (level < 0) {
            level = kDefaultZstdLevel;
        }
        if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel() || level == 0) {
            throw Error(ErrorCode::kInvalidArgument,
                        "zstd compression level " + std::to_string(level) +
                            " is out of range; use 1 to " + std::to_string(ZSTD_maxCLevel()));
        }
        ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level);
        if (threads == 0) {
            threads = std::max(1U, std::thread::hardware_concurrency());
        }
        // Fails on a libzstd built without threads: then it compresses on this thread.
        ZSTD_CCtx_setParameter(context_, ZSTD_c_nbWorkers, static_cast<int>(threads));
    }
    ~ZstdCompressor() { ZSTD_freeCCtx(context_); }
    ZstdCompressor(const ZstdCompressor&) = delete;
    ZstdCompressor& operator=(const ZstdCompressor&) = delete;

    void write(std::span<const std::byte> bytes) {
        ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
        while (in.pos < in.size) {
            step(in, ZSTD_e_continue);
        }
    }
    void finish() {
        ZSTD_inBuffer in{nullptr, 0, 0};
        while (step(in, ZSTD_e_end) != 0) {
        }
    }

private:
    std::size_t step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
        ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
        const std::size_t left = ZSTD_compressStream2(context_, &out, &in, mode);
        if (ZSTD_isError(left) != 0) {
            throw Error(ErrorCode::kInternal,
                        std::string("zstd compression failed: ") + ZSTD_getErrorName(left));
        }
        if (out.pos > 0) {
            out_(std::span(reinterpret_cast<const std::byte*>(buffer_.data()), out.pos));
        }
        return left;
    }

    ZSTD_CCtx* context_;
    BlobSink out_;
    std::string buffer_;
};

}  // namespace

std::string_view layer_media_type(Compression compression, bool oci_media_types) {
    switch (compression) {
        case Compression::kGzip:
            return oci_media_types ? media_type::kOciLayerGzip : media_type::kDockerLayerGzip;
        case Compression::kZstd:
            return oci_media_types ? media_type::kOciLayerZstd : media_type::kDockerLayerZstd;
        case Compression::kUncompressed:
            break;
    }
    return oci_media_types ? media_type::kOciLayer : media_type::kDockerLayer;
}

bool layer_order(const Entry& a, const Entry& b) {
    // '/' sorts before every other byte, which orders paths component by component.
    const std::string& x = a.path;
    const std::string& y = b.path;
    const std::size_t n = std::min(x.size(), y.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (x[i] != y[i]) {
            if (x[i] == '/') {
                return true;
            }
            if (y[i] == '/') {
                return false;
            }
            return static_cast<unsigned char>(x[i]) < static_cast<unsigned char>(y[i]);
        }
    }
    return x.size() < y.size();
}

void write_tar(std::vector<Entry> entries,
               const BlobSink& sink,
               std::optional<std::int64_t> clamp_mtime) {
    write_tar_stream(entries, sink, clamp_mtime, {});
}

LayerBlob write_layer(OciLayout& store,
                      std::vector<Entry> entries,
                      const WriteOptions& options,
                      const std::function<bool()>& cancelled) {
    if (cancelled && cancelled()) {
        throw_cancelled();
    }
    BlobWriter writer = store.blob_writer(
        std::string(layer_media_type(options.compression, options.oci_media_types)));
    const BlobSink to_blob = [&writer](std::span<const std::byte> bytes) { writer.write(bytes); };
    Hasher diff_id;
    switch (options.compression) {
        case Compression::kGzip: {
            ParallelGzip gzip(options.level, options.threads, to_blob);
            write_tar_stream(
                entries,
                [&](std::span<const std::byte> bytes) {
                    diff_id.update(bytes);
                    gzip.write(bytes);
                },
                options.clamp_mtime, cancelled);
            gzip.finish();
            break;
        }
        case Compression::kZstd: {
            ZstdCompressor zstd(options.level, options.threads, to_blob);
            write_tar_stream(
                entries,
                [&](std::span<const std::byte> bytes) {
                    diff_id.update(bytes);
                    zstd.write(bytes);
                },
                options.clamp_mtime, cancelled);
            zstd.finish();
            break;
        }
        case Compression::kUncompressed:
            write_tar_stream(
                entries,
                [&](std::span<const std::byte> bytes) {
                    diff_id.update(bytes);
                    writer.write(bytes);
                },
                options.clamp_mtime, cancelled);
            break;
    }
    if (cancelled && cancelled()) {
        throw_cancelled();
    }
    LayerBlob blob;
    blob.uncompressed_size = diff_id.size();
    blob.diff_id = diff_id.finish();
    blob.descriptor = writer.commit();
    return blob;
}

}  // namespace xarch::layer
