// SPDX-License-Identifier: Apache-2.0
#include "registry/http_client.hpp"

#include "registry/registry_errors.hpp"
#include "registry/url.hpp"
#include "util/quote.hpp"
#include "util/strings.hpp"

#include <xarch/version.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace xarch::registry {

// ---- Headers and validation ---------------------------------------------------------------

void Headers::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
    remove(name);
    add(std::move(name), std::move(value));
}

void Headers::extend_last(std::string_view more) {
    if (!fields_.empty()) {
        fields_.back().second += ' ';
        fields_.back().second += more;
    }
}

void Headers::remove(std::string_view name) {
    std::erase_if(fields_,
                  [&](const Field& field) { return util::equals_ignore_case(field.first, name); });
}

std::optional<std::string> Headers::get(std::string_view name) const {
    for (const Field& field : fields_) {
        if (util::equals_ignore_case(field.first, name)) {
            return field.second;
        }
    }
    return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
    std::vector<std::string> out;
    for (const Field& field : fields_) {
        if (util::equals_ignore_case(field.first, name)) {
            out.push_back(field.second);
        }
    }
    return out;
}

namespace {

bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
    return kExtra.find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar);
}

}  // namespace

void validate_method(std::string_view method) {
    if (!is_token(method)) {
        throw Error(ErrorCode::kInvalidArgument,
                    "refusing HTTP method " + util::quote(method) + ": not an HTTP token");
    }
}

void validate_url(std::string_view url) {
    // Printable ASCII without blanks: anything else is either a caller's bug or an attempt to
    // split the request line.
    const bool printable = std::all_of(url.begin(), url.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7f;
    });
    if (!printable || !parse_url(url)) {
        throw Error(ErrorCode::kInvalidArgument,
                    "refusing URL " + util::quote(url) +
                        (printable ? ": not an absolute http(s) URL"
                                   : ": it contains blanks, control or non-ASCII bytes"));
    }
}

void validate_header(std::string_view name, std::string_view value) {
    if (!is_token(name)) {
        throw Error(ErrorCode::kInvalidArgument,
                    "refusing HTTP header name " + util::quote(name) + ": not an HTTP token");
    }
    const bool printable = std::all_of(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte >= 0x20 && byte < 0x7f) || c == '\t';
    });
    if (!printable) {
        // The value may be a credential: name the header, never show the value.
        throw Error(ErrorCode::kInvalidArgument, "refusing the value of HTTP header " +
                                                     util::quote(name) +
                                                     ": it contains control or non-ASCII bytes");
    }
}

// ---- One transfer -------------------------------------------------------------------------

namespace {

constexpr std::string_view kShutdownMessage = "the HTTP client is shutting down";
// Request bodies over kLargeUpload are read and sent kUploadBufferSize at a time.
constexpr std::uint64_t kLargeUpload = 256 * 1024;
constexpr std::size_t kUploadBufferSize = 1024 * 1024;

struct CurlSlist {
    curl_slist* list = nullptr;
    ~CurlSlist() { curl_slist_free_all(list); }
    void append(const std::string& line) {
        curl_slist* next = curl_slist_append(list, line.c_str());
        if (next == nullptr) {
            throw std::bad_alloc();
        }
        list = next;
    }
};

struct Transfer {
    explicit Transfer(const HttpRequest& r) : request(r) {}
    ~Transfer() {
        if (easy != nullptr) {
            curl_easy_cleanup(easy);
        }
    }
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    bool success() const { return response.status >= 200 && response.status < 300; }
    bool cancel_requested() const {
        return request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed);
    }

    const HttpRequest& request;
    CURL* easy = nullptr;
    CurlSlist header_list;
    std::shared_ptr<const TlsSettings> tls;
    char error[CURL_ERROR_SIZE] = {};

    HttpResponse response;
    bool headers_done = false;
    bool streaming = false;
    bool too_large = false;
    bool cancelled = false;
    bool short_upload = false;
    bool long_upload = false;
    std::exception_ptr callback_error;

    // The request body.
    bool uploading = false;
    std::size_t body_offset = 0;  // into request.body
    std::uint64_t sent = 0;
    std::optional<std::uint64_t> upload_size;

    TransferProgress last_progress;
    bool progress_reported = false;

    // Completion, handed from the loop thread to the caller.
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    CURLcode result = CURLE_OK;
    std::exception_ptr failure;
};

std::size_t read_body(Transfer& t, char* buffer, std::size_t size) {
    if (t.request.source) {
        return t.request.source->read(buffer, size);
    }
    if (t.request.body) {
        const std::string& body = *t.request.body;
        const std::size_t n = std::min(size, body.size() - t.body_offset);
        std::copy_n(body.data() + t.body_offset, n, buffer);
        t.body_offset += n;
        return n;
    }
    return 0;
}

void headers_complete(Transfer& t) {
    t.headers_done = true;
    const HttpRequest& r = t.request;
    t.streaming = t.success() && static_cast<bool>(r.sink);
    if (t.success() && !t.streaming && r.method != "HEAD") {
        // Refuse a huge Content-Length before a byte of it is allocated.
        if (const auto length = t.response.headers.get("Content-Length")) {
            const std::string_view text = util::trim(*length);
            const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
                return c >= '0' && c <= '9';
            });
            if (digits && (text.size() > 18 || std::stoull(std::string(text)) > r.max_body)) {
                t.too_large = true;
                return;
            }
        }
    }
    if (r.on_headers) {
        r.on_headers(t.response.status, t.response.headers);
    }
}

std::size_t on_header(char* buffer, std::size_t size, std::size_t count, void* data) {
    auto& t = *static_cast<Transfer*>(data);
    const std::size_t n = size * count;
    try {
        std::string_view line(buffer, n);
        if (line.starts_with("HTTP/")) {
            // A new response (an interim 1xx came first, or this is the only one).
            t.response.headers.clear();
            t.headers_done = false;
            const std::size_t space = line.find(' ');
            int status = 0;
            if (space != std::string_view::npos) {
                for (std::size_t i = space + 1;
                     i < line.size() && line[i] >= '0' && line[i] <= '9' && status < 1000; ++i) {
                    status = status * 10 + (line[i] - '0');
                }
            }
            t.response.status = status;
            return n;
        }
        const std::string_view content = util::trim(line);
        if (content.empty()) {
            if (t.response.status >= 200 && !t.headers_done) {
                headers_complete(t);
                if (t.too_large) {
                    return 0;
                }
            }
            return n;
        }
        if ((line.front() == ' ' || line.front() == '\t') && !t.response.headers.empty()) {
            // obs-fold: the line continues the previous field.
            t.response.headers.extend_last(content);
            return n;
        }
        const std::size_t colon = content.find(':');
        if (colon != std::string_view::npos) {
            t.response.headers.add(std::string(util::trim(content.substr(0, colon))),
                                   std::string(util::trim(content.substr(colon + 1))));
        }
        return n;
    } catch (...) {
        t.callback_error = std::current_exception();
        return 0;
    }
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (t.streaming) {
        try {
            t.request.sink(std::string_view(data, n));
        } catch (...) {
            t.callback_error = std::current_exception();
            return 0;
        }
        t.response.body_bytes += n;
        return n;
    }
    const std::size_t limit =
        t.success() ? t.request.max_body : std::min(t.request.max_body, kMaxErrorBody);
    std::string& body = t.response.body;
    if (body.size() + n > limit) {
        if (t.success()) {
            t.too_large = true;
        } else {
            // Keep what fits and stop reading: the status and the start of the error are
            // all that will be used.
            body.append(data, limit - body.size());
            t.response.body_bytes = body.size();
            t.response.body_truncated = true;
        }
        return 0;
    }
    body.append(data, n);
    t.response.body_bytes += n;
    return n;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    try {
        const std::size_t got = read_body(t, buffer, n);
        if (got > n) {
            throw Error(ErrorCode::kInternal, "a body source returned more bytes than asked for");
        }
        if (got == 0 && t.upload_size && t.sent < *t.upload_size) {
            // Sending less than the Content-Length would leave the server waiting for the
            // rest until a timeout: fail now instead.
            t.short_upload = true;
            return CURL_READFUNC_ABORT;
        }
        t.sent += got;
        if (t.upload_size && t.sent > *t.upload_size) {
            t.long_upload = true;
            return CURL_READFUNC_ABORT;
        }
        return got;
    } catch (...) {
        t.callback_error = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
}

int on_seek(void* user, curl_off_t offset, int origin) {
    auto& t = *static_cast<Transfer*>(user);
    // libcurl rewinds a body to resend it on a fresh connection (a reused one that turned out
    // to be closed, an HTTP/2 stream refused); only a restart from the beginning is possible.
    if (offset != 0 || origin != SEEK_SET) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    try {
        if (t.request.source) {
            if (!t.request.source->rewind) {
                return CURL_SEEKFUNC_CANTSEEK;
            }
            t.request.source->rewind();
        }
        t.body_offset = 0;
        t.sent = 0;
        return CURL_SEEKFUNC_OK;
    } catch (...) {
        t.callback_error = std::current_exception();
        return CURL_SEEKFUNC_FAIL;
    }
}

int on_progress(
    void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    auto& t = *static_cast<Transfer*>(user);
    if (t.cancel_requested()) {
        t.cancelled = true;
        return 1;
    }
    if (!t.request.progress) {
        return 0;
    }
    TransferProgress now;
    if (t.uploading) {
        // libcurl counts chunked-encoding overhead in ulnow; the body is what was read.
        now.done = std::min(static_cast<std::uint64_t>(std::max<curl_off_t>(ulnow, 0)), t.sent);
        if (t.upload_size) {
            now.total = t.upload_size;
        } else if (ultotal > 0) {
            now.total = static_cast<std::uint64_t>(ultotal);
        }
    } else {
        if (!t.headers_done || !t.success()) {
            return 0;
        }
        now.done = static_cast<std::uint64_t>(std::max<curl_off_t>(dlnow, 0));
        if (dltotal > 0) {
            now.total = static_cast<std::uint64_t>(dltotal);
        }
    }
    if (t.progress_reported && now.done == t.last_progress.done &&
        now.total == t.last_progress.total) {
        return 0;
    }
    t.progress_reported = true;
    t.last_progress = now;
    try {
        t.request.progress(now);
    } catch (...) {
        t.callback_error = std::current_exception();
        return 1;
    }
    return 0;
}

template <typename T>
void setopt(CURL* easy, CURLoption option, T value) {
    if (const CURLcode code = curl_easy_setopt(easy, option, value); code != CURLE_OK) {
        throw Error(ErrorCode::kInternal,
                    std::string("libcurl refused an option: ") + curl_easy_strerror(code));
    }
}

void prepare(Transfer& t, const HttpClientOptions& options, const std::string& user_agent) {
    const HttpRequest& r = t.request;
    t.easy = curl_easy_init();
    if (t.easy == nullptr) {
        throw Error(ErrorCode::kInternal, "libcurl could not make a transfer handle");
    }
    CURL* easy = t.easy;
    setopt(easy, CURLOPT_URL, r.url.c_str());
    setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(&t));
    setopt(easy, CURLOPT_NOSIGNAL, 1L);
    setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // Wait for a connection that may multiplex rather than open a new one per request.
    setopt(easy, CURLOPT_PIPEWAIT, 1L);
    setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit);
    setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_time.count()));
    if (r.timeout.count() > 0) {
        setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    }
    setopt(easy, CURLOPT_USERAGENT, user_agent.c_str());
    setopt(easy, CURLOPT_ERRORBUFFER, t.error);
    setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    setopt(easy, CURLOPT_HEADERDATA, static_cast<void*>(&t));
    setopt(easy, CURLOPT_WRITEFUNCTION, &on_write);
    setopt(easy, CURLOPT_WRITEDATA, static_cast<void*>(&t));
    setopt(easy, CURLOPT_XFERINFOFUNCTION, &on_progress);
    setopt(easy, CURLOPT_XFERINFODATA, static_cast<void*>(&t));
    setopt(easy, CURLOPT_NOPROGRESS, 0L);

    const bool has_body = r.body.has_value() || r.source.has_value();
    if (r.body) {
        t.upload_size = r.body->size();
    } else if (r.source) {
        t.upload_size = r.source->size;
    } else {
        t.upload_size = 0;
    }
    const bool takes_body =
        has_body || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
    if (r.method == "GET" && !has_body) {
        setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD" && !has_body) {
        setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (takes_body) {
        t.uploading = true;
        setopt(easy, CURLOPT_READFUNCTION, &on_read);
        setopt(easy, CURLOPT_READDATA, static_cast<void*>(&t));
        setopt(easy, CURLOPT_SEEKFUNCTION, &on_seek);
        setopt(easy, CURLOPT_SEEKDATA, static_cast<void*>(&t));
        const curl_off_t size = t.upload_size ? static_cast<curl_off_t>(*t.upload_size) : -1;
        if (r.method == "POST") {
            setopt(easy, CURLOPT_POST, 1L);
            setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, size);
            if (!t.upload_size) {
                t.header_list.append("Transfer-Encoding: chunked");
            }
        } else {
            setopt(easy, CURLOPT_UPLOAD, 1L);
            setopt(easy, CURLOPT_INFILESIZE_LARGE, size);
            if (r.method != "PUT") {
                setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
            }
        }
        // No "Expect: 100-continue": it costs a round trip per upload, and the transport has
        // authenticated before it sends a large body.
        t.header_list.append("Expect:");
        if (!t.upload_size || *t.upload_size > kLargeUpload) {
            // A blob goes in fewer, larger reads and sends than with curl's 64 KiB buffer; the
            // memory is per running transfer, whatever the blob's size.
            setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(kUploadBufferSize));
        }
    } else {
        setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    for (const auto& [name, value] : r.headers.fields()) {
        // "Name;" is curl's spelling of a header with an empty value.
        t.header_list.append(value.empty() ? name + ";" : name + ": " + value);
    }
    if (t.header_list.list != nullptr) {
        setopt(easy, CURLOPT_HTTPHEADER, t.header_list.list);
    }

    t.tls = r.tls ? r.tls : std::make_shared<const TlsSettings>();
    setopt(easy, CURLOPT_SSL_VERIFYPEER, t.tls->verify ? 1L : 0L);
    setopt(easy, CURLOPT_SSL_VERIFYHOST, t.tls->verify ? 2L : 0L);
    if (t.tls->ca_pem) {
        curl_blob blob{const_cast<char*>(t.tls->ca_pem->data()), t.tls->ca_pem->size(),
                       CURL_BLOB_NOCOPY};
        setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!t.tls->client_cert.empty()) {
        setopt(easy, CURLOPT_SSLCERT, t.tls->client_cert.c_str());
        setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
        setopt(easy, CURLOPT_SSLKEY, t.tls->client_key.c_str());
    }
}

NetworkError network_error(const Transfer& t, CURLcode code) {
    NetworkFailure failure = NetworkFailure::kOther;
    bool temporary = false;
    std::string what;
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
            failure = NetworkFailure::kResolve;
            what = "cannot resolve the host";
            break;
        case CURLE_COULDNT_CONNECT:
            failure = NetworkFailure::kConnect;
            what = "cannot connect";
            temporary = true;
            break;
        case CURLE_OPERATION_TIMEDOUT:
            failure = NetworkFailure::kTimeout;
            what = "timed out";
            temporary = true;
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
            failure = NetworkFailure::kTlsVerify;
            what = "TLS certificate verification failed";
            break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_USE_SSL_FAILED:
            failure = NetworkFailure::kTls;
            what = "TLS handshake failed";
            break;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SEND_FAIL_REWIND:
            failure = NetworkFailure::kReset;
            what = "the connection broke off";
            temporary = true;
            break;
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_BAD_CONTENT_ENCODING:
            failure = NetworkFailure::kProtocol;
            what = "the server's answer is not valid HTTP";
            break;
        default:
            what = "the transfer failed";
            break;
    }
    const std::string detail = t.error[0] != '\0' ? std::string(t.error) : curl_easy_strerror(code);
    return NetworkError(failure,
                        t.request.method + " " + url_for_message(t.request.url) + ": " + what +
                            ": " + sanitize_for_message(util::trim(detail)),
                        temporary);
}

}  // namespace

// ---- The client and its event loop --------------------------------------------------------

struct HttpClient::Impl {
    explicit Impl(HttpClientOptions o) : options(std::move(o)) {
        if (options.max_parallel == 0) {
            options.max_parallel = 1;
        }
        user_agent = options.user_agent.empty() ? "xarch/" + std::string(xarch::version())
                                                : options.user_agent;
        // Reference-counted by libcurl itself, and thread-safe in the libcurl we require.
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw Error(ErrorCode::kInternal, "libcurl could not be initialized");
        }
        multi = curl_multi_init();
        if (multi == nullptr) {
            curl_global_cleanup();
            throw Error(ErrorCode::kInternal, "libcurl could not make a multi handle");
        }
        const auto limit = static_cast<long>(options.max_parallel);
        curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
        curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit);
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, limit);
        // Idle connections kept for reuse: enough for the registry, its token service and a
        // storage host behind redirects.
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, std::max(limit * 4, 16L));
        try {
            thread = std::thread([this] { run(); });
        } catch (...) {
            curl_multi_cleanup(multi);
            curl_global_cleanup();
            throw;
        }
    }

    ~Impl() {
        {
            const std::lock_guard lock(mutex);
            stopping = true;
        }
        curl_multi_wakeup(multi);
        thread.join();
        curl_multi_cleanup(multi);
        curl_global_cleanup();
    }

    void run() noexcept {
        try {
            loop();
        } catch (...) {
            // Only allocation failures get here; fail everything rather than leave callers
            // waiting forever.
            fail_all(std::current_exception());
            const std::lock_guard lock(mutex);
            broken = true;
        }
    }

    void loop() {
        while (true) {
            std::deque<Transfer*> arrived;
            bool stop = false;
            {
                const std::lock_guard lock(mutex);
                arrived.swap(incoming);
                stop = stopping;
            }
            waiting.insert(waiting.end(), arrived.begin(), arrived.end());
            if (stop) {
                fail_all(std::make_exception_ptr(
                    Error(ErrorCode::kCancelled, std::string(kShutdownMessage))));
                return;
            }
            // Cancelled transfers leave at once, waiting or running.
            std::erase_if(waiting, [&](Transfer* t) {
                if (t->cancel_requested()) {
                    t->cancelled = true;
                    finish(t, CURLE_ABORTED_BY_CALLBACK, false);
                    return true;
                }
                return false;
            });
            for (auto it = active.begin(); it != active.end();) {
                Transfer* t = *it;
                if (t->cancel_requested()) {
                    t->cancelled = true;
                    it = active.erase(it);
                    finish(t, CURLE_ABORTED_BY_CALLBACK, true);
                } else {
                    ++it;
                }
            }
            // The admission bound: a counting semaphore kept by this thread alone.
            while (active.size() < options.max_parallel && !waiting.empty()) {
                Transfer* t = waiting.front();
                waiting.pop_front();
                if (const CURLMcode code = curl_multi_add_handle(multi, t->easy);
                    code != CURLM_OK) {
                    std::snprintf(t->error, sizeof t->error, "%s", curl_multi_strerror(code));
                    finish(t, CURLE_FAILED_INIT, false);
                    continue;
                }
                active.push_back(t);
                peak = std::max(peak.load(), active.size());
            }
            int running = 0;
            curl_multi_perform(multi, &running);
            int queued = 0;
            while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
                if (message->msg != CURLMSG_DONE) {
                    continue;
                }
                void* data = nullptr;
                curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &data);
                auto* t = static_cast<Transfer*>(data);
                const CURLcode result = message->data.result;
                std::erase(active, t);
                finish(t, result, true);
            }
            // Short polls while transfers exist so that cancel flags are seen within 100 ms;
            // curl_multi_wakeup() cuts the wait short when a request arrives.
            const int timeout = waiting.empty() && active.empty() ? 10'000 : 100;
            curl_multi_poll(multi, nullptr, 0, timeout, nullptr);
        }
    }

    // Completes `t` on the loop thread: detaches and frees its curl handle, then wakes send().
    void finish(Transfer* t, CURLcode result, bool added) {
        if (t->easy != nullptr) {
            long status = 0;
            if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                status > 0) {
                t->response.status = static_cast<int>(status);
            }
            long version = 0;
            if (curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK) {
                t->response.http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : 1;
            }
            if (added) {
                curl_multi_remove_handle(multi, t->easy);
            }
            curl_easy_cleanup(t->easy);
            t->easy = nullptr;
        }
        const std::lock_guard lock(t->mutex);
        t->result = result;
        t->done = true;
        t->done_cv.notify_one();
    }

    void fail_all(const std::exception_ptr& error) noexcept {
        std::deque<Transfer*> arrived;
        {
            const std::lock_guard lock(mutex);
            arrived.swap(incoming);
        }
        waiting.insert(waiting.end(), arrived.begin(), arrived.end());
        for (Transfer* t : waiting) {
            t->failure = error;
            finish(t, CURLE_ABORTED_BY_CALLBACK, false);
        }
        waiting.clear();
        for (Transfer* t : active) {
            t->failure = error;
            finish(t, CURLE_ABORTED_BY_CALLBACK, true);
        }
        active.clear();
    }

    HttpClientOptions options;
    std::string user_agent;
    CURLM* multi = nullptr;
    std::thread thread;

    mutable std::mutex mutex;  // guards incoming, stopping, broken
    std::deque<Transfer*> incoming;
    bool stopping = false;
    bool broken = false;

    // Loop thread only, apart from the counters read for tests.
    std::deque<Transfer*> waiting;
    std::vector<Transfer*> active;
    std::atomic<std::size_t> peak{0};
};

HttpClient::HttpClient(HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

const HttpClientOptions& HttpClient::options() const {
    return impl_->options;
}

std::size_t HttpClient::peak_active() const {
    return impl_->peak.load();
}

HttpResponse HttpClient::send(const HttpRequest& request) {
    if (std::this_thread::get_id() == impl_->thread.get_id()) {
        throw Error(ErrorCode::kInternal,
                    "HttpClient::send called from a sink, source or progress hook");
    }
    validate_method(request.method);
    validate_url(request.url);
    for (const auto& [name, value] : request.headers.fields()) {
        validate_header(name, value);
    }
    if (request.body && request.source) {
        throw Error(ErrorCode::kInternal, "an HTTP request has both a body and a body source");
    }
    if (request.source && !request.source->read) {
        throw Error(ErrorCode::kInternal, "an HTTP request body source has no read function");
    }

    Transfer t(request);
    prepare(t, impl_->options, impl_->user_agent);
    {
        const std::lock_guard lock(impl_->mutex);
        if (impl_->stopping || impl_->broken) {
            throw Error(ErrorCode::kCancelled, std::string(kShutdownMessage));
        }
        impl_->incoming.push_back(&t);
    }
    curl_multi_wakeup(impl_->multi);
    {
        std::unique_lock lock(t.mutex);
        t.done_cv.wait(lock, [&] { return t.done; });
    }

    const std::string where = request.method + " " + url_for_message(request.url);
    if (t.failure) {
        std::rethrow_exception(t.failure);
    }
    if (t.callback_error) {
        std::rethrow_exception(t.callback_error);
    }
    if (t.cancelled) {
        throw Error(ErrorCode::kCancelled, where + ": cancelled");
    }
    if (t.too_large) {
        throw RegistryError(ErrorCode::kRegistry,
                            where + ": " + std::to_string(t.response.status) +
                                " response body larger than the limit of " +
                                std::to_string(request.max_body) + " bytes",
                            t.response.status, {}, false);
    }
    if (t.short_upload || t.long_upload) {
        // The caller's data does not match the size it declared (a blob reader that gave
        // more or fewer bytes than its descriptor's size): content, not xarch, is wrong.
        throw Error(ErrorCode::kDigestMismatch, where + ": the request body source gave " +
                                                    (t.short_upload ? "fewer" : "more") +
                                                    " bytes than its declared size " +
                                                    std::to_string(t.upload_size.value_or(0)));
    }
    if (t.result == CURLE_WRITE_ERROR && t.response.body_truncated) {
        // We stopped reading an oversized error body on purpose; the answer is complete enough.
        t.result = CURLE_OK;
    }
    if (t.result != CURLE_OK) {
        throw network_error(t, t.result);
    }
    t.response.url = request.url;
    return std::move(t.response);
}

}  // namespace xarch::registry
