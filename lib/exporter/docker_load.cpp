// SPDX-License-Identifier: Apache-2.0
// POST /images/load with libcurl: the archive read from its file as curl sends it, the answer
// (one JSON message per line) checked for the engine's errors.
#include "exporter/docker_load.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace xarch::exporter {
namespace {

struct CurlDeleter {
    void operator()(CURL* curl) const noexcept { curl_easy_cleanup(curl); }
};
struct HeadersDeleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
struct FileCloser {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

struct Transfer {
    std::FILE* archive = nullptr;
    std::string body;
    const std::function<bool()>* cancelled = nullptr;
};

std::size_t read_archive(char* buffer, std::size_t size, std::size_t count, void* data) {
    auto* transfer = static_cast<Transfer*>(data);
    const std::size_t n = std::fread(buffer, 1, size * count, transfer->archive);
    if (n == 0 && std::ferror(transfer->archive) != 0) {
        return CURL_READFUNC_ABORT;
    }
    return n;
}

std::size_t collect(char* data, std::size_t size, std::size_t count, void* out) {
    static_cast<Transfer*>(out)->body.append(data, size * count);
    return size * count;
}

int check_cancel(void* data, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* transfer = static_cast<Transfer*>(data);
    return (*transfer->cancelled && (*transfer->cancelled)()) ? 1 : 0;
}

// The text of a message's "error" (or "errorDetail.message"), "" when it has none.
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

// The engine's answer to a load: one JSON object per line ({"stream": "..."} or an error).
void read_messages(const std::string& body,
                   const std::string& host,
                   const std::function<void(std::string_view)>& log) {
    std::size_t start = 0;
    while (start < body.size()) {
        std::size_t end = body.find('\n', start);
        if (end == std::string::npos) {
            end = body.size();
        }
        const std::string_view line(body.data() + start, end - start);
        start = end + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
            continue;
        }
        boost::system::error_code ec;
        const auto value = boost::json::parse(line, ec);
        if (ec || !value.is_object()) {
            log(line);  // not JSON (an old engine's plain answer): pass it on
            continue;
        }
        const auto& message = value.as_object();
        if (auto error = message_error(message); !error.empty()) {
            throw Error(ErrorCode::kIo, "docker load into " + host + " failed: " + error);
        }
        if (const auto* stream = message.if_contains("stream"); stream && stream->is_string()) {
            std::string_view text = stream->as_string();
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
                text.remove_suffix(1);
            }
            if (!text.empty()) {
                log(text);
            }
        }
    }
}

}  // namespace

std::string docker_host(std::string_view configured) {
    if (!configured.empty()) {
        return std::string(configured);
    }
    if (const char* env = std::getenv("DOCKER_HOST"); env != nullptr && *env != '\0') {
        return env;
    }
    return "unix:///var/run/docker.sock";
}

void docker_load(const std::string& host,
                 const std::filesystem::path& archive,
                 const std::function<void(std::string_view)>& log,
                 const std::function<bool()>& cancelled) {
    std::string url;
    std::string socket;
    if (host.starts_with("unix://")) {
        socket = host.substr(7);
        url = "http://localhost/images/load?quiet=1";
    } else if (host.starts_with("tcp://")) {
        url = "http://" + host.substr(6) + "/images/load?quiet=1";
    } else {
        throw Error(ErrorCode::kUnsupported,
                    "cannot load into the Docker Engine at " + util::quote(host) +
                        ": only unix:// and tcp:// hosts are supported; set docker_host or "
                        "DOCKER_HOST to one");
    }
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(archive.c_str(), "rb"));
    if (!file) {
        throw Error(ErrorCode::kIo, "cannot open the docker archive " + archive.string());
    }
    Transfer transfer{file.get(), {}, &cancelled};
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    std::unique_ptr<curl_slist, HeadersDeleter> headers(
        curl_slist_append(nullptr, "Content-Type: application/x-tar"));
    if (!curl || !headers) {
        throw Error(ErrorCode::kInternal, "cannot start an HTTP request (out of memory)");
    }
    // An engine answers 100-continue at once; not waiting for it saves a round trip.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
    char error[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    if (!socket.empty()) {
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
    }
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(std::filesystem::file_size(archive)));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_archive);
    curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, check_cancel);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    const CURLcode code = curl_easy_perform(c);
    if (code == CURLE_ABORTED_BY_CALLBACK) {
        throw Error(ErrorCode::kCancelled, "build cancelled");
    }
    if (code != CURLE_OK) {
        throw Error(ErrorCode::kNetwork,
                    "cannot reach the Docker Engine at " + host + ": " +
                        (error[0] != '\0' ? error : curl_easy_strerror(code)) +
                        "; is dockerd running? set docker_host or DOCKER_HOST");
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        std::string why = transfer.body;
        boost::system::error_code ec;
        const auto value = boost::json::parse(transfer.body, ec);
        if (!ec && value.is_object()) {
            if (const auto* text = value.as_object().if_contains("message");
                text && text->is_string()) {
                why = std::string(text->as_string());
            }
        }
        throw Error(ErrorCode::kIo, "docker load into " + host + " failed (HTTP " +
                                        std::to_string(status) + "): " + why);
    }
    read_messages(transfer.body, host, log);
}

}  // namespace xarch::exporter
