// SPDX-License-Identifier: Apache-2.0
// The Docker Engine's streamed answers (/build, /images/create, /images/{name}/push, /images/load)
// are JSON messages one per line, arriving in chunks that split lines anywhere: this turns the
// chunks back into messages.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace xarch::engine {

class MessageSplitter {
public:
    using Sink = std::function<void(const boost::json::object&)>;

    // A line longer than this is an engine gone wrong; Error(kIo) rather than unbounded memory.
    static constexpr std::size_t kMaxLine = 64 * 1024 * 1024;

    explicit MessageSplitter(Sink sink) : sink_(std::move(sink)) {}

    // Passes on every message that `chunk` completes, in order. A line that is not a JSON object
    // comes as {"stream": line}; blank lines are skipped; "\r\n" ends a line as "\n" does.
    // Exceptions from the sink propagate (the rest of the chunk is then dropped).
    void feed(std::string_view chunk);
    // The answer ended: a last line without its newline is passed on.
    void finish();
    // Bytes of a line not yet ended.
    std::size_t pending() const { return line_.size(); }

private:
    void emit(std::string_view line);

    Sink sink_;
    std::string line_;
};

}  // namespace xarch::engine
