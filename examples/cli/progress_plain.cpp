// SPDX-License-Identifier: Apache-2.0
// --progress=plain: BuildKit's plain printer ("#3 [2/3] RUN make", "#3 DONE 0.3s"), one line per
// change, written as events arrive, for logs and CI.
#include "progress_view.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

namespace xarch::cli::progress {

namespace {

using TimePoint = std::chrono::system_clock::time_point;
using Kind = ProgressEvent::Kind;

// BuildKit prints an unfinished transfer again only after 5% more of it or 5 s.
constexpr double kMinProgressDelta = 0.05;
constexpr double kMinTimeDelta = 5.0;
// The failed step's last log lines shown after the build, as BuildKit's plain printer keeps.
constexpr std::size_t kErrorLogLines = 10;

struct Transfer {
    TimePoint started;
    bool printed = false;
    std::int64_t printed_current = 0;
    TimePoint printed_time;
};

struct Vertex {
    std::string name;
    int index = 0;  // 0: not printed yet
    std::optional<TimePoint> started;
    std::deque<std::string> recent_logs;
    std::map<std::string, Transfer> transfers;
};

class PlainView final : public ProgressView {
public:
    explicit PlainView(std::ostream& out) : out_(out) {}

    void on_event(const ProgressEvent& event) override {
        if (event.kind == Kind::kWarning) {
            warnings_.push_back(event.message);
            if (event.vertex.empty()) {
                return;  // shown in the summary only, as BuildKit has no step to print it under
            }
        }
        Vertex& v = vertex(event);
        switch (event.kind) {
            case Kind::kVertexStarted:
                v.started = event.time;
                enter(v);
                break;
            case Kind::kVertexCached:
                enter(v);
                line(v) << "CACHED\n";
                leave();
                break;
            case Kind::kVertexCompleted: {
                const TimePoint started = v.started.value_or(event.time);
                enter(v);
                line(v) << "DONE " << format_fixed(seconds_between(started, event.time), 1)
                        << "s\n";
                leave();
                break;
            }
            case Kind::kVertexError:
                enter(v);
                if (is_cancel_message(event.message)) {
                    line(v) << "CANCELED\n";
                } else {
                    line(v) << "ERROR: " << failure_text(event.message) << "\n";
                    failed_.push_back(&v);
                }
                leave();
                break;
            case Kind::kStatus:
                status(v, event);
                break;
            case Kind::kLog:
                log(v, event);
                break;
            case Kind::kWarning:
                enter(v);
                line(v) << "WARN: " << event.message << "\n";
                break;
        }
        out_.flush();
    }

    void finish(bool /*success*/) override {
        std::vector<FailedStep> steps;
        for (const Vertex* v : failed_) {
            steps.push_back({v->name, {v->recent_logs.begin(), v->recent_logs.end()}});
        }
        print_error_logs(out_, steps);
        print_warnings(out_, warnings_, false);
        out_.flush();
    }

private:
    Vertex& vertex(const ProgressEvent& event) {
        auto [it, added] = vertexes_.try_emplace(event.vertex);
        if (added) {
            it->second = std::make_unique<Vertex>();
        }
        if (!event.name.empty()) {
            it->second->name = event.name;
        }
        return *it->second;
    }

    std::ostream& line(const Vertex& v) { return out_ << "#" << v.index << " "; }

    // Prints the step's heading when output switches to it from another step (BuildKit marks
    // the interrupted one with "#N ...").
    void enter(Vertex& v) {
        if (current_ == &v) {
            return;
        }
        if (v.index == 0) {
            v.index = ++last_index_;
        }
        if (current_ != nullptr) {
            out_ << "#" << current_->index << " ...\n";
        }
        if (printed_any_) {
            out_ << "\n";
        }
        printed_any_ = true;
        out_ << "#" << v.index << " " << v.name << "\n";
        current_ = &v;
    }

    // A finished step is not resumed: its next event (if any) starts a new block.
    void leave() { current_ = nullptr; }

    void status(Vertex& v, const ProgressEvent& event) {
        auto [it, added] = v.transfers.try_emplace(event.id);
        Transfer& transfer = it->second;
        if (added) {
            transfer.started = event.time;
        }
        if (transfer.printed && !event.completed) {
            const double progress =
                event.total > 0 ? static_cast<double>(event.current - transfer.printed_current) /
                                      static_cast<double>(event.total)
                                : 0.0;
            const double elapsed = seconds_between(transfer.printed_time, event.time);
            if (progress < kMinProgressDelta && elapsed < kMinTimeDelta) {
                return;
            }
        }
        transfer.printed = true;
        transfer.printed_current = event.current;
        transfer.printed_time = event.time;

        std::string text = event.id;
        if (event.total != 0) {
            text += " " + format_bytes(event.current) + " / " + format_bytes(event.total);
        } else if (event.current != 0) {
            text += " " + format_bytes(event.current);
        }
        const double seconds = seconds_between(transfer.started, event.time);
        if (seconds > 0.01) {
            text += " " + format_fixed(seconds, 1) + "s";
        }
        if (event.completed) {
            text += " done";
        }
        enter(v);
        line(v) << text << "\n";
    }

    void log(Vertex& v, const ProgressEvent& event) {
        const double seconds = v.started ? seconds_between(*v.started, event.time) : 0.0;
        enter(v);
        std::string_view rest = event.message;
        // One event is one line; a message with line breaks is printed as BuildKit splits data.
        while (true) {
            const std::size_t newline = rest.find('\n');
            const std::string text = log_line(seconds, rest.substr(0, newline));
            line(v) << text << "\n";
            v.recent_logs.push_back(text);
            if (v.recent_logs.size() > kErrorLogLines) {
                v.recent_logs.pop_front();
            }
            if (newline == std::string_view::npos || newline + 1 == rest.size()) {
                break;
            }
            rest.remove_prefix(newline + 1);
        }
    }

    std::ostream& out_;
    std::unordered_map<std::string, std::unique_ptr<Vertex>> vertexes_;
    Vertex* current_ = nullptr;
    int last_index_ = 0;
    bool printed_any_ = false;
    std::vector<const Vertex*> failed_;
    std::vector<std::string> warnings_;
};

}  // namespace

std::unique_ptr<ProgressView> make_plain_view(std::ostream& out) {
    return std::make_unique<PlainView>(out);
}

}  // namespace xarch::cli::progress
