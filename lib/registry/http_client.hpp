// SPDX-License-Identifier: Apache-2.0
// The HTTP client under the registry transport: one libcurl multi handle driven by one
// event-loop thread that the client owns. Any number of threads call send() at once; each waits
// for its own exchange while connections (HTTP/1.1 keep-alive, HTTP/2 multiplexed) are shared
// and at most `max_parallel` transfers run at a time. One send() is one HTTP exchange: no
// redirects are followed and no authentication is added here (the transport decides both).
#pragma once

#include "registry/tls_config.hpp"

#include <xarch/error.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::registry {

// The largest buffered response body: containerd's limit for manifests and indexes. Blobs are
// streamed to a sink instead.
inline constexpr std::size_t kMaxManifestBody = 4 * 1024 * 1024;

// HTTP header fields in order, names compared case-insensitively (HTTP/2 sends them lowercase).
class Headers {
public:
    using Field = std::pair<std::string, std::string>;

    void add(std::string name, std::string value);
    // Replaces every field of that name.
    void set(std::string name, std::string value);
    void remove(std::string_view name);
    // Appends " more" to the last field's value (a folded header line).
    void extend_last(std::string_view more);
    void clear() { fields_.clear(); }

    // The first field's value; nullopt when absent.
    std::optional<std::string> get(std::string_view name) const;
    std::vector<std::string> get_all(std::string_view name) const;
    bool contains(std::string_view name) const { return get(name).has_value(); }

    const std::vector<Field>& fields() const { return fields_; }
    bool empty() const { return fields_.empty(); }

private:
    std::vector<Field> fields_;
};

// Refuse what would let a caller's text smuggle a second header or request onto the wire: CR,
// LF, NUL and other control or non-ASCII bytes, in the method, the URL, header names and
// values. Throws Error(kInvalidArgument) quoting the offending text.
void validate_method(std::string_view method);
void validate_url(std::string_view url);
void validate_header(std::string_view name, std::string_view value);

// Bytes moved by one request: the response body for downloads, the request body for uploads.
struct TransferProgress {
    std::uint64_t done = 0;
    std::optional<std::uint64_t> total;  // nullopt when the length is unknown
};
using ProgressHook = std::function<void(const TransferProgress&)>;

// Receives a successful (2xx) response body in pieces, in order. Runs on the client's thread,
// so it should not block for long; an exception aborts the transfer and reaches send()'s caller.
using BodySink = std::function<void(std::string_view chunk)>;

// Supplies a request body in pieces. `read` fills up to `size` bytes and returns how many, 0 at
// the end; it runs on the client's thread. `rewind` starts over from the first byte; without it
// the body cannot be sent twice (no retry, no redirect with the body). `size` is the length
// when known (Content-Length); unknown lengths go chunked on HTTP/1.1.
struct BodySource {
    std::function<std::size_t(char* buffer, std::size_t size)> read;
    std::function<void()> rewind;
    std::optional<std::uint64_t> size;
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    Headers headers;
    // The body: a buffer, or a source, or neither (empty body for POST, PUT and PATCH).
    std::optional<std::string> body;
    std::optional<BodySource> source;
    // Where a 2xx body goes; without a sink it is buffered in the response up to max_body, and
    // a larger one (by Content-Length or by its bytes) fails the request. Bodies of other
    // statuses are always buffered, cut at min(max_body, kMaxErrorBody).
    BodySink sink;
    std::size_t max_body = kMaxManifestBody;
    // Called with the final status and headers before any body byte reaches the sink.
    std::function<void(int status, const Headers& headers)> on_headers;
    std::shared_ptr<const TlsSettings> tls;  // null: verify against the default CAs
    ProgressHook progress;
    // Checked while the transfer waits and runs; when it becomes true send() throws
    // Error(kCancelled) promptly.
    const std::atomic<bool>* cancel = nullptr;
    // The whole exchange must finish in this time (0: no limit beyond the stall limits).
    std::chrono::milliseconds timeout{0};
};

struct HttpResponse {
    int status = 0;
    Headers headers;
    std::string body;              // empty when a sink took it
    std::uint64_t body_bytes = 0;  // bytes of the body received, sink or not
    bool body_truncated = false;   // an error body longer than its limit was cut
    std::string url;               // the URL that answered
    int http_version = 0;          // 1 (HTTP/1.x) or 2
};

// Why an exchange got no complete answer.
enum class NetworkFailure {
    kResolve,    // the host name does not resolve
    kConnect,    // the TCP connection was refused or could not be made
    kTls,        // the TLS handshake failed (for instance the server does not speak TLS)
    kTlsVerify,  // the server's certificate did not verify
    kTimeout,    // a connect, stall or overall timeout
    kReset,      // the connection broke off (reset, closed early, HTTP/2 stream error)
    kProtocol,   // the server's answer was not valid HTTP
    kOther,
};

// A RegistryError with code kNetwork and the reason the HTTP client saw, so that the transport
// can tell "no TLS here" (try plain HTTP) from "certificate did not verify".
class NetworkError : public RegistryError {
public:
    NetworkError(NetworkFailure failure, const std::string& message, bool temporary)
        : RegistryError(ErrorCode::kNetwork, message, 0, {}, temporary), failure_(failure) {}
    NetworkFailure failure() const noexcept { return failure_; }

private:
    NetworkFailure failure_;
};

struct HttpClientOptions {
    std::size_t max_parallel = 4;  // transfers at once (STYLE's `jobs`)
    std::chrono::milliseconds connect_timeout{30'000};
    // A transfer slower than low_speed_limit bytes/s for low_speed_time is abandoned (kTimeout),
    // so that a stalled server cannot hang a build.
    long low_speed_limit = 1;
    std::chrono::seconds low_speed_time{60};
    std::string user_agent;  // "" sends xarch/<version>
};

class HttpClient {
public:
    // Starts the event-loop thread. Throws Error(kInternal) when libcurl cannot be set up.
    explicit HttpClient(HttpClientOptions options = {});
    // Fails the transfers still queued or running (their send() throws Error(kCancelled)) and
    // joins the thread. Never throws.
    ~HttpClient();

    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Performs one exchange and returns the answer, whatever its status. Throws
    // Error(kInvalidArgument) for a malformed request, NetworkError when there is no complete
    // answer, RegistryError(kRegistry) for a body over its limit, Error(kCancelled), and
    // whatever a sink, source or progress hook threw. Thread-safe; must not be called from a
    // sink, source or hook (it throws Error(kInternal) there rather than deadlock).
    HttpResponse send(const HttpRequest& request);

    const HttpClientOptions& options() const;

    // The most transfers that ran at the same time since the client started.
    std::size_t peak_active() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xarch::registry
