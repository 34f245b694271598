// SPDX-License-Identifier: Apache-2.0
// The Docker Engine API client: API version negotiation, JSON requests and streamed answers
// over a unix socket or TCP (HTTPS with the endpoint's certificates), with errors that name the
// engine and say what to do.
#pragma once

#include "engine/endpoint.hpp"

#include <xarch/credentials.hpp>
#include <xarch/error.hpp>
#include <xarch/platform.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::engine {

inline constexpr std::string_view kMinApiVersion = "1.38";  // platform= on /build, push aux
inline constexpr std::string_view kMaxApiVersion = "1.41";

struct EngineInfo {
    std::string name;            // /info Name
    std::string server_version;  // "20.10.24+dfsg1"
    std::string api_version;     // negotiated
    std::string os;              // "linux"
    std::string architecture;    // GOARCH: "amd64", "arm64", "arm" (from /version Arch)
    int cpus = 0;
};

struct ClientOptions {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{30000};  // get_json/post; stream() has none
};

// The engine answered with an HTTP error status: the status and the engine's own text (its
// {"message"}, else the body). Code kNotFound for 404, kAuthentication for 401/403, else kIo.
class EngineError : public Error {
public:
    EngineError(ErrorCode code,
                const std::string& message,
                int http_status,
                std::string engine_message)
        : Error(code, message),
          http_status_(http_status),
          engine_message_(std::move(engine_message)) {}
    int http_status() const noexcept { return http_status_; }
    const std::string& engine_message() const noexcept { return engine_message_; }

private:
    int http_status_;
    std::string engine_message_;
};

// One engine. Thread-safe: requests from several threads at once each use their own connection.
class Client {
public:
    // Throws Error(kInvalidArgument) when the endpoint's host is not unix:// or tcp://.
    explicit Client(Endpoint endpoint, ClientOptions options = {});
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    const Endpoint& endpoint() const;
    // GET /_ping once (cached, thread-safe): min(engine's Api-Version header, kMaxApiVersion).
    // Error(kNetwork) "cannot connect to the Docker Engine at unix:///x: <why>; is dockerd
    // running? ..." for a missing or refused socket; Error(kUnsupported) "the Docker Engine at
    // X speaks API 1.24; xarch needs 1.38 or newer (Docker 18.06+)".
    std::string api_version();
    EngineInfo info();  // /version + /info
    // The engine's own platform (/version's Os and Arch, normalized): what it builds without
    // emulation. One request, for builds; info() is for listings.
    Platform platform();
    // GET /v<api>/<path_and_query> (path starts with '/'); parsed JSON. HTTP errors throw
    // EngineError (404 kNotFound, 401/403 kAuthentication, others kIo) with the engine's
    // {"message"}.
    boost::json::value get_json(std::string_view path_and_query);
    // POST without a body expecting 2xx (tag, ...); errors as get_json. Returns the body.
    std::string post(std::string_view path_and_query);
    struct Request {
        std::string method = "POST";
        std::string path_and_query;        // versioned by the client
        std::vector<std::string> headers;  // "Name: value"
        // Fills up to `size` bytes of the body into `buffer`; returns 0 at its end. Null: no
        // body. May throw (the request is aborted and the exception rethrown by stream()).
        std::function<std::size_t(char* buffer, std::size_t size)> body;
    };
    // Sends `request` and calls on_message for every JSON object of the answer (one per line,
    // lines split across chunks handled) as it arrives; a non-JSON line comes as {"stream":
    // line}. HTTP error statuses throw as get_json. `cancelled` is polled (>= 10 times/s) and
    // aborts with Error(kCancelled). A connection that ends mid-answer (the engine died) throws
    // Error(kNetwork) naming the host. {"error": ...} messages are passed on like the others.
    // An exception from on_message aborts the request and is rethrown.
    void stream(const Request& request,
                const std::function<void(const boost::json::object&)>& on_message,
                const std::function<bool()>& cancelled = {});
    // "unix:///var/run/docker.sock" (for messages)
    const std::string& host() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

// The text of a message's "error" / "errorDetail.message"; "" when it has none.
std::string message_error(const boost::json::object& message);

// The X-Registry-Auth header line ("X-Registry-Auth: <base64url of {"username","password",
// "serveraddress"} or {"identitytoken",...} or {"registrytoken"}>"); anonymous: of "{}".
// The keys are docker's types.AuthConfig JSON names; empty fields are left out (omitempty).
std::string registry_auth_header(const std::optional<Credentials>& credentials,
                                 std::string_view server_address);

}  // namespace xarch::engine
