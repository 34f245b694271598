// SPDX-License-Identifier: Apache-2.0
// MessageSplitter: lines gathered across chunks, each parsed as one JSON object.
#include "engine/message_stream.hpp"

#include <xarch/error.hpp>

namespace xarch::engine {

void MessageSplitter::feed(std::string_view chunk) {
    while (!chunk.empty()) {
        const std::size_t newline = chunk.find('\n');
        if (newline == std::string_view::npos) {
            if (line_.size() + chunk.size() > kMaxLine) {
                throw Error(ErrorCode::kIo,
                            "the Docker Engine sent a line longer than 64 MiB; its answer is not a "
                            "message stream");
            }
            line_.append(chunk);
            return;
        }
        if (line_.empty()) {
            emit(chunk.substr(0, newline));  // the whole line is in this chunk: no copy
        } else {
            line_.append(chunk.substr(0, newline));
            std::string line;
            line.swap(line_);
            emit(line);
        }
        chunk.remove_prefix(newline + 1);
    }
}

void MessageSplitter::finish() {
    if (!line_.empty()) {
        std::string line;
        line.swap(line_);
        emit(line);
    }
}

void MessageSplitter::emit(std::string_view line) {
    if (line.ends_with('\r')) {
        line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        return;
    }
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(line, ec);
    if (!ec && value.is_object()) {
        sink_(value.as_object());
        return;
    }
    // Not JSON (an old engine's plain text): passed on as the engine's own output would be.
    boost::json::object message;
    message["stream"] = line;
    sink_(message);
}

}  // namespace xarch::engine
