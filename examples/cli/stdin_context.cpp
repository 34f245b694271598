// SPDX-License-Identifier: Apache-2.0
#include "stdin_context.hpp"

#include "xarch/error.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace xarch::cli {

namespace {

// Reads up to `n` bytes (fewer only at the end of the input).
std::string read_up_to(int fd, std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::read(fd, out.data() + got, n - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            throw Error(ErrorCode::kIo,
                        std::string("cannot read standard input: ") + std::strerror(errno));
        }
        if (r == 0) {
            break;
        }
        got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return out;
}

std::string read_all(int fd, std::string head) {
    for (std::string more = read_up_to(fd, 1 << 16); !more.empty();
         more = read_up_to(fd, 1 << 16)) {
        head += more;
    }
    return head;
}

// A 512-byte tar header whose checksum (octal, at 148) matches its bytes, the checksum field
// counted as spaces: what Go's tar reader (and so buildx) accepts as an archive.
bool is_tar_header(std::string_view block) {
    if (block.size() < 512) {
        return false;
    }
    unsigned long sum = 0;
    for (std::size_t i = 0; i < 512; ++i) {
        sum += i >= 148 && i < 156 ? ' ' : static_cast<unsigned char>(block[i]);
    }
    const std::string field(block.substr(148, 8));
    char* end = nullptr;
    const unsigned long stored = std::strtoul(field.c_str(), &end, 8);
    return end != field.c_str() && stored == sum;
}

bool is_archive(std::string_view head) {
    constexpr std::string_view kCompressed[] = {
        std::string_view("\x1f\x8b", 2),                  // gzip
        std::string_view("BZh", 3),                       // bzip2
        std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6),  // xz
        std::string_view("\x28\xb5\x2f\xfd", 4),          // zstd
    };
    for (std::string_view magic : kCompressed) {
        if (head.starts_with(magic)) {
            return true;
        }
    }
    return is_tar_header(head);
}

// from_tar_fd reads a descriptor, and the bytes looked at are gone from standard input: a
// thread writes them and then the rest of the input into a pipe the context is read from.
BuildContext context_from_archive(int fd, std::string head) {
    int ends[2];
    if (::pipe(ends) != 0) {
        throw Error(ErrorCode::kIo, std::string("cannot make a pipe: ") + std::strerror(errno));
    }
    std::thread feeder([fd, head = std::move(head), out = ends[1]] {
        // A reader that stops early makes write() fail with EPIPE, not kill the process.
        sigset_t pipe_signal;
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
        const auto write_all = [out](std::string_view data) {
            while (!data.empty()) {
                const ssize_t w = ::write(out, data.data(), data.size());
                if (w < 0 && errno == EINTR) {
                    continue;
                }
                if (w <= 0) {
                    return false;
                }
                data.remove_prefix(static_cast<std::size_t>(w));
            }
            return true;
        };
        bool ok = write_all(head);
        while (ok) {
            std::string chunk;
            try {
                chunk = read_up_to(fd, 1 << 16);
            } catch (const Error&) {
                break;  // the archive then ends early, which from_tar_fd reports
            }
            ok = !chunk.empty() && write_all(chunk);
        }
        ::close(out);
    });
    try {
        BuildContext context = BuildContext::from_tar_fd(ends[0]);
        ::close(ends[0]);
        feeder.join();
        return context;
    } catch (...) {
        ::close(ends[0]);
        feeder.join();
        throw;
    }
}

}  // namespace

StdinContext::StdinContext(int fd) {
    std::string head = read_up_to(fd, 512);
    if (is_archive(head)) {
        context_ = std::make_unique<BuildContext>(context_from_archive(fd, std::move(head)));
        return;
    }
    std::string dockerfile = read_all(fd, std::move(head));
    std::string dir =
        (std::filesystem::temp_directory_path() / "xarch-stdin-context.XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
        throw Error(ErrorCode::kIo, "cannot make an empty build context in " +
                                        std::filesystem::temp_directory_path().string() + ": " +
                                        std::strerror(errno) + " (set TMPDIR to another place)");
    }
    empty_dir_ = dir;
    try {
        context_ = std::make_unique<BuildContext>(BuildContext::from_directory(empty_dir_));
        context_->set_dockerfile_text(std::move(dockerfile));
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(empty_dir_, ignored);
        throw;
    }
}

StdinContext::~StdinContext() {
    context_.reset();
    if (!empty_dir_.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(empty_dir_, ignored);
    }
}

}  // namespace xarch::cli
