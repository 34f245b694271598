// SPDX-License-Identifier: Apache-2.0
// A scripted Docker Engine on a real unix socket, for what a real dockerd cannot be made to do:
// announce an old API, die in the middle of an answer, trickle its answer byte by byte. One
// thread serves one connection at a time; each request (headers and its Content-Length or
// chunked body) goes to the test's handler, which writes the answer to the connection.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace xarch::test {

struct FakeRequest {
    std::string method;
    std::string target;   // "/v1.41/images/json"
    std::string headers;  // the raw header block
    std::string body;
};

class FakeEngine {
public:
    // Writes the answer to `fd`; the connection is closed when it returns.
    using Handler = std::function<void(int fd, const FakeRequest& request)>;

    FakeEngine(const std::filesystem::path& socket_path, Handler handler)
        : path_(socket_path), handler_(std::move(handler)) {
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (listener_ < 0 || path_.string().size() >= sizeof(address.sun_path)) {
            throw std::runtime_error("cannot make a unix socket at " + path_.string());
        }
        std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
            ::listen(listener_, 16) != 0) {
            ::close(listener_);
            throw std::runtime_error("cannot listen on " + path_.string());
        }
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeEngine() {
        stop_ = true;
        thread_.join();
        ::close(listener_);
        std::filesystem::remove(path_);
    }
    FakeEngine(const FakeEngine&) = delete;
    FakeEngine& operator=(const FakeEngine&) = delete;

    std::string host() const { return "unix://" + path_.string(); }

    std::vector<FakeRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

    // Writes all of `bytes`; false when the client went away.
    static bool send_all(int fd, std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // A whole answer with Content-Length.
    static void answer(int fd,
                       int status,
                       const std::string& body,
                       const std::string& extra_headers = "Api-Version: 1.41\r\n") {
        send_all(fd, "HTTP/1.1 " + std::to_string(status) + " X\r\n" + extra_headers +
                         "Content-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    }

    // The head of a chunked answer; then chunk() for each piece.
    static void chunked_head(int fd) {
        send_all(fd,
                 "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    }
    static bool chunk(int fd, std::string_view data) {
        char size[32];
        std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
        return send_all(fd, std::string(size) + std::string(data) + "\r\n");
    }
    static void chunked_end(int fd) { send_all(fd, "0\r\n\r\n"); }

private:
    void serve() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            FakeRequest request;
            if (read_request(fd, request)) {
                {
                    std::lock_guard lock(mutex_);
                    requests_.push_back(request);
                }
                handler_(fd, request);
            }
            ::close(fd);
        }
    }

    // Reads until the request's end; false when the client went away first.
    bool read_request(int fd, FakeRequest& request) {
        std::string data;
        const auto more = [&]() {
            char buffer[65536];
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 5000) <= 0) {
                return false;
            }
            const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
            if (n <= 0) {
                return false;
            }
            data.append(buffer, static_cast<std::size_t>(n));
            return true;
        };
        std::size_t end = std::string::npos;
        while ((end = data.find("\r\n\r\n")) == std::string::npos) {
            if (!more()) {
                return false;
            }
        }
        request.headers = data.substr(0, end + 2);
        std::string rest = data.substr(end + 4);
        const std::size_t space = request.headers.find(' ');
        request.method = request.headers.substr(0, space);
        request.target =
            request.headers.substr(space + 1, request.headers.find(' ', space + 1) - space - 1);
        std::string lower = request.headers;
        for (char& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (const auto length_at = lower.find("content-length:"); length_at != std::string::npos) {
            const std::size_t length = std::stoul(lower.substr(length_at + 15));
            data = rest;
            while (data.size() < length) {
                if (!more()) {
                    return false;
                }
            }
            request.body = data.substr(0, length);
        } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
            data = rest;
            std::size_t at = 0;
            while (true) {
                std::size_t line_end;
                while ((line_end = data.find("\r\n", at)) == std::string::npos) {
                    if (!more()) {
                        return false;
                    }
                }
                const std::size_t size = std::stoul(data.substr(at, line_end - at), nullptr, 16);
                while (data.size() < line_end + 2 + size + 2) {
                    if (!more()) {
                        return false;
                    }
                }
                request.body += data.substr(line_end + 2, size);
                at = line_end + 2 + size + 2;
                if (size == 0) {
                    break;
                }
            }
        }
        return true;
    }

    std::filesystem::path path_;
    Handler handler_;
    int listener_ = -1;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<FakeRequest> requests_;
};

}  // namespace xarch::test
