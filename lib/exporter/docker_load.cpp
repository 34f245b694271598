// SPDX-License-Identifier: Apache-2.0
// POST /images/load through engine::Client: the archive read from its file as the request goes
// out, the answer's messages checked for the engine's errors.
#include "exporter/docker_load.hpp"

#include "engine/client.hpp"
#include "engine/endpoint.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace xarch::exporter {
namespace {

struct FileCloser {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

// The engine `host` names, with its TLS settings: those of the implicit engine (DOCKER_HOST or
// the current Docker context) when `host` is that engine's address, else the address as
// `docker -H` takes it (a name without "://" is a Docker context).
engine::Endpoint endpoint_for(const std::string& host) {
    try {
        engine::Endpoint implicit = engine::resolve_endpoint("");
        if (implicit.host == host) {
            return implicit;
        }
    } catch (const Error&) {
        // The implicit engine is misconfigured, but `host` was given: it is all that counts.
    }
    return engine::resolve_endpoint(host);
}

}  // namespace

std::string docker_host(std::string_view configured) {
    if (!configured.empty()) {
        return std::string(configured);
    }
    return engine::resolve_endpoint("").host;
}

void docker_load(const std::string& host,
                 const std::filesystem::path& archive,
                 const std::function<void(std::string_view)>& log,
                 const std::function<bool()>& cancelled) {
    if (const std::size_t scheme = host.find("://"); scheme != std::string::npos &&
                                                     !host.starts_with("unix://") &&
                                                     !host.starts_with("tcp://")) {
        throw Error(ErrorCode::kUnsupported,
                    "cannot load into the Docker Engine at " + util::quote(host) +
                        ": only unix:// and tcp:// hosts are supported; set docker_host or "
                        "DOCKER_HOST to one");
    }
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(archive.c_str(), "rb"));
    if (!file) {
        throw Error(ErrorCode::kIo, "cannot open the docker archive " + archive.string());
    }
    engine::Client client(endpoint_for(host));
    engine::Client::Request request;
    request.method = "POST";
    request.path_and_query = "/images/load?quiet=1";
    request.headers = {"Content-Type: application/x-tar",
                       "Content-Length: " + std::to_string(std::filesystem::file_size(archive))};
    request.body = [&](char* buffer, std::size_t size) {
        const std::size_t n = std::fread(buffer, 1, size, file.get());
        if (n == 0 && std::ferror(file.get()) != 0) {
            throw Error(ErrorCode::kIo, "cannot read the docker archive " + archive.string());
        }
        return n;
    };
    // The answer: one JSON message per line ({"stream": "Loaded image: ..."} or an error).
    const auto on_message = [&](const boost::json::object& message) {
        if (auto error = engine::message_error(message); !error.empty()) {
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
    };
    try {
        client.stream(request, on_message, cancelled);
    } catch (const engine::EngineError& e) {
        throw Error(ErrorCode::kIo, "docker load into " + host + " failed (HTTP " +
                                        std::to_string(e.http_status()) +
                                        "): " + e.engine_message());
    } catch (const Error& e) {
        if (e.code() == ErrorCode::kCancelled) {
            throw Error(ErrorCode::kCancelled, "build cancelled");
        }
        throw;
    }
}

}  // namespace xarch::exporter
