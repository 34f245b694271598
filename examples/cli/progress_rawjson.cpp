// SPDX-License-Identifier: Apache-2.0
// --progress=rawjson: each event as one line of BuildKit's SolveStatus JSON (the shape `buildx
// build --progress=rawjson` prints), for programs that read the build's progress.
#include "progress_view.hpp"
#include "util/base64.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>

namespace xarch::cli::progress {

namespace {

using TimePoint = std::chrono::system_clock::time_point;
using Kind = ProgressEvent::Kind;

// Go's time.RFC3339Nano in UTC, as encoding/json writes a time.Time: trailing zeros of the
// fraction dropped, no fraction when it is zero.
std::string rfc3339_nano(TimePoint time) {
    const auto since_epoch =
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch());
    auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
    const long long nanos = (since_epoch - seconds).count();
    const std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&t, &utc);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string text = date;
    if (nanos != 0) {
        char fraction[16];
        std::snprintf(fraction, sizeof fraction, ".%09lld", nanos);
        std::string digits = fraction;
        while (digits.back() == '0') {
            digits.pop_back();
        }
        text += digits;
    }
    return text + "Z";
}

class RawJsonView final : public ProgressView {
public:
    explicit RawJsonView(std::ostream& out) : out_(out) {}

    void on_event(const ProgressEvent& event) override {
        boost::json::object status;
        switch (event.kind) {
            case Kind::kVertexStarted:
                starts_[event.vertex] = event.time;
                status["vertexes"] = boost::json::array{vertex(event, event.time)};
                break;
            case Kind::kVertexCached: {
                // BuildKit reports a cache hit as a vertex started and completed at once.
                boost::json::object v = vertex(event, started(event));
                v["completed"] = rfc3339_nano(event.time);
                v["cached"] = true;
                status["vertexes"] = boost::json::array{std::move(v)};
                break;
            }
            case Kind::kVertexCompleted:
            case Kind::kVertexError: {
                boost::json::object v = vertex(event, started(event));
                v["completed"] = rfc3339_nano(event.time);
                if (event.kind == Kind::kVertexError) {
                    v["error"] = failure_text(event.message);
                }
                status["vertexes"] = boost::json::array{std::move(v)};
                break;
            }
            case Kind::kStatus:
                status["statuses"] = boost::json::array{transfer(event)};
                break;
            case Kind::kLog: {
                boost::json::object log;
                put_vertex(log, event.vertex);
                log["stream"] = 1;
                // Go's []byte: base64. A step's output is bytes with its line breaks.
                log["data"] = util::base64_encode(event.message + "\n");
                log["timestamp"] = rfc3339_nano(event.time);
                status["logs"] = boost::json::array{std::move(log)};
                break;
            }
            case Kind::kWarning: {
                boost::json::object warning;
                put_vertex(warning, event.vertex);
                warning["short"] = util::base64_encode(event.message);
                status["warnings"] = boost::json::array{std::move(warning)};
                break;
            }
        }
        out_ << boost::json::serialize(status) << "\n";
        out_.flush();
    }

    void finish(bool /*success*/) override { out_.flush(); }

private:
    // Fields in the order (and with the omitempty rules) of BuildKit's client.Vertex.
    static boost::json::object vertex(const ProgressEvent& event, TimePoint started) {
        boost::json::object v;
        put_vertex(v, event.vertex, "digest");
        if (!event.name.empty()) {
            v["name"] = event.name;
        }
        v["started"] = rfc3339_nano(started);
        return v;
    }

    static void put_vertex(boost::json::object& object,
                           const std::string& vertex,
                           const char* key = "vertex") {
        if (!vertex.empty()) {
            object[key] = vertex;
        }
    }

    // When the step started: its start event, or this event for a step that did not report one.
    TimePoint started(const ProgressEvent& event) {
        return starts_.try_emplace(event.vertex, event.time).first->second;
    }

    // client.VertexStatus: started is the first event for this id of this step.
    boost::json::object transfer(const ProgressEvent& event) {
        const TimePoint first =
            transfer_starts_.try_emplace(event.vertex + "\n" + event.id, event.time).first->second;
        boost::json::object s;
        s["id"] = event.id;
        put_vertex(s, event.vertex);
        if (event.total != 0) {
            s["total"] = event.total;
        }
        s["current"] = event.current;
        s["timestamp"] = rfc3339_nano(event.time);
        s["started"] = rfc3339_nano(first);
        if (event.completed) {
            s["completed"] = rfc3339_nano(event.time);
        }
        return s;
    }

    std::ostream& out_;
    std::unordered_map<std::string, TimePoint> starts_;
    std::unordered_map<std::string, TimePoint> transfer_starts_;
};

}  // namespace

std::unique_ptr<ProgressView> make_rawjson_view(std::ostream& out) {
    return std::make_unique<RawJsonView>(out);
}

}  // namespace xarch::cli::progress
