// SPDX-License-Identifier: Apache-2.0
// Parallel gzip: blocks deflated independently by a fixed pool of threads (each primed with the
// previous block's last 32 KiB so the ratio stays close to a single stream), ended with
// Z_SYNC_FLUSH so they join on byte boundaries, the last with Z_FINISH; the CRCs are combined
// with crc32_combine. At most a fixed number of blocks is in flight, so memory is bounded.
#include "layer/gzip_parallel.hpp"

#include <xarch/error.hpp>

#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace xarch::layer {
namespace {

constexpr std::size_t kDictionarySize = 32 * 1024;

struct Block {
    std::vector<unsigned char> input;
    std::vector<unsigned char> dictionary;
    bool last = false;
    // Filled by the worker.
    std::string output;
    uLong crc = 0;
    std::size_t input_size = 0;
    bool done = false;
    std::exception_ptr error;
};

// One deflate stream reused for many blocks.
class Deflater {
public:
    explicit Deflater(int level) {
        std::memset(&stream_, 0, sizeof stream_);
        // Raw deflate (-15): the gzip header and trailer are written once around all blocks.
        if (deflateInit2(&stream_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            throw Error(ErrorCode::kInternal,
                        "cannot start zlib deflate at level " + std::to_string(level));
        }
    }
    ~Deflater() { deflateEnd(&stream_); }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    void compress(Block& block) {
        deflateReset(&stream_);
        if (!block.dictionary.empty()) {
            deflateSetDictionary(&stream_, block.dictionary.data(),
                                 static_cast<uInt>(block.dictionary.size()));
        }
        block.crc = crc32(0L, block.input.data(), static_cast<uInt>(block.input.size()));
        stream_.next_in = block.input.data();
        stream_.avail_in = static_cast<uInt>(block.input.size());
        const int flush = block.last ? Z_FINISH : Z_SYNC_FLUSH;
        std::size_t used = 0;
        block.output.resize(deflateBound(&stream_, block.input.size()) + 64);
        for (;;) {
            if (used == block.output.size()) {
                block.output.resize(block.output.size() * 2);
            }
            stream_.next_out = reinterpret_cast<Bytef*>(block.output.data() + used);
            stream_.avail_out = static_cast<uInt>(block.output.size() - used);
            const int status = deflate(&stream_, flush);
            used = block.output.size() - stream_.avail_out;
            if (status == Z_STREAM_END) {
                break;
            }
            if (status != Z_OK && status != Z_BUF_ERROR) {
                throw Error(ErrorCode::kInternal, "zlib deflate failed: " + std::to_string(status));
            }
            // Z_SYNC_FLUSH is complete when deflate left output space unused with no input left.
            if (!block.last && stream_.avail_in == 0 && stream_.avail_out != 0) {
                break;
            }
        }
        block.output.resize(used);
        block.input.clear();
        block.input.shrink_to_fit();
        block.dictionary.clear();
        block.dictionary.shrink_to_fit();
    }

private:
    z_stream stream_;
};

void put_le32(std::string& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    }
}

}  // namespace

class ParallelGzip::Impl {
public:
    Impl(int level, unsigned threads, BlobSink out)
        : level_(level < 0 ? kDefaultGzipLevel : level), out_(std::move(out)) {
        if (level_ > 9) {
            throw Error(ErrorCode::kInvalidArgument,
                        "gzip compression level " + std::to_string(level) +
                            " is out of range; use 0 (none) to 9 (smallest)");
        }
        if (threads == 0) {
            threads = std::max(1U, std::thread::hardware_concurrency());
        }
        max_in_flight_ = threads * 2;
        if (threads == 1) {
            inline_deflater_ = std::make_unique<Deflater>(level_);
        } else {
            try {
                for (unsigned i = 0; i < threads; ++i) {
                    workers_.emplace_back([this] { work(); });
                }
            } catch (...) {
                stop();  // the destructor does not run when the constructor throws
                throw;
            }
        }
        // Go's gzip header: no name, mtime 0, XFL by level, OS unknown (255), so the bytes do not
        // depend on the host.
        std::string header("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
        header.push_back(level_ == 9 ? '\x02' : level_ == 1 ? '\x04' : '\x00');
        header.push_back('\xff');
        emit(header);
        current_.reserve(kBlockSize);
    }

    ~Impl() { stop(); }

    void stop() noexcept {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_ready_.notify_all();
        for (auto& worker : workers_) {
            if (worker.joinable()) {
                worker.join();
            }
        }
    }

    void write(std::span<const std::byte> bytes) {
        const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
        std::size_t left = bytes.size();
        while (left > 0) {
            const std::size_t n = std::min(left, kBlockSize - current_.size());
            current_.insert(current_.end(), data, data + n);
            data += n;
            left -= n;
            if (current_.size() == kBlockSize) {
                submit(false);
            }
        }
    }

    void finish() {
        submit(true);
        drain(0);
        std::string trailer;
        put_le32(trailer, static_cast<std::uint32_t>(crc_));
        put_le32(trailer, static_cast<std::uint32_t>(total_ & 0xffffffffU));
        emit(trailer);
    }

private:
    void emit(std::string_view bytes) {
        out_(std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
    }

    void submit(bool last) {
        auto block = std::make_shared<Block>();
        block->last = last;
        block->dictionary = std::move(dictionary_);
        // Blocks before the last are full, so the next dictionary is this block's tail.
        const std::size_t keep = std::min(current_.size(), kDictionarySize);
        dictionary_.assign(current_.end() - static_cast<std::ptrdiff_t>(keep), current_.end());
        block->input_size = current_.size();
        block->input = std::move(current_);
        current_ = {};
        current_.reserve(kBlockSize);
        if (inline_deflater_) {
            inline_deflater_->compress(*block);
            block->done = true;
            std::lock_guard lock(mutex_);
            in_order_.push_back(block);
        } else {
            {
                std::lock_guard lock(mutex_);
                in_order_.push_back(block);
                queue_.push_back(block);
            }
            work_ready_.notify_one();
        }
        drain(max_in_flight_);
    }

    // Writes finished blocks in order until fewer than `limit` are in flight (0: all of them),
    // plus any finished ones at the front.
    void drain(std::size_t limit) {
        for (;;) {
            std::shared_ptr<Block> front;
            {
                std::unique_lock lock(mutex_);
                if (in_order_.empty()) {
                    return;
                }
                if (limit != 0 && in_order_.size() < limit && !in_order_.front()->done) {
                    return;
                }
                block_done_.wait(lock, [&] { return in_order_.front()->done; });
                front = in_order_.front();
                in_order_.pop_front();
            }
            if (front->error) {
                std::rethrow_exception(front->error);
            }
            emit(front->output);
            crc_ = crc32_combine(crc_, front->crc, static_cast<z_off_t>(front->input_size));
            total_ += front->input_size;
        }
    }

    void work() {
        // No exception may leave the thread: a failure is handed to the block's writer.
        std::unique_ptr<Deflater> deflater;
        std::exception_ptr start_error;
        try {
            deflater = std::make_unique<Deflater>(level_);
        } catch (...) {
            start_error = std::current_exception();
        }
        for (;;) {
            std::shared_ptr<Block> block;
            {
                std::unique_lock lock(mutex_);
                work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
                if (stopping_) {
                    return;
                }
                block = queue_.front();
                queue_.pop_front();
            }
            try {
                if (start_error) {
                    std::rethrow_exception(start_error);
                }
                deflater->compress(*block);
            } catch (...) {
                block->error = std::current_exception();
            }
            {
                std::lock_guard lock(mutex_);
                block->done = true;
            }
            block_done_.notify_all();
        }
    }

    int level_;
    BlobSink out_;
    std::size_t max_in_flight_ = 2;
    std::unique_ptr<Deflater> inline_deflater_;
    std::vector<std::thread> workers_;

    std::vector<unsigned char> current_;
    std::vector<unsigned char> dictionary_;
    uLong crc_ = crc32(0L, Z_NULL, 0);
    std::uint64_t total_ = 0;

    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable block_done_;
    std::deque<std::shared_ptr<Block>> in_order_;  // submitted, not yet written
    std::deque<std::shared_ptr<Block>> queue_;     // submitted, not yet picked by a worker
    bool stopping_ = false;
};

ParallelGzip::ParallelGzip(int level, unsigned threads, BlobSink out)
    : impl_(std::make_unique<Impl>(level, threads, std::move(out))) {}
ParallelGzip::~ParallelGzip() = default;
void ParallelGzip::write(std::span<const std::byte> bytes) {
    impl_->write(bytes);
}
void ParallelGzip::finish() {
    impl_->finish();
}

}  // namespace xarch::layer
