// SPDX-License-Identifier: Apache-2.0
// Engine answer messages: stream lines and pull/push statuses.
#include "drivers/docker/engine_messages.hpp"

#include <xarch/error.hpp>

#include <boost/json/value.hpp>

#include <cstdint>

namespace xarch::drivers::docker {

void rethrow_named(const std::string& who) {
    try {
        throw;
    } catch (const engine::EngineError& e) {
        throw engine::EngineError(e.code(), who + ": " + e.what(), e.http_status(),
                                  e.engine_message());
    } catch (const Error& e) {
        if (e.code() == ErrorCode::kCancelled) {
            throw;
        }
        throw Error(e.code(), who + ": " + e.what());
    }
}
namespace {

// Removes ANSI SGR sequences (ESC '[' digits/';' 'm'); an unfinished one at the end of `text`
// is kept for the next piece (LineSplitter holds it in its partial line).
void strip_sgr(std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
            std::size_t j = i + 2;
            while (j < text.size() && ((text[j] >= '0' && text[j] <= '9') || text[j] == ';')) {
                ++j;
            }
            if (j < text.size() && text[j] == 'm') {
                i = j + 1;
                continue;
            }
        }
        out.push_back(text[i++]);
    }
    text = std::move(out);
}

std::int64_t int_field(const boost::json::object& object, std::string_view key) {
    const auto it = object.find(key);
    if (it == object.end()) {
        return 0;
    }
    if (it->value().is_int64()) {
        return it->value().get_int64();
    }
    if (it->value().is_uint64()) {
        return static_cast<std::int64_t>(it->value().get_uint64());
    }
    if (it->value().is_double()) {
        return static_cast<std::int64_t>(it->value().get_double());
    }
    return 0;
}

}  // namespace

std::string_view string_field(const boost::json::object& message, std::string_view key) {
    const auto it = message.find(key);
    if (it == message.end() || !it->value().is_string()) {
        return {};
    }
    const boost::json::string& s = it->value().get_string();
    return {s.data(), s.size()};
}

std::vector<std::string> LineSplitter::feed(std::string_view text) {
    partial_.append(text);
    strip_sgr(partial_);
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t nl = partial_.find('\n'); nl != std::string::npos;
         nl = partial_.find('\n', start)) {
        std::string line = partial_.substr(start, nl - start);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        lines.push_back(std::move(line));
        start = nl + 1;
    }
    partial_.erase(0, start);
    return lines;
}

bool LineSplitter::flush(std::string& line) {
    if (partial_.empty()) {
        return false;
    }
    line = std::move(partial_);
    partial_.clear();
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return true;
}

std::string LayerStatuses::report(util::ProgressReporter& reporter,
                                  std::string_view vertex,
                                  std::string_view name,
                                  const boost::json::object& message) {
    const std::string_view status = string_field(message, "status");
    const std::string_view id = string_field(message, "id");
    const auto detail = message.find("progressDetail");
    if (id.empty() || detail == message.end() || !detail->value().is_object()) {
        std::string line =
            id.empty() ? std::string(status) : std::string(id) + ": " + std::string(status);
        reporter.log(vertex, name, line);
        return line;
    }
    const boost::json::object& bytes = detail->value().get_object();
    std::string item(id);
    bool moved = false;  // byte counts given
    bool done = false;
    if (status == "Downloading" || status == "Pushing") {
        moved = true;
    } else if (status == "Extracting") {
        item = "extracting " + item;
        moved = true;
    } else if (status == "Pull complete") {
        item = "extracting " + item;
        done = true;
    } else if (status == "Download complete" || status == "Already exists" || status == "Pushed" ||
               status == "Layer already exists" || status.starts_with("Mounted from ")) {
        done = true;
    } else if (items_.contains(item)) {
        return {};  // "Verifying Checksum", "Waiting": nothing new about the bytes
    }
    Bytes& b = items_[item];
    if (b.completed) {
        return {};
    }
    if (moved) {
        b.current = int_field(bytes, "current");
        b.total = int_field(bytes, "total");
        // A push reports the bytes sent against a "total" that is not the layer size.
        if (b.total < b.current) {
            b.total = 0;
        }
    }
    if (done) {
        b.completed = true;
        if (b.total > 0) {
            b.current = b.total;
        }
    }
    reporter.status(vertex, name, item, b.current, b.total, b.completed);
    return {};
}

}  // namespace xarch::drivers::docker
