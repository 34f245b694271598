// SPDX-License-Identifier: Apache-2.0
// Reading the JSON messages a Docker Engine streams back from /build and /images/push: the
// answer fed to its reader, the "stream" texts cut into lines, and the "status" messages of
// layer pulls and pushes.
#pragma once

#include "engine/client.hpp"
#include "util/progress_reporter.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::drivers::docker {

// Rethrows the exception being handled with `who` in front of its message: its type and code
// kept (an engine::EngineError stays one), a cancellation as it is.
[[noreturn]] void rethrow_named(const std::string& who);

// Sends `request` and feeds every message of the answer to `reader` (on_message), then returns
// what reader.finish() gives. When the request fails, an error the engine had already sent in
// the answer is the one thrown (reader.finish() throws it: a failed step may be followed by the
// engine closing the connection, whose error says less); else reader.abort() is told and the
// client's error rethrown with `reader.who()` in front.
template <typename Reader>
auto stream_into(engine::Client& client,
                 const engine::Client::Request& request,
                 Reader& reader,
                 const std::function<bool()>& cancelled) {
    try {
        client.stream(
            request, [&](const boost::json::object& message) { reader.on_message(message); },
            cancelled);
    } catch (const std::exception& e) {
        if (reader.failed()) {
            reader.finish();
        }
        reader.abort(e.what());
        rethrow_named(reader.who());
    }
    return reader.finish();
}

// message[key] when it is a string, else "".
std::string_view string_field(const boost::json::object& message, std::string_view key);

// The "stream" texts of an answer as whole lines: a line may arrive in pieces (the classic
// builder sends "Step 1/3 : FROM x" and its "\n" as two messages) and a message may hold
// several. The colour codes the engine wraps around a step's stderr (ESC[91m ... ESC[0m) are
// removed; so is a trailing '\r'.
class LineSplitter {
public:
    // The lines `text` completes.
    std::vector<std::string> feed(std::string_view text);
    // The unfinished line, if any (at the end of the answer or before a non-stream message).
    bool flush(std::string& line);

private:
    std::string partial_;
};

// The "status" messages of layer pulls and pushes as progress on one vertex, named as buildx
// names them: a layer's bytes moved under its id ("62e1066491e9", pushes too), its
// extraction under "extracting <id>", each item completed once (with the last byte counts
// seen) when the engine says it is done. Other statuses ("Digest: sha256:...", "latest:
// Pulling from x") are log lines, as `docker pull` prints them.
class LayerStatuses {
public:
    // Returns the log line emitted, "" when the message became a kStatus (or nothing).
    std::string report(util::ProgressReporter& reporter,
                       std::string_view vertex,
                       std::string_view name,
                       const boost::json::object& message);

private:
    struct Bytes {
        std::int64_t current = 0;
        std::int64_t total = 0;
        bool completed = false;
    };
    std::map<std::string, Bytes, std::less<>> items_;
};

}  // namespace xarch::drivers::docker
