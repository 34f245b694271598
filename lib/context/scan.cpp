// SPDX-License-Identifier: Apache-2.0
// scan_directory: the walk collects records; regular files that the stat cache does not vouch for
// are hashed by worker threads that take files from a shared counter, each reading in fixed-size
// chunks so that memory stays flat whatever the file sizes.
#include "context/scan.hpp"

#include "context/walk_filter.hpp"
#include "util/quote.hpp"
#include "util/unique_fd.hpp"

#include <xarch/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace xarch::context {
namespace {

constexpr std::size_t kChunk = 256 * 1024;
// Files a worker takes from the queue at a time.
constexpr std::size_t kBatch = 8;
// A file modified this close to the scan may change again within the same mtime tick without
// its stat changing; such files are hashed now but not cached ("racily clean", as git says).
constexpr std::int64_t kRacyWindowNs = 1'000'000'000;

std::int64_t mtime_ns(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

ContextEntryType type_of(mode_t mode) {
    if (S_ISREG(mode)) {
        return ContextEntryType::kRegular;
    }
    if (S_ISDIR(mode)) {
        return ContextEntryType::kDirectory;
    }
    if (S_ISLNK(mode)) {
        return ContextEntryType::kSymlink;
    }
    return ContextEntryType::kOther;
}

[[noreturn]] void fail_read(const std::string& path, int err, std::string_view what) {
    const ErrorCode code = err == EACCES || err == EPERM ? ErrorCode::kPermissionDenied
                           : err == ENOENT               ? ErrorCode::kNotFound
                                                         : ErrorCode::kIo;
    throw Error(code, "cannot read " + std::string(what) + " " + util::quote(path) +
                          " in the build context: " + std::strerror(err) +
                          " (make it readable, or exclude it in .dockerignore)");
}

std::string read_link(const std::filesystem::path& root, const std::string& rel) {
    const std::string full = (root / rel).string();
    std::string target(256, '\0');
    for (;;) {
        const ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
        if (n < 0) {
            fail_read(rel, errno, "symlink");
        }
        if (static_cast<std::size_t>(n) < target.size()) {
            target.resize(static_cast<std::size_t>(n));
            return target;
        }
        target.resize(target.size() * 2);
    }
}

// A SHA-256 context for one worker thread: the algorithm is fetched once and the context reused
// for every file, because OpenSSL 3 looks the algorithm up (under a lock shared by all threads)
// on each EVP_DigestInit_ex with the legacy EVP_sha256() handle; per small file that dominates.
class Sha256 {
public:
    Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
        if (md_ == nullptr || ctx_ == nullptr) {
            EVP_MD_free(md_);
            EVP_MD_CTX_free(ctx_);
            throw Error(ErrorCode::kInternal, "OpenSSL has no SHA-256");
        }
    }
    ~Sha256() {
        EVP_MD_CTX_free(ctx_);
        EVP_MD_free(md_);
    }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void start() {
        if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1) {
            throw Error(ErrorCode::kInternal, "OpenSSL cannot start a SHA-256 digest");
        }
    }
    void update(const char* data, std::size_t size) {
        if (EVP_DigestUpdate(ctx_, data, size) != 1) {
            throw Error(ErrorCode::kInternal, "OpenSSL SHA-256 update failed");
        }
    }
    Digest finish() {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int size = 0;
        if (EVP_DigestFinal_ex(ctx_, out, &size) != 1) {
            throw Error(ErrorCode::kInternal, "OpenSSL SHA-256 final failed");
        }
        static constexpr char kHex[] = "0123456789abcdef";
        std::string text = "sha256:";
        for (unsigned int i = 0; i < size; ++i) {
            text += kHex[out[i] >> 4];
            text += kHex[out[i] & 0xf];
        }
        return Digest::parse(text);
    }

private:
    EVP_MD* md_;
    EVP_MD_CTX* ctx_;
};

// What hashing one file found.
struct Hashed {
    Digest digest;
    struct stat st {};
    bool vanished = false;
    bool stable = true;  // the content read matches the stat (no change while reading)
};

Hashed hash_file(const std::filesystem::path& root,
                 const std::string& rel,
                 std::vector<char>& buf,
                 Sha256& sha) {
    Hashed out;
    // O_NONBLOCK: if the file was swapped for a FIFO since the walk, open must not wait for a
    // writer; the fstat below then refuses it.
    util::UniqueFd fd(::open((root / rel).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        const int err = errno;
        if (err == ENOENT) {
            out.vanished = true;
            return out;
        }
        if (err == ELOOP) {
            throw Error(ErrorCode::kIo, "file " + util::quote(rel) +
                                            " in the build context changed during the scan "
                                            "(now a symlink); scan again");
        }
        fail_read(rel, err, "file");
    }
    if (::fstat(fd.get(), &out.st) != 0) {
        fail_read(rel, errno, "file");
    }
    if (!S_ISREG(out.st.st_mode)) {
        throw Error(ErrorCode::kIo, "file " + util::quote(rel) +
                                        " in the build context changed during the scan (no "
                                        "longer a regular file); scan again");
    }
    if (out.st.st_size >= static_cast<off_t>(4 * kChunk)) {
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    sha.start();
    std::int64_t total = 0;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail_read(rel, errno, "file");
        }
        if (n == 0) {
            break;
        }
        sha.update(buf.data(), static_cast<std::size_t>(n));
        total += n;
    }
    out.stable = total == static_cast<std::int64_t>(out.st.st_size);
    out.st.st_size = static_cast<off_t>(total);
    out.digest = sha.finish();
    return out;
}

// Reads the metadata of the directories the walk is about to enter, on several threads, so that
// their inodes are cached when the single-threaded walk lstat()s them: on a cold cache the walk
// waits on one disk read at a time, the prefetchers keep several in flight. They start from the
// directories the walk reports and go down into those the ignore rules keep (never into excluded
// ones); nothing they read is used.
class Prefetcher {
public:
    Prefetcher(std::string root, const WalkFilter& filter)
        : root_(std::move(root)), filter_(filter) {
        for (unsigned i = 0; i < kThreads; ++i) {
            threads_.emplace_back([this] { run(); });
        }
    }
    ~Prefetcher() {
        {
            const std::lock_guard lock(mutex_);
            stop_ = true;
        }
        ready_.notify_all();
    }
    Prefetcher(const Prefetcher&) = delete;
    Prefetcher& operator=(const Prefetcher&) = delete;

    void add(const std::string& relative) {
        {
            const std::lock_guard lock(mutex_);
            pending_.push_back(relative);
        }
        ready_.notify_one();
    }

private:
    // Enough reads in flight to hide the disk's latency; the threads mostly sleep in the kernel.
    static constexpr unsigned kThreads = 8;

    void run() {
        for (;;) {
            std::string dir;
            {
                std::unique_lock lock(mutex_);
                ready_.wait(lock, [&] { return stop_ || !pending_.empty(); });
                if (stop_) {
                    return;
                }
                dir = std::move(pending_.front());
                pending_.pop_front();
            }
            const std::string path = root_ + "/" + dir;
            const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            DIR* d = ::fdopendir(fd);
            if (d == nullptr) {
                ::close(fd);
                continue;
            }
            struct stat info {};
            std::vector<std::string> subdirs;
            while (const dirent* e = ::readdir(d)) {
                ::fstatat(::dirfd(d), e->d_name, &info, AT_SYMLINK_NOFOLLOW);
                if (S_ISDIR(info.st_mode) && std::strcmp(e->d_name, ".") != 0 &&
                    std::strcmp(e->d_name, "..") != 0) {
                    std::string sub = dir + "/" + e->d_name;
                    if (filter_.allows(sub)) {
                        subdirs.push_back(std::move(sub));
                    }
                }
            }
            ::closedir(d);
            for (std::string& sub : subdirs) {
                add(sub);
            }
        }
    }

    std::string root_;
    const WalkFilter& filter_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::string> pending_;
    bool stop_ = false;
    std::vector<std::jthread> threads_;  // last: joined before the members they use go away
};

}  // namespace

Error context_read_error(const WalkError& error) {
    const int err = error.error_code().value();
    return Error(err == EACCES || err == EPERM ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
                 std::string("cannot read the build context: ") + error.what() +
                     " (make it readable, or exclude it in .dockerignore)");
}

ContextEntry entry_of(const std::filesystem::path& root, const WalkEntry& walked) {
    ContextEntry e;
    e.path = walked.path;
    e.type = type_of(walked.info.st_mode);
    e.mode = static_cast<std::uint32_t>(walked.info.st_mode);
    e.uid = static_cast<std::uint32_t>(walked.info.st_uid);
    e.gid = static_cast<std::uint32_t>(walked.info.st_gid);
    e.size =
        e.type == ContextEntryType::kRegular ? static_cast<std::int64_t>(walked.info.st_size) : 0;
    e.mtime_ns = mtime_ns(walked.info);
    if (e.type == ContextEntryType::kSymlink) {
        e.link_target = read_link(root, e.path);
    }
    return e;
}

bool walk_order_less(std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            const auto ca = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]) + 1;
            const auto cb = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]) + 1;
            return ca < cb;
        }
    }
    return a.size() < b.size();
}

ScanResult scan_directory(const ScanRequest& request) {
    const auto started = std::chrono::system_clock::now();
    const std::int64_t racy_from =
        std::chrono::duration_cast<std::chrono::nanoseconds>(started.time_since_epoch()).count() -
        kRacyWindowNs;

    // One slot per entry. A deque, so that the workers' pointers stay valid while the walk
    // appends.
    struct Slot {
        ContextEntry entry;
        std::uint64_t inode = 0;
        bool vanished = false;
        bool cacheable = true;
    };
    std::deque<Slot> slots;
    ScanStats stats;

    // The files to hash, filled by the walk and drained by the workers as it goes, so that
    // hashing overlaps the walk.
    struct Queue {
        std::mutex mutex;
        std::condition_variable ready;
        std::vector<Slot*> items;
        std::size_t next = 0;
        bool closed = false;  // the walk is over (or failed)
        bool stop = false;    // a worker failed
        std::exception_ptr error;
    } queue;
    std::atomic<std::int64_t> bytes{0};

    const auto work = [&] {
        std::vector<char> buf(kChunk);
        std::optional<Sha256> sha;
        try {
            sha.emplace();
            std::vector<Slot*> batch;
            for (;;) {
                {
                    std::unique_lock lock(queue.mutex);
                    queue.ready.wait(lock, [&] {
                        return queue.stop || queue.closed || queue.next < queue.items.size();
                    });
                    if (queue.stop || queue.next == queue.items.size()) {
                        return;  // stopped, or closed and drained
                    }
                    // Small batches: fewer lock round trips, yet both threads stay busy.
                    const std::size_t last = std::min(queue.items.size(), queue.next + kBatch);
                    batch.assign(queue.items.begin() + static_cast<std::ptrdiff_t>(queue.next),
                                 queue.items.begin() + static_cast<std::ptrdiff_t>(last));
                    queue.next = last;
                }
                for (Slot* slot : batch) {
                    ContextEntry& e = slot->entry;
                    Hashed h = hash_file(request.root, e.path, buf, *sha);
                    if (h.vanished) {
                        slot->vanished = true;
                        continue;
                    }
                    // The record describes what was hashed, even if it changed since the walk.
                    e.digest = std::move(h.digest);
                    e.size = static_cast<std::int64_t>(h.st.st_size);
                    e.mtime_ns = mtime_ns(h.st);
                    e.mode = static_cast<std::uint32_t>(h.st.st_mode);
                    e.uid = static_cast<std::uint32_t>(h.st.st_uid);
                    e.gid = static_cast<std::uint32_t>(h.st.st_gid);
                    slot->inode = static_cast<std::uint64_t>(h.st.st_ino);
                    slot->cacheable = h.stable;
                    bytes += e.size;
                }
            }
        } catch (...) {
            const std::lock_guard lock(queue.mutex);
            if (!queue.error) {
                queue.error = std::current_exception();
            }
            queue.stop = true;
            queue.ready.notify_all();
        }
    };
    const unsigned threads =
        request.threads != 0 ? request.threads : std::max(1u, std::thread::hardware_concurrency());
    // Closes the queue however the walk ends, so that no worker waits forever.
    const auto close = [&] {
        const std::lock_guard lock(queue.mutex);
        queue.closed = true;
        queue.ready.notify_all();
    };

    const WalkFilter filter(FilterOptions{{}, request.exclude_patterns});
    WalkOptions walk_options;
    walk_options.before_read = request.before_read;
    Prefetcher prefetcher(request.root.string(), filter);
    const WalkFunc collect = [&](const WalkEntry& w, std::error_code) {
        if (S_ISDIR(w.info.st_mode) && w.path.find('/') == std::string::npos) {
            prefetcher.add(w.path);  // the prefetchers go down from here themselves
        }
        Slot& slot = slots.emplace_back();
        slot.entry = entry_of(request.root, w);
        ContextEntry& e = slot.entry;
        slot.inode = static_cast<std::uint64_t>(w.info.st_ino);
        if (e.type == ContextEntryType::kRegular) {
            ++stats.files;
            if (request.cache != nullptr) {
                if (std::optional<Digest> d = request.cache->lookup(
                        e.path, StatKey{e.size, e.mtime_ns, slot.inode, e.mode})) {
                    e.digest = std::move(*d);
                    ++stats.cache_hits;
                    return WalkAction::kContinue;
                }
            }
            ++stats.hashed;
            const std::lock_guard lock(queue.mutex);
            if (queue.stop) {
                throw Error(ErrorCode::kCancelled, "scan stopped");  // a worker failed
            }
            queue.items.push_back(&slot);
            queue.ready.notify_one();
        }
        return WalkAction::kContinue;
    };
    {
        std::vector<std::jthread> pool;
        for (unsigned t = 1; t < threads; ++t) {
            pool.emplace_back(work);
        }
        try {
            walk_directory(request.root, filter.wrap(collect), walk_options);
        } catch (const WalkError& e) {
            close();
            throw context_read_error(e);
        } catch (...) {
            close();
            // A worker's failure stopped the walk: report the worker's error.
            const std::lock_guard lock(queue.mutex);
            if (queue.error) {
                std::rethrow_exception(queue.error);
            }
            throw;
        }
        close();
        work();  // this thread helps with what is left
    }
    if (queue.error) {
        std::rethrow_exception(queue.error);
    }

    ScanResult result;
    result.entries.reserve(slots.size());
    for (Slot& slot : slots) {
        if (slot.vanished) {
            --stats.files;
            --stats.hashed;
            continue;
        }
        if (request.cache != nullptr && slot.cacheable &&
            slot.entry.type == ContextEntryType::kRegular && slot.entry.mtime_ns < racy_from) {
            const ContextEntry& e = slot.entry;
            request.cache->keep(e.path, StatKey{e.size, e.mtime_ns, slot.inode, e.mode}, e.digest);
        }
        result.entries.push_back(std::move(slot.entry));
    }
    stats.bytes_hashed = bytes;
    stats.entries = result.entries.size();
    result.stats = stats;
    return result;
}

}  // namespace xarch::context
