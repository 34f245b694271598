// SPDX-License-Identifier: Apache-2.0
// tag() and push() on one engine, and the push answer read by PushProgress.
#include "drivers/docker/push.hpp"

#include "registry/url.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <boost/json/value.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace xarch::drivers::docker {
namespace {

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// What the engine's push error text says went wrong (moby passes the registry client's
// error text on as it is).
ErrorCode push_error_code(std::string_view text) {
    if (contains(text, "unauthorized") || contains(text, "authentication required") ||
        contains(text, "denied") || contains(text, "no basic auth credentials")) {
        return ErrorCode::kAuthentication;
    }
    if (contains(text, "connection refused") || contains(text, "dial tcp") ||
        contains(text, "no such host") || contains(text, "i/o timeout") ||
        contains(text, "connection reset") || contains(text, "server gave HTTP response")) {
        return ErrorCode::kNetwork;
    }
    return ErrorCode::kRegistry;
}

// docker/cli's server address for the auth config: Docker Hub's historical index URL, else
// the registry as written.
std::string server_address(const Reference& ref) {
    const std::string& registry = ref.registry();
    if (registry == "docker.io" || registry == "index.docker.io") {
        return "https://index.docker.io/v1/";
    }
    return registry;
}

std::string error_text(const boost::json::object& message) {
    std::string text = engine::message_error(message);
    return text.empty() ? "the engine reported an error without text" : text;
}

}  // namespace

void tag(engine::Client& client, std::string_view image_id, const Reference& ref) {
    if (!ref.has_tag()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot tag an image as " + util::quote(ref.to_string()) +
                        ": the reference has no tag; give one (name:tag)");
    }
    try {
        client.post("/images/" + registry::percent_encode(image_id) +
                    "/tag?repo=" + registry::percent_encode(ref.name()) +
                    "&tag=" + registry::percent_encode(ref.tag()));
    } catch (const Error&) {
        rethrow_named("tagging " + std::string(image_id) + " as " + ref.to_string() + " on " +
                      client.host());
    }
}

PushProgress::PushProgress(const Reference& ref, std::string node, ProgressCallback callback)
    : ref_(ref.to_string()),
      name_("pushing " + ref_ + (node.empty() ? std::string() : " from " + node)),
      vertex_("docker:" + node + ":push:" + ref_),
      reporter_(std::move(callback)) {
    reporter_.started(vertex_, name_);
}

void PushProgress::on_message(const boost::json::object& message) {
    if (done_) {
        return;
    }
    if (message.contains("error") || message.contains("errorDetail")) {
        engine_error_ = error_text(message);
        reporter_.failed(vertex_, name_, engine_error_);
        done_ = true;
        return;
    }
    if (const auto aux = message.find("aux"); aux != message.end() && aux->value().is_object()) {
        const boost::json::object& a = aux->value().get_object();
        const std::string_view digest = string_field(a, "Digest");
        if (!digest.empty()) {
            digest_ = std::string(digest);
            if (const auto size = a.find("Size"); size != a.end()) {
                if (size->value().is_int64()) {
                    size_ = size->value().get_int64();
                } else if (size->value().is_uint64()) {
                    size_ = static_cast<std::int64_t>(size->value().get_uint64());
                }
            }
        }
        return;
    }
    if (message.contains("status")) {
        statuses_.report(reporter_, vertex_, name_, message);
        return;
    }
    const std::string_view stream = string_field(message, "stream");
    if (!stream.empty()) {
        LineSplitter lines;
        for (const std::string& line : lines.feed(stream)) {
            reporter_.log(vertex_, name_, line);
        }
        std::string rest;
        if (lines.flush(rest)) {
            reporter_.log(vertex_, name_, rest);
        }
    }
}

PushedManifest PushProgress::finish() {
    if (!engine_error_.empty()) {
        throw Error(push_error_code(engine_error_), name_ + ": " + engine_error_);
    }
    if (digest_.empty()) {
        const std::string message =
            name_ + ": the Docker Engine finished the push without reporting a digest";
        if (!done_) {
            reporter_.failed(vertex_, name_, message);
            done_ = true;
        }
        throw Error(ErrorCode::kRegistry, message);
    }
    PushedManifest pushed;
    try {
        pushed.digest = Digest::parse(digest_);
    } catch (const Error&) {
        throw Error(ErrorCode::kRegistry, name_ + ": the Docker Engine reported the digest " +
                                              util::quote(digest_) + ", which is not valid");
    }
    pushed.size = size_;
    if (!done_) {
        reporter_.completed(vertex_, name_);
        done_ = true;
    }
    return pushed;
}

void PushProgress::abort(std::string_view message) {
    if (!done_) {
        reporter_.failed(vertex_, name_, message);
        done_ = true;
    }
}

PushedManifest push(engine::Client& client,
                    const Reference& ref,
                    const CredentialsLookup& credentials,
                    const ProgressCallback& progress,
                    const std::function<bool()>& cancelled,
                    std::string_view node) {
    if (!ref.has_tag()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot push " + util::quote(ref.to_string()) +
                        " from a Docker Engine: the reference has no tag; give one (name:tag)");
    }
    std::optional<Credentials> found;
    if (credentials) {
        found = credentials(ref.registry());
    }
    engine::Client::Request request;
    request.method = "POST";
    request.path_and_query =
        "/images/" + ref.name() + "/push?tag=" + registry::percent_encode(ref.tag());
    request.headers = {engine::registry_auth_header(found, server_address(ref))};

    PushProgress events(ref, node.empty() ? client.host() : std::string(node), progress);
    return stream_into(client, request, events, cancelled);
}

}  // namespace xarch::drivers::docker
