// SPDX-License-Identifier: Apache-2.0
// A tiny HTTP/1.1 server on 127.0.0.1 for the transport's unit tests: each test scripts the
// answers (including broken ones: resets, stalls, short bodies) that a real registry only
// gives under the fault proxy. Keep-alive, Content-Length and chunked request bodies; a TLS
// ClientHello gets a 400 and a close, as Go's servers answer one.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace xarch::test {

struct ServerRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lowercase
    std::string body;
    int connection = 0;  // which connection it came on, counted from 1

    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct Reply {
    enum class After { kKeepAlive, kClose, kReset, kStall };
    std::string raw;  // the bytes to write
    After after = After::kKeepAlive;
};

// "HTTP/1.1 <status> X" with Content-Length and the given headers.
inline Reply reply(int status,
                   const std::string& body = {},
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string raw = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
    bool has_length = false;
    for (const auto& [name, value] : headers) {
        raw += name + ": " + value + "\r\n";
        has_length = has_length || name == "Content-Length";
    }
    if (!has_length) {
        raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    raw += "\r\n" + body;
    return Reply{raw};
}

class TestServer {
public:
    using Handler = std::function<Reply(const ServerRequest&)>;

    explicit TestServer(Handler handler) : handler_(std::move(handler)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd_ < 0) {
            throw std::runtime_error("socket failed");
        }
        const int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listen_fd_, 64) != 0) {
            ::close(listen_fd_);
            throw std::runtime_error("bind/listen failed");
        }
        socklen_t length = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length);
        port_ = ntohs(addr.sin_port);
        accept_thread_ = std::thread([this] { accept_loop(); });
    }

    ~TestServer() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
            for (int fd : open_fds_) {
                ::shutdown(fd, SHUT_RDWR);
            }
        }
        stall_cv_.notify_all();
        accept_thread_.join();
        for (std::thread& thread : connection_threads_) {
            thread.join();
        }
        ::close(listen_fd_);
    }

    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string url(const std::string& path = "") const { return "http://" + authority() + path; }

    int connections() const { return connections_.load(); }
    std::vector<ServerRequest> requests() const {
        const std::lock_guard lock(mutex_);
        return requests_;
    }
    // Requests whose target starts with `prefix`.
    std::size_t count(const std::string& prefix) const {
        const std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const ServerRequest& request : requests_) {
            n += request.target.rfind(prefix, 0) == 0 ? 1 : 0;
        }
        return n;
    }

private:
    void accept_loop() {
        while (true) {
            pollfd p{listen_fd_, POLLIN, 0};
            ::poll(&p, 1, 50);
            {
                const std::lock_guard lock(mutex_);
                if (stopping_) {
                    return;
                }
            }
            if ((p.revents & POLLIN) == 0) {
                continue;
            }
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            const int id = ++connections_;
            const std::lock_guard lock(mutex_);
            if (stopping_) {
                ::close(fd);
                return;
            }
            open_fds_.push_back(fd);
            connection_threads_.emplace_back([this, fd, id] { serve(fd, id); });
        }
    }

    // Reads until `buffer` holds `size` bytes; false at EOF or error.
    static bool fill(int fd, std::string& buffer, std::size_t size) {
        char chunk[16384];
        while (buffer.size() < size) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return false;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        return true;
    }

    static bool read_until(int fd,
                           std::string& buffer,
                           const std::string& marker,
                           std::size_t& at) {
        char chunk[16384];
        while ((at = buffer.find(marker)) == std::string::npos) {
            if (!buffer.empty() && buffer.front() == '\x16') {
                return false;  // a TLS ClientHello: the caller answers it
            }
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return false;
            }
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        return true;
    }

    static void write_all(int fd, const std::string& data) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            sent += static_cast<std::size_t>(n);
        }
    }

    void serve(int fd, int id) {
        std::string buffer;
        bool keep = true;
        while (keep) {
            std::size_t end = 0;
            if (!read_until(fd, buffer, "\r\n\r\n", end)) {
                if (!buffer.empty() && buffer.front() == '\x16') {
                    write_all(fd, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent TLS\n");
                }
                break;
            }
            ServerRequest request;
            request.connection = id;
            const std::string head = buffer.substr(0, end);
            buffer.erase(0, end + 4);
            std::size_t line_end = head.find("\r\n");
            const std::string first = head.substr(0, line_end);
            const std::size_t sp1 = first.find(' ');
            const std::size_t sp2 = first.rfind(' ');
            request.method = first.substr(0, sp1);
            request.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
            while (line_end != std::string::npos) {
                const std::size_t next = head.find("\r\n", line_end + 2);
                const std::string line =
                    head.substr(line_end + 2, next == std::string::npos ? std::string::npos
                                                                        : next - line_end - 2);
                const std::size_t colon = line.find(':');
                if (colon != std::string::npos) {
                    std::string name = line.substr(0, colon);
                    for (char& c : name) {
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    }
                    std::string value = line.substr(colon + 1);
                    value.erase(0, value.find_first_not_of(' '));
                    request.headers[name] = value;
                }
                line_end = next;
            }
            if (!request.header("content-length").empty()) {
                const std::size_t size = std::stoul(request.header("content-length"));
                if (!fill(fd, buffer, size)) {
                    break;
                }
                request.body = buffer.substr(0, size);
                buffer.erase(0, size);
            } else if (request.header("transfer-encoding") == "chunked") {
                bool ok = true;
                while (true) {
                    std::size_t at = 0;
                    if (!read_until(fd, buffer, "\r\n", at)) {
                        ok = false;
                        break;
                    }
                    const std::size_t size = std::stoul(buffer.substr(0, at), nullptr, 16);
                    buffer.erase(0, at + 2);
                    if (!fill(fd, buffer, size + 2)) {
                        ok = false;
                        break;
                    }
                    request.body += buffer.substr(0, size);
                    buffer.erase(0, size + 2);
                    if (size == 0) {
                        break;
                    }
                }
                if (!ok) {
                    break;
                }
            }
            {
                const std::lock_guard lock(mutex_);
                requests_.push_back(request);
            }
            const Reply answer = handler_(request);
            write_all(fd, answer.raw);
            switch (answer.after) {
                case Reply::After::kKeepAlive:
                    break;
                case Reply::After::kClose:
                    keep = false;
                    break;
                case Reply::After::kReset: {
                    // Let what was written arrive first: the reset is meant to come mid-body,
                    // not to discard the bytes still in flight.
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    linger hard{1, 0};
                    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
                    keep = false;
                    break;
                }
                case Reply::After::kStall: {
                    std::unique_lock lock(mutex_);
                    stall_cv_.wait(lock, [this] { return stopping_; });
                    keep = false;
                    break;
                }
            }
        }
        const std::lock_guard lock(mutex_);
        std::erase(open_fds_, fd);
        ::close(fd);
    }

    Handler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::condition_variable stall_cv_;
    bool stopping_ = false;
    std::vector<int> open_fds_;
    std::vector<ServerRequest> requests_;
    std::thread accept_thread_;
    std::vector<std::thread> connection_threads_;
};

}  // namespace xarch::test
