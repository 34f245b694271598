// SPDX-License-Identifier: Apache-2.0
#include "registry/transport.hpp"

#include "registry/challenge.hpp"
#include "registry/registry_errors.hpp"
#include "util/base64.hpp"
#include "util/quote.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <utility>

namespace xarch::registry {

namespace {

constexpr int kMaxRedirects = 10;
constexpr std::size_t kMaxTokenBody = 1024 * 1024;
constexpr std::size_t kMaxRememberedSecrets = 64;

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool accepted(const TransportRequest& request, int status) {
    if (request.accept_status.empty()) {
        return status >= 200 && status < 300;
    }
    return std::find(request.accept_status.begin(), request.accept_status.end(), status) !=
           request.accept_status.end();
}

std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string out;
    for (const std::string& scope : scopes) {
        out += (out.empty() ? "" : " ") + scope;
    }
    return out;
}

std::string scope_phrase(const std::vector<std::string>& scopes) {
    return scopes.empty() ? std::string("no scope") : "scope " + util::quote(join_scopes(scopes));
}

// "bytes START-END/TOTAL" -> START and TOTAL (TOTAL may be "*").
bool parse_content_range(std::string_view text,
                         std::uint64_t& start,
                         std::optional<std::uint64_t>& total) {
    text = util::trim(text);
    if (!text.starts_with("bytes ")) {
        return false;
    }
    text.remove_prefix(6);
    const std::size_t dash = text.find('-');
    const std::size_t slash = text.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + dash, start);
    if (ec != std::errc() || end != text.data() + dash) {
        return false;
    }
    const std::string_view total_text = text.substr(slash + 1);
    std::uint64_t value = 0;
    const auto [total_end, total_ec] =
        std::from_chars(total_text.data(), total_text.data() + total_text.size(), value);
    if (total_ec == std::errc() && total_end == total_text.data() + total_text.size()) {
        total = value;
    }
    return true;
}

std::optional<std::uint64_t> content_length(const Headers& headers) {
    const auto text = headers.get("Content-Length");
    if (!text) {
        return std::nullopt;
    }
    const std::string_view trimmed = util::trim(*text);
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
    if (ec != std::errc() || end != trimmed.data() + trimmed.size()) {
        return std::nullopt;
    }
    return value;
}

// Rethrows the exception being handled with `suffix` appended to its message and every secret
// redacted, keeping its type. Exceptions that are not ours (a sink's own) pass unchanged.
[[noreturn]] void rethrow_adjusted(const std::vector<std::string>& secrets,
                                   std::string_view suffix = {}) {
    const auto adjust = [&](const char* what) {
        return redact(what + std::string(suffix), secrets);
    };
    try {
        throw;
    } catch (const NetworkError& e) {
        throw NetworkError(e.failure(), adjust(e.what()), e.temporary());
    } catch (const AuthError& e) {
        throw AuthError(adjust(e.what()), e.http_status(), e.distribution_code());
    } catch (const RegistryError& e) {
        throw RegistryError(e.code(), adjust(e.what()), e.http_status(), e.distribution_code(),
                            e.temporary());
    } catch (const Error& e) {
        const std::string message = adjust(e.what());
        if (message == e.what()) {
            throw;
        }
        throw Error(e.code(), message);
    }
}

[[noreturn]] void throw_cancelled(std::string_view method, std::string_view url) {
    throw Error(ErrorCode::kCancelled,
                std::string(method) + " " + url_for_message(url) + ": cancelled");
}

}  // namespace

std::string basic_authorization(std::string_view username, std::string_view password) {
    return "Basic " + util::base64_encode(std::string(username) + ":" + std::string(password));
}

std::string token_query(std::string_view service, const std::vector<std::string>& scopes) {
    std::string query;
    if (!service.empty()) {
        query = "service=" + percent_encode(service);
    }
    for (const std::string& scope : scopes) {
        query += (query.empty() ? "scope=" : "&scope=") + percent_encode(scope);
    }
    return query;
}

std::string oauth_form(std::string_view service,
                       const std::vector<std::string>& scopes,
                       std::string_view refresh_token,
                       std::string_view client_id) {
    std::string form = "grant_type=refresh_token&refresh_token=" + percent_encode(refresh_token) +
                       "&client_id=" + percent_encode(client_id);
    if (!service.empty()) {
        form += "&service=" + percent_encode(service);
    }
    if (!scopes.empty()) {
        form += "&scope=" + percent_encode(join_scopes(scopes));
    }
    return form;
}

// ---- SessionState and Session -------------------------------------------------------------

namespace {

HttpClientOptions http_options(const TransportOptions& options) {
    HttpClientOptions out;
    out.max_parallel = options.max_parallel;
    out.connect_timeout = options.connect_timeout;
    out.low_speed_limit = options.low_speed_limit;
    out.low_speed_time = options.low_speed_time;
    out.user_agent = options.user_agent;
    return out;
}

}  // namespace

SessionState::SessionState(TransportOptions o)
    : options(std::move(o)),
      http(http_options(options)),
      tls(options.ca_bundle, options.certs_dir) {}

bool SessionState::allows_insecure(std::string_view authority) const {
    if (options.insecure_loopback && is_loopback(authority)) {
        return true;
    }
    const std::string lower = util::to_lower_ascii(authority);
    for (const std::string& entry : options.insecure_registries) {
        // Accept "http://host:port/" as well as "host:port": people paste URLs.
        std::string_view name = util::trim(entry);
        if (const std::size_t sep = name.find("://"); sep != std::string_view::npos) {
            name.remove_prefix(sep + 3);
        }
        while (name.ends_with('/')) {
            name.remove_suffix(1);
        }
        const std::string wanted = util::to_lower_ascii(name);
        if (wanted == lower || wanted == host_of(lower)) {
            return true;
        }
    }
    return false;
}

Session::Session(TransportOptions options)
    : state_(std::make_shared<SessionState>(std::move(options))) {}

std::shared_ptr<Transport> Session::transport(std::string_view registry) {
    const std::lock_guard lock(mutex_);
    if (const auto it = transports_.find(registry); it != transports_.end()) {
        return it->second;
    }
    auto transport = std::make_shared<Transport>(state_, std::string(registry));
    transports_.emplace(std::string(registry), transport);
    return transport;
}

// ---- Transport ----------------------------------------------------------------------------

struct Transport::Download {
    std::uint64_t delivered = 0;  // bytes handed to the caller's sink so far
    std::uint64_t skip = 0;       // bytes of the current answer the sink has seen already
    std::optional<std::uint64_t> total;
    bool range_requested = false;
    bool resumed = false;
};

Transport::Transport(std::shared_ptr<SessionState> state, std::string registry)
    : state_(std::move(state)), registry_(std::move(registry)) {
    authority_ = api_authority(registry_);
    const auto url = parse_url("https://" + authority_ + "/");
    if (!url || url->authority() != authority_) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid registry " + util::quote(registry_) + ": not a host[:port]");
    }
    api_url_ = *url;
    insecure_allowed_ = state_->allows_insecure(authority_);
    tls_ = state_->tls.for_host(authority_);
}

std::optional<Credentials> Transport::credentials() {
    const std::lock_guard lock(credentials_mutex_);
    if (!credentials_loaded_) {
        if (state_->options.credentials) {
            credentials_ = state_->options.credentials(registry_);
            if (credentials_ && credentials_->empty()) {
                credentials_.reset();
            }
        }
        credentials_loaded_ = true;
        if (credentials_) {
            add_secret(credentials_->password);
            add_secret(credentials_->identity_token);
            add_secret(credentials_->registry_token);
            if (!credentials_->password.empty()) {
                add_secret(
                    basic_authorization(credentials_->username, credentials_->password).substr(6));
            }
        }
    }
    return credentials_;
}

void Transport::add_secret(std::string secret) {
    // Very short "secrets" would redact ordinary words from messages; a real one is longer.
    if (secret.size() < 4) {
        return;
    }
    const std::lock_guard lock(mutex_);
    if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) {
        return;
    }
    if (secrets_.size() >= kMaxRememberedSecrets) {
        // Keep the credentials (added first); forget the oldest tokens.
        secrets_.erase(secrets_.begin() + 4);
    }
    secrets_.push_back(std::move(secret));
}

std::vector<std::string> Transport::secrets() const {
    const std::lock_guard lock(mutex_);
    return secrets_;
}

std::string Transport::registry_origin() const {
    Url url = api_url_;
    const std::lock_guard lock(mutex_);
    if (scheme_ == Scheme::kHttp) {
        url.scheme = "http";
    }
    return url.origin();
}

std::shared_ptr<const TlsSettings> Transport::tls_for(const Url& url) const {
    if (url.origin() == registry_origin()) {
        const std::lock_guard lock(mutex_);
        return scheme_ == Scheme::kHttpsUnverified ? tls_.unverified : tls_.verified;
    }
    const HostTls other = state_->tls.for_host(url.authority());
    if (!other.pinned_ca && state_->allows_insecure(url.authority())) {
        const std::lock_guard lock(state_->mutex);
        if (state_->unverified_hosts.count(url.authority()) != 0) {
            return other.unverified;
        }
    }
    return other.verified;
}

HttpResponse Transport::send_anywhere(HttpRequest& request, const Url& url) {
    request.tls = tls_for(url);
    try {
        return state_->http.send(request);
    } catch (const NetworkError& e) {
        // A token realm or storage host that is insecure like the registry gets the same
        // treatment: verification first, then without it (once, then remembered).
        const bool other_host = url.origin() != registry_origin();
        if (e.failure() != NetworkFailure::kTlsVerify || !other_host || !request.tls->verify ||
            !state_->allows_insecure(url.authority()) ||
            state_->tls.for_host(url.authority()).pinned_ca) {
            throw;
        }
        if (request.source && !request.source->rewind) {
            throw;
        }
        if (request.source) {
            request.source->rewind();
        }
        {
            const std::lock_guard lock(state_->mutex);
            state_->unverified_hosts.insert(url.authority());
        }
        request.tls = state_->tls.for_host(url.authority()).unverified;
        return state_->http.send(request);
    }
}

void Transport::ping(const std::atomic<bool>* cancel) {
    ping(cancel, state_->options.retry.max_attempts);
}

void Transport::ping(const std::atomic<bool>* cancel, int max_attempts) {
    {
        const std::lock_guard lock(mutex_);
        if (scheme_) {
            return;
        }
    }
    const std::lock_guard ping_lock(ping_mutex_);
    {
        const std::lock_guard lock(mutex_);
        if (scheme_) {
            return;
        }
    }
    const RetryPolicy& policy = state_->options.retry;
    for (int attempt = 1;; ++attempt) {
        try {
            ping_once(cancel);
            return;
        } catch (const RegistryError& e) {
            if (!e.temporary() || attempt >= max_attempts) {
                rethrow_adjusted(secrets(), attempt > 1 ? " (gave up after " +
                                                              std::to_string(attempt) + " attempts)"
                                                        : std::string());
            }
        }
        if (!sleep_unless_cancelled(backoff_delay(policy, attempt), cancel)) {
            throw_cancelled("GET", "https://" + authority_ + "/v2/");
        }
    }
}

void Transport::ping_once(const std::atomic<bool>* cancel) {
    HttpRequest request;
    request.method = "GET";
    request.max_body = kMaxErrorBody;
    request.cancel = cancel;
    const auto try_scheme = [&](Scheme scheme) {
        request.url = (scheme == Scheme::kHttp ? "http://" : "https://") + authority_ + "/v2/";
        request.tls = scheme == Scheme::kHttpsUnverified ? tls_.unverified : tls_.verified;
        const HttpResponse response = state_->http.send(request);
        record_ping(scheme, response);
    };
    const bool may_fall_back = insecure_allowed_ && !tls_.pinned_ca;
    if (may_fall_back) {
        // Whether the server speaks TLS at all is asked without verification first: a
        // verifying handshake loads the whole CA store (~240M instructions, most of a small
        // push's CPU), which is wasted on a plain-HTTP registry, as loopback ones often are.
        std::optional<HttpResponse> unverified;
        try {
            request.url = "https://" + authority_ + "/v2/";
            request.tls = tls_.unverified;
            unverified = state_->http.send(request);
        } catch (const NetworkError& e) {
            if (e.failure() == NetworkFailure::kResolve) {
                throw;
            }
            try {
                try_scheme(Scheme::kHttp);
                return;
            } catch (const NetworkError& plain) {
                throw NetworkError(plain.failure(), std::string(e.what()) + "; " + plain.what(),
                                   plain.temporary());
            }
        }
        // It speaks TLS: verified when its certificate verifies, else (an insecure registry
        // accepts that, as dockerd does) unverified, with the answer already in hand.
        try {
            try_scheme(Scheme::kHttps);
        } catch (const NetworkError& e) {
            if (e.failure() != NetworkFailure::kTlsVerify) {
                throw;
            }
            record_ping(Scheme::kHttpsUnverified, *unverified);
        }
        return;
    }
    try {
        try_scheme(Scheme::kHttps);
    } catch (const NetworkError& e) {
        if (e.failure() == NetworkFailure::kTlsVerify || e.failure() == NetworkFailure::kTls) {
            const std::string& dir = state_->tls.certs_dir();
            std::string hint;
            if (tls_.pinned_ca) {
                hint = "; the CA in " + util::quote(dir + "/" + authority_) +
                       " must sign its certificate";
            } else {
                hint = "; trust its CA with ca_bundle" +
                       (dir.empty() ? std::string()
                                    : " or " + util::quote(dir + "/" + authority_ + "/ca.crt")) +
                       ", or list the registry as insecure";
            }
            throw NetworkError(e.failure(), e.what() + hint, e.temporary());
        }
        throw;
    }
}

void Transport::record_ping(Scheme scheme, const HttpResponse& response) {
    if (is_temporary_status(response.status)) {
        // An overloaded registry: try the ping again rather than settle on a guess.
        throw_error(describe_http_error("GET", response.url, response.status, response.body));
    }
    const std::lock_guard lock(mutex_);
    scheme_ = scheme;
    if (response.status >= 200 && response.status < 300) {
        auth_ = AuthKind::kNone;
    }
    if (response.status == 401) {
        const auto challenge =
            pick_challenge(parse_challenges(response.headers.get_all("WWW-Authenticate")));
        if (challenge && challenge->scheme == "bearer") {
            auth_ = AuthKind::kBearer;
            realm_ = challenge->param("realm");
            service_ = challenge->param("service");
        } else if (challenge) {
            auth_ = AuthKind::kBasic;
        }
    }
    // Other answers (404 from a proxy that only routes repositories) leave the auth unknown:
    // the first 401 will say what it is.
}

void Transport::learn_challenge(const HttpResponse& response) {
    const auto challenge =
        pick_challenge(parse_challenges(response.headers.get_all("WWW-Authenticate")));
    if (!challenge) {
        return;
    }
    const std::lock_guard lock(mutex_);
    if (challenge->scheme == "bearer") {
        auth_ = AuthKind::kBearer;
        if (!challenge->param("realm").empty()) {
            realm_ = challenge->param("realm");
        }
        service_ = challenge->param("service");
    } else {
        auth_ = AuthKind::kBasic;
    }
}

Scheme Transport::scheme(const std::atomic<bool>* cancel) {
    ping(cancel);
    const std::lock_guard lock(mutex_);
    return *scheme_;
}

std::string Transport::base_url(const std::atomic<bool>* cancel) {
    return (scheme(cancel) == Scheme::kHttp ? "http://" : "https://") + authority_;
}

std::string Transport::base_url_once(const std::atomic<bool>* cancel) {
    // One ping attempt: send() retries the whole request, ping included, so retrying here too
    // would multiply the attempts and the waits.
    ping(cancel, 1);
    const std::lock_guard lock(mutex_);
    return (*scheme_ == Scheme::kHttp ? "http://" : "https://") + authority_;
}

TokenResponse Transport::fetch_token(const std::vector<std::string>& scopes,
                                     const std::atomic<bool>* cancel) {
    std::string realm;
    std::string service;
    Scheme scheme = Scheme::kHttps;
    {
        const std::lock_guard lock(mutex_);
        realm = realm_;
        service = service_;
        scheme = scheme_.value_or(Scheme::kHttps);
    }
    const auto realm_url = parse_url(realm);
    if (!realm_url) {
        throw AuthError("registry " + util::quote(registry_) + " sent an unusable token realm " +
                            util::quote(realm),
                        401);
    }
    if (realm_url->scheme == "http" && scheme != Scheme::kHttp &&
        !state_->allows_insecure(realm_url->authority())) {
        // Credentials would cross the network in the clear for a registry reached over TLS.
        throw AuthError("registry " + util::quote(registry_) + " sent a plain-HTTP token realm " +
                            util::quote(url_for_message(realm)) +
                            "; refusing to send credentials there",
                        401);
    }
    const std::optional<Credentials> creds = credentials();
    const auto refused = [&](const HttpResponse& response, std::string_view method,
                             const std::string& url) {
        ErrorInfo info = describe_http_error(method, url, response.status, response.body);
        info.message += " (the token service of registry " + util::quote(registry_) +
                        (creds ? " refused the credentials" : " refused anonymous access") +
                        " for " + scope_phrase(scopes) + ")";
        if (response.status == 401 || response.status == 403) {
            info.code = ErrorCode::kAuthentication;
        }
        throw_error(std::move(info));
    };

    HttpRequest request;
    request.max_body = kMaxTokenBody;
    request.cancel = cancel;
    request.headers.add("Accept", "application/json");
    if (creds && !creds->identity_token.empty()) {
        // OAuth2 refresh-token grant; token services without OAuth2 answer 404 or 405, and
        // the GET below is tried instead.
        request.method = "POST";
        request.url = realm;
        request.body = oauth_form(service, scopes, creds->identity_token, "xarch");
        request.headers.add("Content-Type", "application/x-www-form-urlencoded");
        const HttpResponse response = send_anywhere(request, *realm_url);
        if (response.status == 200) {
            TokenResponse token = parse_token_response(response.body);
            add_secret(token.token);
            add_secret(token.refresh_token);
            return token;
        }
        if (response.status != 404 && response.status != 405) {
            refused(response, "POST", realm);
        }
        request.body.reset();
        request.headers.remove("Content-Type");
    }
    request.method = "GET";
    const std::string query = token_query(service, scopes);
    Url url = *realm_url;
    if (!query.empty()) {
        url.target += (url.target.find('?') == std::string::npos ? "?" : "&") + query;
    }
    request.url = url.str();
    if (creds && !creds->username.empty() && !creds->password.empty()) {
        request.headers.set("Authorization", basic_authorization(creds->username, creds->password));
    }
    const HttpResponse response = send_anywhere(request, url);
    if (response.status != 200) {
        refused(response, "GET", request.url);
    }
    TokenResponse token = parse_token_response(response.body);
    add_secret(token.token);
    add_secret(token.refresh_token);
    return token;
}

void Transport::authorize(HttpRequest& request,
                          const Url& url,
                          const std::vector<std::string>& scopes,
                          bool force_new_token) {
    request.headers.remove("Authorization");
    if (url.origin() != registry_origin()) {
        // Credentials belong to the registry alone, never to a host it points us at.
        return;
    }
    AuthKind kind = AuthKind::kUnknown;
    {
        const std::lock_guard lock(mutex_);
        kind = auth_;
    }
    const std::optional<Credentials> creds = credentials();
    if (creds && !creds->registry_token.empty() && kind != AuthKind::kBasic) {
        request.headers.set("Authorization", "Bearer " + creds->registry_token);
        return;
    }
    if (kind == AuthKind::kBasic) {
        if (creds && !creds->username.empty()) {
            request.headers.set("Authorization",
                                basic_authorization(creds->username, creds->password));
        }
        return;
    }
    if (kind == AuthKind::kBearer) {
        const std::vector<std::string> wanted = normalize_scopes(scopes);
        const std::string token = state_->tokens.get(
            authority_, wanted, [&] { return fetch_token(wanted, request.cancel); },
            force_new_token);
        request.headers.set("Authorization", "Bearer " + token);
    }
}

HttpResponse Transport::exchange(HttpRequest& request, bool follow_redirects, bool& body_sent) {
    auto url = parse_url(request.url);
    if (!url) {
        validate_url(request.url);
    }
    for (int hop = 0;; ++hop) {
        if (body_sent && request.source) {
            if (!request.source->rewind) {
                throw Error(ErrorCode::kInternal, request.method + " " +
                                                      url_for_message(request.url) +
                                                      ": the request body cannot be sent again");
            }
            request.source->rewind();
        }
        body_sent = request.body.has_value() || request.source.has_value();
        HttpResponse response = send_anywhere(request, *url);
        if (!follow_redirects || !is_redirect(response.status)) {
            return response;
        }
        const auto location = response.headers.get("Location");
        if (!location) {
            return response;
        }
        const std::string where = request.method + " " + url_for_message(request.url);
        if (hop >= kMaxRedirects) {
            throw RegistryError(
                ErrorCode::kRegistry,
                where + ": more than " + std::to_string(kMaxRedirects) + " redirects",
                response.status);
        }
        const auto next = resolve_url(*url, *location);
        if (!next) {
            throw RegistryError(ErrorCode::kRegistry,
                                where + ": " + std::to_string(response.status) +
                                    " redirect to an unusable location " +
                                    util::quote(url_for_message(*location)),
                                response.status);
        }
        if (url->scheme == "https" && next->scheme == "http" &&
            !state_->allows_insecure(next->authority())) {
            throw RegistryError(ErrorCode::kRegistry,
                                where + ": refusing a redirect from HTTPS to plain HTTP (" +
                                    url_for_message(next->str()) + ")",
                                response.status);
        }
        if (next->origin() != registry_origin()) {
            request.headers.remove("Authorization");
        }
        if (response.status == 303 ||
            ((response.status == 301 || response.status == 302) && request.method == "POST")) {
            request.method = "GET";
            request.body.reset();
            request.source.reset();
            body_sent = false;
        }
        request.url = next->str();
        url = next;
    }
}

HttpResponse Transport::try_once(const TransportRequest& request,
                                 Download* download,
                                 bool& body_sent) {
    std::string target = request.target;
    std::optional<Url> url;
    if (target.starts_with("/")) {
        validate_url("https://" + authority_ + target);
        url = parse_url(base_url_once(request.cancel) + target);
    } else {
        validate_url(target);
        url = parse_url(target);
    }

    HttpRequest http;
    http.method = request.method;
    http.url = url->str();
    http.headers = request.headers;
    http.body = request.body;
    http.source = request.source;
    http.max_body = request.max_body;
    http.cancel = request.cancel;
    http.timeout = request.timeout;
    if (request.sink && download != nullptr) {
        // Downloads report progress from here, counting across resumed attempts.
        http.sink = [download, &request](std::string_view chunk) {
            const std::uint64_t skipped = std::min<std::uint64_t>(download->skip, chunk.size());
            download->skip -= skipped;
            chunk.remove_prefix(static_cast<std::size_t>(skipped));
            if (chunk.empty()) {
                return;
            }
            request.sink(chunk);
            download->delivered += chunk.size();
            if (request.progress) {
                request.progress(TransferProgress{download->delivered, download->total});
            }
        };
        http.on_headers = [download](int status, const Headers& headers) {
            if (status < 200 || status >= 300) {
                return;
            }
            download->skip = 0;
            std::uint64_t start = 0;
            std::optional<std::uint64_t> total;
            if (status == 206 && download->range_requested) {
                const auto range = headers.get("Content-Range");
                if (!range || !parse_content_range(*range, start, total) ||
                    start > download->delivered) {
                    throw RegistryError(ErrorCode::kRegistry,
                                        "resuming a download: the registry answered a range "
                                        "other than the one asked for",
                                        status);
                }
                download->skip = download->delivered - start;
                download->resumed = true;
                if (total) {
                    download->total = total;
                }
                return;
            }
            // A full answer: whatever the sink has seen already is skipped.
            download->skip = download->delivered;
            download->resumed = false;
            if (const auto length = content_length(headers)) {
                download->total = length;
            }
        };
        if (download->delivered > 0 && !request.headers.contains("Range")) {
            http.headers.set("Range", "bytes=" + std::to_string(download->delivered) + "-");
            download->range_requested = true;
        }
    } else {
        http.sink = request.sink;
        http.progress = request.progress;
    }

    std::vector<std::string> scopes = request.scopes;
    for (int round = 0;; ++round) {
        authorize(http, *url, scopes, round > 0);
        const bool sent_credentials = http.headers.contains("Authorization");
        http.url = url->str();
        HttpResponse response = exchange(http, request.follow_redirects, body_sent);
        if (response.status != 401 || url->origin() != registry_origin()) {
            if (download != nullptr && download->resumed && response.status == 206) {
                // The caller asked for the whole body and got it, in two or more pieces.
                response.status = 200;
            }
            if (download != nullptr) {
                response.body_bytes = download->delivered;
            }
            return response;
        }
        const auto challenges = parse_challenges(response.headers.get_all("WWW-Authenticate"));
        const auto challenge = pick_challenge(challenges);
        const std::optional<Credentials> creds = credentials();
        ErrorInfo info = describe_http_error(http.method, http.url, 401, response.body);
        const bool bearer = challenge && challenge->scheme == "bearer";
        const bool basic_worth_trying = !sent_credentials && creds && !creds->username.empty();
        if (round == 0 && challenge && (bearer || basic_worth_trying)) {
            // Expired token, a scope the token lacks, or the first hint that this registry
            // wants credentials: learn the challenge and try once more.
            learn_challenge(response);
            if (bearer) {
                std::vector<std::string> merged = scopes;
                merged.push_back(challenge->param("scope"));
                scopes = normalize_scopes(merged);
            }
            // Restore the caller's method and body should a redirect have changed them.
            http.method = request.method;
            http.body = request.body;
            http.source = request.source;
            continue;
        }
        const std::string error = challenge ? challenge->param("error") : std::string();
        if (bearer && error == "insufficient_scope" && creds) {
            info.code = ErrorCode::kPermissionDenied;
            info.message += " (registry " + util::quote(registry_) + " denied " +
                            scope_phrase(normalize_scopes(scopes)) +
                            " to these credentials: insufficient_scope)";
        } else if (!creds) {
            info.message +=
                " (registry " + util::quote(registry_) + " requires authentication for " +
                scope_phrase(normalize_scopes(scopes)) + " and no credentials were found)";
        } else {
            info.message += " (registry " + util::quote(registry_) + " refused the credentials" +
                            (bearer ? " for " + scope_phrase(normalize_scopes(scopes)) : "") +
                            (error.empty() ? "" : ": " + sanitize_for_message(error, 64)) + ")";
        }
        throw_error(std::move(info));
    }
}

HttpResponse Transport::send(const TransportRequest& request) {
    const RetryPolicy& policy = state_->options.retry;
    const bool rewindable = !request.source || static_cast<bool>(request.source->rewind);
    const bool replayable =
        request.replayable.value_or(is_replayable_method(request.method) && rewindable) &&
        rewindable;
    if (!replayable && request.target.starts_with("/")) {
        // The request will not be retried, but the ping before it may be, on its own.
        ping(request.cancel);
    }
    Download download;
    Download* tracked = request.sink ? &download : nullptr;
    bool body_sent = false;
    std::string shown_url = request.target;
    for (int attempt = 1;; ++attempt) {
        std::optional<std::chrono::milliseconds> retry_after;
        bool final_error = false;
        try {
            validate_method(request.method);
            for (const auto& [name, value] : request.headers.fields()) {
                validate_header(name, value);
            }
            HttpResponse response = try_once(request, tracked, body_sent);
            shown_url = response.url;
            if (accepted(request, response.status)) {
                return response;
            }
            ErrorInfo info =
                describe_http_error(request.method, response.url, response.status, response.body);
            if (!info.temporary || !replayable || attempt >= policy.max_attempts) {
                if (info.temporary && replayable && attempt > 1) {
                    info.message += " (gave up after " + std::to_string(attempt) + " attempts)";
                }
                final_error = true;
                throw_error(std::move(info));
            }
            if (const auto header = response.headers.get("Retry-After")) {
                retry_after = parse_retry_after(*header);
            }
        } catch (const RegistryError& e) {
            // Temporary failures inside the attempt (no answer, a token service's 503) are
            // retried like a temporary status.
            if (final_error || !e.temporary() || !replayable || attempt >= policy.max_attempts) {
                const bool exhausted = !final_error && e.temporary() && replayable && attempt > 1;
                rethrow_adjusted(secrets(), exhausted ? " (gave up after " +
                                                            std::to_string(attempt) + " attempts)"
                                                      : std::string());
            }
        } catch (const Error&) {
            rethrow_adjusted(secrets());
        }
        if (!sleep_unless_cancelled(retry_delay(policy, attempt, retry_after), request.cancel)) {
            throw_cancelled(request.method, shown_url);
        }
    }
}

}  // namespace xarch::registry
