// SPDX-License-Identifier: Apache-2.0
// engine::Client over libcurl: one easy handle per request, driven by a multi handle so that
// the caller's cancel flag is polled ten times a second even while the engine is silent.
#include "engine/client.hpp"

#include "engine/message_stream.hpp"
#include "util/base64.hpp"
#include "util/quote.hpp"
#include "util/strings.hpp"

#include <xarch/version.hpp>

#include <boost/json.hpp>
#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <mutex>
#include <utility>

namespace xarch::engine {
namespace {

constexpr std::size_t kMaxErrorBody = 1024 * 1024;  // an error answer is a short JSON message
constexpr long kCancelPollMs = 100;                 // how often stream() asks `cancelled`

struct EasyDeleter {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
    void operator()(CURLM* multi) const noexcept { curl_multi_cleanup(multi); }
};
struct ListDeleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

// One request as the client sends it.
struct Call {
    std::string method;
    std::string path;  // with the version prefix and the query
    const std::vector<std::string>* headers = nullptr;
    const std::function<std::size_t(char*, std::size_t)>* body = nullptr;
    MessageSplitter* splitter = nullptr;  // streamed answer; null: collected in Exchange::body
    const std::function<bool()>* cancelled = nullptr;
    bool timeout = true;  // the request timeout applies (not to streams)
};

// What curl's callbacks share with the request's caller.
struct Exchange {
    CURL* easy = nullptr;
    const Call* call = nullptr;
    long status = 0;          // the final status, once the answer's body begins
    std::string api_version;  // the Api-Version header
    std::string body;         // the answer (not streamed) or an error status's answer
    bool answer_started = false;
    std::exception_ptr failure;  // thrown by a callback; rethrown by perform()
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::string_view line(data, size * count);
    exchange->answer_started = true;
    if (line.starts_with("HTTP/")) {
        exchange->api_version.clear();  // a new header block (after 100 Continue)
        return line.size();
    }
    if (const std::size_t colon = line.find(':');
        colon != std::string_view::npos &&
        util::equals_ignore_case(util::trim(line.substr(0, colon)), "Api-Version")) {
        exchange->api_version = std::string(util::trim(line.substr(colon + 1)));
    }
    return line.size();
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::string_view chunk(data, size * count);
    try {
        if (exchange->status == 0) {
            curl_easy_getinfo(exchange->easy, CURLINFO_RESPONSE_CODE, &exchange->status);
        }
        const bool ok = exchange->status >= 200 && exchange->status < 300;
        if (ok && exchange->call->splitter != nullptr) {
            exchange->call->splitter->feed(chunk);
        } else if (ok || exchange->body.size() < kMaxErrorBody) {
            exchange->body.append(chunk);
        }
    } catch (...) {
        exchange->failure = std::current_exception();
        return 0;  // anything but chunk.size() aborts the transfer
    }
    return chunk.size();
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    try {
        return (*exchange->call->body)(buffer, size * count);
    } catch (...) {
        exchange->failure = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
}

// "1.41" -> {1, 41}; nullopt when it is not two numbers.
std::optional<std::pair<int, int>> parse_api_version(std::string_view text) {
    const std::size_t dot = text.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    int major = 0;
    int minor = 0;
    const char* end = text.data() + text.size();
    const auto a = std::from_chars(text.data(), text.data() + dot, major);
    const auto b = std::from_chars(text.data() + dot + 1, end, minor);
    if (a.ec != std::errc() || a.ptr != text.data() + dot || b.ec != std::errc() || b.ptr != end) {
        return std::nullopt;
    }
    return std::make_pair(major, minor);
}

// Checked so that a caller's text cannot put a second header or request on the wire.
void check_request_text(std::string_view what, std::string_view text) {
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            throw Error(ErrorCode::kInvalidArgument,
                        "the Docker Engine request " + std::string(what) + " " + util::quote(text) +
                            " holds a control character");
        }
    }
}

std::string seconds(std::chrono::milliseconds ms) {
    const auto tenths = ms.count() / 100;
    std::string out = std::to_string(tenths / 10);
    if (tenths % 10 != 0) {
        out += "." + std::to_string(tenths % 10);
    }
    return out + " s";
}

// Why a unix socket could not be reached, in the words a user acts on.
std::string socket_problem(const std::string& path, const std::string& curl_reason) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        if (errno == ENOENT) {
            return "no such file";
        }
        return std::strerror(errno);
    }
    if (!S_ISSOCK(info.st_mode)) {
        return "it is not a socket";
    }
    if (::access(path.c_str(), R_OK | W_OK) != 0 && errno == EACCES) {
        return "permission denied (run as root or as a member of the socket's group, e.g. "
               "docker)";
    }
    return curl_reason.find("refused") != std::string::npos || curl_reason.empty()
               ? "connection refused"
               : curl_reason;
}

bool is_tls_code(CURLcode code) {
    switch (code) {
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_USE_SSL_FAILED:
            return true;
        default:
            return false;
    }
}

}  // namespace

struct Client::State {
    State(Endpoint e, ClientOptions o) : endpoint(std::move(e)), options(o) {
        socket_path = unix_socket_path(endpoint.host);
        if (!socket_path.empty()) {
            base_url = "http://localhost";
        } else if (endpoint.host.starts_with("tcp://") && endpoint.host.size() > 6) {
            base_url = (endpoint.tls ? "https://" : "http://") + endpoint.host.substr(6);
            while (base_url.ends_with('/')) {
                base_url.pop_back();
            }
        } else {
            throw Error(ErrorCode::kInvalidArgument,
                        "cannot talk to the Docker Engine at " + util::quote(endpoint.host) +
                            ": xarch reaches an engine over unix:// or tcp:// only");
        }
        check_request_text("host", endpoint.host);
        // Reference-counted by libcurl itself, and thread-safe in the libcurl we require.
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw Error(ErrorCode::kInternal, "libcurl could not be initialized");
        }
    }
    ~State() { curl_global_cleanup(); }
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    // The engine as messages name it: its address, and where it came from when not given.
    std::string where() const {
        if (endpoint.source.empty() || endpoint.source == "endpoint") {
            return endpoint.host;
        }
        return endpoint.host + " (" + endpoint.source + ")";
    }

    Exchange perform(const Call& call);
    [[noreturn]] void transport_error(CURLcode code, const char* reason, const Exchange& exchange);
    [[noreturn]] void status_error(const Call& call, const Exchange& exchange);

    Endpoint endpoint;
    ClientOptions options;
    std::string socket_path;  // "" over tcp
    std::string base_url;     // "http://localhost" for a socket, "https://host:port" over TLS
    std::mutex version_mutex;
    std::string api_version;  // negotiated once, under version_mutex
};

Exchange Client::State::perform(const Call& call) {
    check_request_text("method", call.method);
    check_request_text("path", call.path);
    std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
    std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
    if (!easy || !multi) {
        throw Error(ErrorCode::kInternal, "libcurl could not make a request (out of memory)");
    }
    Exchange exchange;
    exchange.easy = easy.get();
    exchange.call = &call;
    // "Expect:" drops the 100-continue wait: an engine reads the body at once.
    std::unique_ptr<curl_slist, ListDeleter> headers(curl_slist_append(nullptr, "Expect:"));
    const auto add_header = [&headers](const std::string& line) {
        curl_slist* more = curl_slist_append(headers.get(), line.c_str());
        if (more == nullptr) {
            throw Error(ErrorCode::kInternal, "libcurl could not add a header (out of memory)");
        }
        headers.release();
        headers.reset(more);
    };
    bool has_length = false;
    if (call.headers != nullptr) {
        for (const auto& line : *call.headers) {
            check_request_text("header", line);
            has_length = has_length || util::to_lower_ascii(line).starts_with("content-length:");
            add_header(line);
        }
    }
    const std::string url = base_url + call.path;
    const std::string user_agent = "xarch/" + std::string(xarch::version());
    char reason[CURL_ERROR_SIZE] = {};
    CURL* c = easy.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!socket_path.empty()) {
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path.c_str());
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");  // a proxy cannot reach our socket
    }
    if (endpoint.tls) {
        if (!endpoint.ca.empty()) {
            curl_easy_setopt(c, CURLOPT_CAINFO, endpoint.ca.c_str());
        }
        if (!endpoint.tls_verify) {
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (!endpoint.cert.empty()) {
            curl_easy_setopt(c, CURLOPT_SSLCERT, endpoint.cert.c_str());
            curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
            curl_easy_setopt(c, CURLOPT_SSLKEY, endpoint.key.c_str());
            curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
        }
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
    if (call.timeout) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, reason);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &exchange);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &exchange);
    if (call.body != nullptr && *call.body) {
        if (call.method == "POST") {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
        } else {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
        }
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &exchange);
        if (!has_length) {
            add_header("Transfer-Encoding: chunked");  // the body's length is not known
        }
    } else if (call.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
        add_header("Content-Type:");  // no form: the engine gets no body at all
    } else if (call.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (call.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

    curl_multi_add_handle(multi.get(), c);
    bool cancelled = false;
    int running = 1;
    while (true) {
        if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
            break;
        }
        if (running == 0 || exchange.failure) {
            break;
        }
        if (call.cancelled != nullptr && *call.cancelled && (*call.cancelled)()) {
            cancelled = true;
            break;
        }
        curl_multi_poll(multi.get(), nullptr, 0, kCancelPollMs, nullptr);
    }
    CURLcode code = CURLE_OK;
    int left = 0;
    bool finished = false;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &left)) {
        if (message->msg == CURLMSG_DONE) {
            code = message->data.result;
            finished = true;
        }
    }
    curl_multi_remove_handle(multi.get(), c);
    if (exchange.failure) {
        std::rethrow_exception(exchange.failure);
    }
    if (cancelled) {
        throw Error(ErrorCode::kCancelled,
                    "cancelled while waiting for the Docker Engine at " + endpoint.host);
    }
    if (!finished) {
        code = CURLE_RECV_ERROR;
    }
    if (code != CURLE_OK) {
        transport_error(code, reason, exchange);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &exchange.status);
    return exchange;
}

void Client::State::transport_error(CURLcode code, const char* reason, const Exchange& exchange) {
    const std::string why = reason[0] != '\0' ? reason : curl_easy_strerror(code);
    curl_off_t connected_at = 0;
    curl_easy_getinfo(exchange.easy, CURLINFO_CONNECT_TIME_T, &connected_at);
    const bool connected = connected_at > 0 || exchange.answer_started;
    const std::string what_to_do =
        "; is dockerd running? set DOCKER_HOST or the builder's endpoint";
    if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
        (code == CURLE_OPERATION_TIMEDOUT && !connected)) {
        std::string problem = why;
        long os_errno = 0;
        curl_easy_getinfo(exchange.easy, CURLINFO_OS_ERRNO, &os_errno);
        if (!socket_path.empty()) {
            problem = socket_problem(socket_path, why);
        } else if (code == CURLE_OPERATION_TIMEDOUT) {
            problem = "no connection within " + seconds(options.connect_timeout);
        } else if (os_errno != 0) {
            problem = std::strerror(static_cast<int>(os_errno));  // "Connection refused"
        }
        throw Error(ErrorCode::kNetwork, "cannot connect to the Docker Engine at " + where() +
                                             ": " + problem + what_to_do);
    }
    // TLS 1.3 sends the refusal of a missing client certificate after the handshake: it shows
    // as a failed read carrying the TLS alert.
    const bool alert = why.find("alert") != std::string::npos;
    if (is_tls_code(code) || (alert && !exchange.answer_started)) {
        const bool client_certificate = code == CURLE_SSL_CERTPROBLEM ||
                                        why.find("certificate required") != std::string::npos ||
                                        why.find("bad certificate") != std::string::npos ||
                                        why.find("unknown ca") != std::string::npos;
        std::string hint;
        if (client_certificate) {
            hint = endpoint.cert.empty()
                       ? "the engine wants a client certificate: put cert.pem and key.pem beside "
                         "ca.pem (DOCKER_CERT_PATH, or the Docker context's TLS files)"
                       : "the engine refused the client certificate " + endpoint.cert.string() +
                             ": use one signed by the CA the engine trusts (its --tlscacert)";
        } else if (code == CURLE_PEER_FAILED_VERIFICATION) {
            hint = "the engine's certificate did not verify against " +
                   (endpoint.ca.empty() ? std::string("the system's CAs") : endpoint.ca.string()) +
                   ": use the CA that signed it, and an address its certificate names";
        } else {
            hint =
                "check that the engine serves TLS at this address (DOCKER_TLS_VERIFY, "
                "DOCKER_CERT_PATH, or the Docker context)";
        }
        throw Error(client_certificate ? ErrorCode::kAuthentication : ErrorCode::kNetwork,
                    "TLS with the Docker Engine at " + where() + " failed: " + why + "; " + hint);
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
        throw Error(ErrorCode::kNetwork, "the Docker Engine at " + where() +
                                             " did not answer within " +
                                             seconds(options.request_timeout));
    }
    if (code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING ||
        code == CURLE_SEND_ERROR || code == CURLE_HTTP2_STREAM || code == CURLE_HTTP2) {
        if (exchange.answer_started) {
            throw Error(ErrorCode::kNetwork,
                        "the Docker Engine at " + where() +
                            " closed the connection before the answer ended (did dockerd stop?)");
        }
        throw Error(ErrorCode::kNetwork, "the Docker Engine at " + where() +
                                             " closed the connection without answering (" + why +
                                             "; did dockerd stop?)");
    }
    throw Error(ErrorCode::kNetwork,
                "the request to the Docker Engine at " + where() + " failed: " + why);
}

void Client::State::status_error(const Call& call, const Exchange& exchange) {
    std::string text(util::trim(exchange.body));
    boost::system::error_code ec;
    const auto value = boost::json::parse(exchange.body, ec);
    if (!ec && value.is_object()) {
        if (const auto* message = value.as_object().if_contains("message");
            message && message->is_string()) {
            text = std::string(message->as_string());
        }
    }
    const auto status = static_cast<int>(exchange.status);
    ErrorCode code = ErrorCode::kIo;
    if (status == 404) {
        code = ErrorCode::kNotFound;
    } else if (status == 401 || status == 403) {
        code = ErrorCode::kAuthentication;
    }
    const std::string path = call.path.substr(0, call.path.find('?'));
    throw EngineError(code,
                      "the Docker Engine at " + where() + " answered " + call.method + " " + path +
                          " with HTTP " + std::to_string(status) +
                          (text.empty() ? std::string() : ": " + text),
                      status, text);
}

Client::Client(Endpoint endpoint, ClientOptions options)
    : state_(std::make_unique<State>(std::move(endpoint), options)) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const Endpoint& Client::endpoint() const {
    return state_->endpoint;
}
const std::string& Client::host() const {
    return state_->endpoint.host;
}

std::string Client::api_version() {
    std::lock_guard lock(state_->version_mutex);
    if (!state_->api_version.empty()) {
        return state_->api_version;
    }
    Call call;
    call.method = "GET";
    call.path = "/_ping";
    const Exchange ping = state_->perform(call);
    std::string engine = ping.api_version;
    if (engine.empty()) {
        if (ping.status != 200) {
            std::string body(util::trim(ping.body));
            if (body.size() > 200) {
                body = body.substr(0, 200) + "...";
            }
            throw Error(ErrorCode::kUnsupported,
                        "the server at " + state_->where() + " answered GET /_ping with HTTP " +
                            std::to_string(ping.status) +
                            (body.empty() ? std::string() : " (" + body + ")") +
                            " and no Api-Version: it does not look like a Docker Engine; check "
                            "the address and whether it wants TLS");
        }
        engine = "1.24";  // what Docker's own client assumes of an engine that does not say
    }
    const auto theirs = parse_api_version(engine);
    if (!theirs) {
        throw Error(ErrorCode::kUnsupported, "the Docker Engine at " + state_->where() +
                                                 " announced the API version " +
                                                 util::quote(engine) + ", which is not N.M");
    }
    const auto max = *parse_api_version(kMaxApiVersion);
    const auto chosen = std::min(*theirs, max);
    if (chosen < *parse_api_version(kMinApiVersion)) {
        throw Error(ErrorCode::kUnsupported, "the Docker Engine at " + state_->where() +
                                                 " speaks API " + engine + "; xarch needs " +
                                                 std::string(kMinApiVersion) +
                                                 " or newer (Docker 18.06+)");
    }
    state_->api_version = std::to_string(chosen.first) + "." + std::to_string(chosen.second);
    return state_->api_version;
}

boost::json::value Client::get_json(std::string_view path_and_query) {
    if (!path_and_query.starts_with('/')) {
        throw Error(ErrorCode::kInvalidArgument,
                    "a Docker Engine API path starts with '/': " + util::quote(path_and_query));
    }
    Call call;
    call.method = "GET";
    call.path = "/v" + api_version() + std::string(path_and_query);
    const Exchange exchange = state_->perform(call);
    if (exchange.status < 200 || exchange.status >= 300) {
        state_->status_error(call, exchange);
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(exchange.body, ec);
    if (ec) {
        throw Error(ErrorCode::kIo, "the Docker Engine at " + state_->where() + " answered GET " +
                                        call.path.substr(0, call.path.find('?')) +
                                        " with something that is not JSON (" + ec.message() + ")");
    }
    return value;
}

std::string Client::post(std::string_view path_and_query) {
    if (!path_and_query.starts_with('/')) {
        throw Error(ErrorCode::kInvalidArgument,
                    "a Docker Engine API path starts with '/': " + util::quote(path_and_query));
    }
    Call call;
    call.method = "POST";
    call.path = "/v" + api_version() + std::string(path_and_query);
    Exchange exchange = state_->perform(call);
    if (exchange.status < 200 || exchange.status >= 300) {
        state_->status_error(call, exchange);
    }
    return std::move(exchange.body);
}

void Client::stream(const Request& request,
                    const std::function<void(const boost::json::object&)>& on_message,
                    const std::function<bool()>& cancelled) {
    if (!request.path_and_query.starts_with('/')) {
        throw Error(ErrorCode::kInvalidArgument, "a Docker Engine API path starts with '/': " +
                                                     util::quote(request.path_and_query));
    }
    MessageSplitter splitter(on_message);
    Call call;
    call.method = request.method;
    call.path = "/v" + api_version() + request.path_and_query;
    call.headers = &request.headers;
    call.body = request.body ? &request.body : nullptr;
    call.splitter = &splitter;
    call.cancelled = &cancelled;
    call.timeout = false;
    const Exchange exchange = state_->perform(call);
    if (exchange.status < 200 || exchange.status >= 300) {
        state_->status_error(call, exchange);
    }
    splitter.finish();
}

EngineInfo Client::info() {
    const auto string_of = [](const boost::json::object& object, std::string_view key) {
        const auto* value = object.if_contains(key);
        return value != nullptr && value->is_string() ? std::string(value->as_string())
                                                      : std::string();
    };
    EngineInfo info;
    info.api_version = api_version();
    const auto version = get_json("/version");
    const auto details = get_json("/info");
    if (!version.is_object() || !details.is_object()) {
        throw Error(ErrorCode::kIo, "the Docker Engine at " + state_->where() +
                                        " answered /version or /info with something other "
                                        "than a JSON object");
    }
    const auto& v = version.as_object();
    const auto& i = details.as_object();
    info.name = string_of(i, "Name");
    info.server_version = string_of(v, "Version");
    if (info.server_version.empty()) {
        info.server_version = string_of(i, "ServerVersion");
    }
    info.os = string_of(v, "Os");
    if (info.os.empty()) {
        info.os = string_of(i, "OSType");
    }
    info.architecture = string_of(v, "Arch");
    if (const auto* cpus = i.if_contains("NCPU"); cpus != nullptr && cpus->is_int64()) {
        info.cpus = static_cast<int>(cpus->as_int64());
    }
    return info;
}

Platform Client::platform() {
    const auto version = get_json("/version");
    const auto* object = version.if_object();
    const auto* os = object != nullptr ? object->if_contains("Os") : nullptr;
    const auto* arch = object != nullptr ? object->if_contains("Arch") : nullptr;
    if (os == nullptr || !os->is_string() || arch == nullptr || !arch->is_string()) {
        throw Error(ErrorCode::kIo, "the Docker Engine at " + state_->where() +
                                        " answered /version without its Os and Arch");
    }
    return Platform(std::string(os->as_string()), std::string(arch->as_string())).normalized();
}

std::string message_error(const boost::json::object& message) {
    if (const auto* error = message.if_contains("error"); error && error->is_string()) {
        return std::string(error->as_string());
    }
    if (const auto* detail = message.if_contains("errorDetail"); detail && detail->is_object()) {
        if (const auto* text = detail->as_object().if_contains("message");
            text && text->is_string()) {
            return std::string(text->as_string());
        }
    }
    return {};
}

std::string registry_auth_header(const std::optional<Credentials>& credentials,
                                 std::string_view server_address) {
    // The keys in the order of docker's types.AuthConfig, each left out when empty (omitempty).
    boost::json::object auth;
    const auto put = [&auth](std::string_view key, std::string_view value) {
        if (!value.empty()) {
            auth[key] = value;
        }
    };
    if (credentials && !credentials->empty()) {
        if (!credentials->registry_token.empty()) {
            put("registrytoken", credentials->registry_token);
        } else {
            put("username", credentials->username);
            if (credentials->identity_token.empty()) {
                put("password", credentials->password);
            }
            put("serveraddress", server_address);
            put("identitytoken", credentials->identity_token);
        }
    }
    return "X-Registry-Auth: " + util::base64url_encode(boost::json::serialize(auth));
}

}  // namespace xarch::engine
