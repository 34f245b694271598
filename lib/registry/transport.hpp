// SPDX-License-Identifier: Apache-2.0
// The registry transport: everything between "send this request to that registry" and the
// wire. Per registry host it picks the scheme (HTTPS, or plain HTTP for insecure registries as
// dockerd does), pings /v2/, answers Basic and Bearer challenges (tokens per scope set, cached),
// retries temporary failures with backoff, follows blob redirects without leaking credentials,
// and turns error answers into RegistryError. The operations (resolve, pull, push, mount, ...)
// are built on Transport::send().
#pragma once

#include "registry/http_client.hpp"
#include "registry/retry.hpp"
#include "registry/tls_config.hpp"
#include "registry/token_cache.hpp"
#include "registry/url.hpp"

#include <xarch/credentials.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::registry {

struct TransportOptions {
    // Credentials per registry (as written in references); null or nullopt: anonymous.
    CredentialsLookup credentials;
    // Registries ("host:port", or "host" for every port) reached like dockerd's
    // --insecure-registry: HTTPS without certificate verification when verification fails,
    // plain HTTP when the server does not speak TLS.
    std::vector<std::string> insecure_registries;
    // localhost, 127.0.0.0/8 and ::1 count as insecure registries, as in dockerd.
    bool insecure_loopback = true;
    // A PEM file of CAs trusted in addition to the system's.
    std::string ca_bundle;
    // docker's certs.d: <dir>/<host[:port]>/*.crt CAs (which make verified HTTPS mandatory for
    // that host), client.cert + client.key a client certificate.
    std::string certs_dir = "/etc/docker/certs.d";
    std::string user_agent;        // "" sends xarch/<version>
    std::size_t max_parallel = 4;  // transfers at once across all registries of the session
    std::chrono::milliseconds connect_timeout{30'000};
    long low_speed_limit = 1;  // bytes/s; slower for low_speed_time fails the transfer
    std::chrono::seconds low_speed_time{60};
    RetryPolicy retry;
};

// How a registry is reached, decided by the ping.
enum class Scheme {
    kHttps,            // TLS with a verified certificate
    kHttpsUnverified,  // TLS, certificate not verified (an insecure registry)
    kHttp,             // plain HTTP (an insecure registry without TLS)
};

struct TransportRequest {
    std::string method = "GET";
    // "/v2/<name>/manifests/<ref>" (path and query, relative to the registry), or an absolute
    // http(s) URL such as an upload Location. Credentials go only to the registry's own origin.
    std::string target;
    Headers headers;
    // What the request needs: repository_scope(name, "pull"), (name, "pull,push"), or two
    // scopes for a cross-repository mount. Used when the registry asks for Bearer tokens.
    std::vector<std::string> scopes;
    std::optional<std::string> body;
    std::optional<BodySource> source;
    // Streams a 2xx body. A download that breaks off is retried from where it stopped
    // (Range: bytes=N-, or skipping N bytes when the server ignores ranges), so the sink sees
    // each byte once, in order.
    BodySink sink;
    std::size_t max_body = kMaxManifestBody;
    // The statuses that count as success; empty: any 2xx. Others throw.
    std::vector<int> accept_status;
    // Follow 301/302/303/307/308 (blob GETs: registries redirect to storage). The
    // Authorization header is dropped when the redirect leaves the registry's origin.
    bool follow_redirects = false;
    // Whether a failed attempt may be sent again; nullopt: GET, HEAD, PUT and PATCH are, when
    // their body (if any) can be rewound.
    std::optional<bool> replayable;
    // Bytes done/total: the downloaded body (across resumed attempts) or the uploaded body.
    ProgressHook progress;
    const std::atomic<bool>* cancel = nullptr;
    std::chrono::milliseconds timeout{0};  // per attempt; 0: only the stall limits
};

// State shared by the transports of one Session. Internal.
struct SessionState {
    explicit SessionState(TransportOptions o);

    TransportOptions options;
    HttpClient http;
    TlsConfig tls;
    TokenCache tokens;

    std::mutex mutex;  // guards unverified_hosts
    // Hosts other than registries (token realms, storage) that needed TLS without
    // verification, remembered so that the verified attempt is made once.
    std::set<std::string> unverified_hosts;

    // Whether `authority` may be reached insecurely (loopback or listed).
    bool allows_insecure(std::string_view authority) const;
};

class Transport {
public:
    // Prefer Session::transport(), which shares one Transport per registry.
    Transport(std::shared_ptr<SessionState> state, std::string registry);

    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // The registry as written in references ("docker.io", "localhost:5000").
    const std::string& registry() const { return registry_; }
    // Where its API is ("registry-1.docker.io", "localhost:5000").
    const std::string& authority() const { return authority_; }

    // GET /v2/ to settle the scheme and learn the auth challenge; done once (again after a
    // failure). send() calls it. Throws like send().
    void ping(const std::atomic<bool>* cancel = nullptr);

    // The scheme settled by ping() (pinging when needed).
    Scheme scheme(const std::atomic<bool>* cancel = nullptr);

    // "https://host:port" or "http://host:port" (pinging when needed).
    std::string base_url(const std::atomic<bool>* cancel = nullptr);

    // Sends `request` with authentication and retries and returns the answer when its status is
    // accepted. Throws:
    //   AuthError               401 after re-authenticating once, refused or missing credentials
    //   RegistryError           kPermissionDenied (403, or a scope the credentials may not
    //                           have), kNotFound (404), kDigestMismatch, kUnsupported, kRegistry
    //                           (other statuses; temporary() for 429 and 5xx once retries are
    //                           spent), kNetwork (no answer: refused, reset, timeout, TLS)
    //   Error                   kCancelled, kInvalidArgument (CR/LF or control bytes in the
    //                           target or a header)
    // No message contains a password, identity token or registry token.
    // Thread-safe: many threads may send through one Transport at once.
    HttpResponse send(const TransportRequest& request);

private:
    enum class AuthKind { kUnknown, kNone, kBasic, kBearer };
    struct Download;

    std::optional<Credentials> credentials();
    std::vector<std::string> secrets() const;
    void add_secret(std::string secret);

    void ping_once(const std::atomic<bool>* cancel);
    // ping() with at most `max_attempts` tries.
    void ping(const std::atomic<bool>* cancel, int max_attempts);
    // base_url() pinging at most once (for send(), which retries as a whole).
    std::string base_url_once(const std::atomic<bool>* cancel);
    void record_ping(Scheme scheme, const HttpResponse& response);
    void learn_challenge(const HttpResponse& response);

    std::string registry_origin() const;
    std::shared_ptr<const TlsSettings> tls_for(const Url& url) const;
    HttpResponse send_anywhere(HttpRequest& request, const Url& url);
    HttpResponse exchange(HttpRequest& request, bool follow_redirects, bool& body_sent);
    HttpResponse try_once(const TransportRequest& request, Download* download, bool& body_sent);
    void authorize(HttpRequest& request,
                   const Url& url,
                   const std::vector<std::string>& scopes,
                   bool force_new_token);
    TokenResponse fetch_token(const std::vector<std::string>& scopes,
                              const std::atomic<bool>* cancel);

    std::shared_ptr<SessionState> state_;
    std::string registry_;
    std::string authority_;
    Url api_url_;  // https://authority/
    bool insecure_allowed_;
    HostTls tls_;

    std::mutex ping_mutex_;  // one ping at a time
    mutable std::mutex mutex_;
    std::optional<Scheme> scheme_;
    AuthKind auth_ = AuthKind::kUnknown;
    std::string realm_;
    std::string service_;
    std::vector<std::string> secrets_;

    std::mutex credentials_mutex_;
    bool credentials_loaded_ = false;
    std::optional<Credentials> credentials_;
};

// A set of registry transports sharing one HTTP client (connections, parallelism bound), one
// token cache and one TLS configuration. Thread-safe.
class Session {
public:
    // Throws Error(kInvalidArgument) when the CA bundle cannot be read.
    explicit Session(TransportOptions options = {});

    // The transport for `registry` as written in references ("localhost:5000", "docker.io"),
    // made on first use and shared afterwards. Throws Error(kInvalidArgument) for a malformed
    // registry name.
    std::shared_ptr<Transport> transport(std::string_view registry);

    const TransportOptions& options() const { return state_->options; }
    HttpClient& http() { return state_->http; }
    TokenCache& tokens() { return state_->tokens; }

private:
    std::shared_ptr<SessionState> state_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Transport>, std::less<>> transports_;
};

// "Basic <base64(username:password)>".
std::string basic_authorization(std::string_view username, std::string_view password);

// Query parameters of a token request: service (when not empty) and one `scope` per scope.
std::string token_query(std::string_view service, const std::vector<std::string>& scopes);

// The OAuth2 form body of a refresh-token grant (docker's token spec, "OAuth2 token").
std::string oauth_form(std::string_view service,
                       const std::vector<std::string>& scopes,
                       std::string_view refresh_token,
                       std::string_view client_id);

}  // namespace xarch::registry
