// SPDX-License-Identifier: Apache-2.0
// --progress=tty: buildx's live view ("[+] Building 13.8s (12/12)" and a line per step with its
// time), redrawn in place by a thread at most every 100 ms while the build runs.
#include "progress_view.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace xarch::cli::progress {

namespace {

using TimePoint = std::chrono::system_clock::time_point;
using Kind = ProgressEvent::Kind;

// ANSI sequences (BuildKit's aec): colours for finished lines, cursor and line control.
constexpr const char* kBlue = "\x1b[34m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kReset = "\x1b[0m";
constexpr const char* kEraseLine = "\x1b[2K";
constexpr const char* kHideCursor = "\x1b[?25l";
constexpr const char* kShowCursor = "\x1b[?25h";

// Narrowest room for a step's name; BuildKit hides the line below it.
constexpr int kMinNameWidth = 12;

struct Transfer {
    std::string id;
    TimePoint started;
    std::optional<TimePoint> completed;
    std::int64_t current = 0;
    std::int64_t total = 0;
};

struct Vertex {
    std::string name;
    std::optional<TimePoint> started;
    std::optional<TimePoint> completed;
    bool cached = false;
    std::string error;
    bool shown = false;
    std::vector<Transfer> transfers;  // in order of their first event
    std::vector<std::string> warnings;
    std::vector<std::string> logs;
    std::deque<std::string> tail;  // the last log lines as printed, for the running view
};

// One line of the view: a step, one of its transfers or one of its warnings.
struct Job {
    std::string name;
    std::string status;
    std::optional<TimePoint> started;
    std::optional<TimePoint> stopped;
    bool completed = false;
    bool error = false;
    bool canceled = false;
    const std::deque<std::string>* tail = nullptr;  // a running step's last log lines
};

// BuildKit's terminal under a running step: its last lines, prefixed " => => # ", in a width
// narrower by termPad; shown when the screen has room for them and a margin (termLimit).
constexpr std::size_t kTailLines = 6;
constexpr int kTailPad = 10;
constexpr std::size_t kTailRoom = kTailLines + 3;
constexpr const char* kFaint = "\x1b[2m";

// The number of code points in UTF-8 `text`.
std::size_t code_points(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

// `text` cut to at most `bytes` bytes without splitting a UTF-8 sequence.
std::string cut(std::string_view text, std::size_t bytes) {
    if (text.size() <= bytes) {
        return std::string(text);
    }
    while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) {
        --bytes;
    }
    return std::string(text.substr(0, bytes));
}

// Go's fmt "%-*s": `text` padded with spaces to `width` code points.
std::string pad(std::string text, std::size_t width) {
    const std::size_t length = code_points(text);
    if (length < width) {
        text.append(width - length, ' ');
    }
    return text;
}

class TtyView final : public ProgressView {
public:
    TtyView(std::ostream& out, TtyOptions options) : out_(out), options_(std::move(options)) {
        if (!options_.size) {
            options_.size = [] { return TerminalSize{}; };
        }
        if (!options_.now) {
            options_.now = [] { return std::chrono::system_clock::now(); };
        }
        redraw_thread_ = std::thread([this] { redraw_loop(); });
    }

    ~TtyView() override { stop(); }

    void on_event(const ProgressEvent& event) override {
        std::lock_guard lock(mutex_);
        apply(event);
        dirty_ = true;
    }

    void finish(bool success) override {
        stop();
        std::lock_guard lock(mutex_);
        if (finished_) {
            return;
        }
        finished_ = true;
        draw(true, success);
        std::vector<FailedStep> steps;
        for (const Vertex* v : order_) {
            if (!v->error.empty() && !is_cancel_message(v->error)) {
                steps.push_back({v->name, v->logs});
            }
        }
        print_error_logs(out_, steps);
        print_warnings(out_, warnings_, options_.color);
        out_.flush();
    }

private:
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (redraw_thread_.joinable()) {
            redraw_thread_.join();
        }
    }

    // Redraws when something changed, or while a step runs (its timer moves); sleeps otherwise.
    void redraw_loop() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
            if (stopping_) {
                break;
            }
            if (dirty_ || running()) {
                draw(false, false);
                dirty_ = false;
            }
        }
    }

    bool running() const {
        return std::any_of(order_.begin(), order_.end(),
                           [](const Vertex* v) { return v->started && !v->completed; });
    }

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

    void show(Vertex& v) {
        if (!v.shown) {
            v.shown = true;
            order_.push_back(&v);
        }
        if (!start_ && v.started) {
            start_ = v.started;
        }
    }

    void apply(const ProgressEvent& event) {
        if (event.kind == Kind::kWarning) {
            warnings_.push_back(event.message);
            if (event.vertex.empty()) {
                return;
            }
        }
        Vertex& v = vertex(event);
        switch (event.kind) {
            case Kind::kVertexStarted:
                v.started = event.time;
                v.completed.reset();
                show(v);
                break;
            case Kind::kVertexCached:
                v.cached = true;
                [[fallthrough]];
            case Kind::kVertexCompleted:
            case Kind::kVertexError:
                if (!v.started) {
                    v.started = event.time;
                }
                v.completed = event.time;
                if (event.kind == Kind::kVertexError) {
                    v.error = failure_text(event.message);
                }
                show(v);
                break;
            case Kind::kStatus: {
                auto it = std::find_if(v.transfers.begin(), v.transfers.end(),
                                       [&](const Transfer& t) { return t.id == event.id; });
                if (it == v.transfers.end()) {
                    Transfer transfer;
                    transfer.id = event.id;
                    transfer.started = event.time;
                    it = v.transfers.insert(v.transfers.end(), std::move(transfer));
                }
                it->current = event.current;
                it->total = event.total;
                if (event.completed) {
                    it->completed = event.time;
                }
                break;
            }
            case Kind::kLog:
                v.logs.push_back(log_line(v.started ? seconds_between(*v.started, event.time) : 0.0,
                                          event.message));
                v.tail.push_back(event.message);
                if (v.tail.size() > kTailLines) {
                    v.tail.pop_front();
                }
                break;
            case Kind::kWarning:
                v.warnings.push_back(event.message);
                break;
        }
    }

    std::vector<Job> jobs() const {
        std::vector<Job> jobs;
        for (const Vertex* v : order_) {
            Job job;
            job.name = v->name;
            std::replace(job.name.begin(), job.name.end(), '\t', ' ');
            if (!v->error.empty()) {
                if (is_cancel_message(v->error)) {
                    job.canceled = true;
                    job.name = "CANCELED " + job.name;
                } else {
                    job.error = true;
                    job.name = "ERROR " + job.name;
                }
            }
            if (v->cached) {
                job.name = "CACHED " + job.name;
            }
            job.started = v->started;
            job.stopped = v->completed;
            job.completed = v->completed.has_value();
            if (v->started && !job.completed && v->error.empty() && !v->tail.empty()) {
                job.tail = &v->tail;
            }
            jobs.push_back(job);
            for (const Transfer& t : v->transfers) {
                Job transfer;
                transfer.name = "=> " + t.id;
                transfer.started = t.started;
                transfer.stopped = t.completed;
                transfer.completed = t.completed.has_value();
                if (t.total != 0) {
                    transfer.status = format_bytes(t.current) + " / " + format_bytes(t.total);
                } else if (t.current != 0) {
                    transfer.status = format_bytes(t.current);
                }
                jobs.push_back(transfer);
            }
            for (const std::string& w : v->warnings) {
                Job warning;
                warning.name = "WARN: " + w;
                warning.started = v->started;
                warning.stopped = v->completed;
                warning.canceled = true;
                jobs.push_back(warning);
            }
        }
        return jobs;
    }

    // A job's line, or nullopt when the terminal is too narrow for it (BuildKit's layout: the
    // name, the transfer's bytes when they fit, the time right-aligned).
    std::optional<std::string> job_line(const Job& job, int width, TimePoint now) const {
        double seconds = 0;
        if (job.started) {
            seconds = seconds_between(*job.started, job.stopped.value_or(now));
        }
        if (seconds < 0.05) {
            seconds = 0;
        }
        std::string timer = format_fixed(seconds, 1);
        if (timer.size() < 3) {
            timer.insert(0, 3 - timer.size(), ' ');
        }
        timer = " " + timer + "s";
        // BuildKit counts the timer's line break in its width arithmetic.
        const int timer_width = static_cast<int>(timer.size()) + 1;
        const std::string prefix = " => ";
        int left = width - static_cast<int>(prefix.size()) - timer_width - 1;
        bool show_status = false;
        if (!job.status.empty() && left + static_cast<int>(job.status.size()) > 20) {
            show_status = true;
            left -= static_cast<int>(job.status.size()) + 1;
        }
        if (left < kMinNameWidth) {
            return std::nullopt;
        }
        std::string text = prefix + cut(job.name, static_cast<std::size_t>(left));
        if (show_status) {
            text += " " + job.status;
        }
        text =
            pad(std::move(text), static_cast<std::size_t>(std::max(width - timer_width - 1, 0))) +
            " " + timer;
        if (job.completed && options_.color) {
            const char* color = job.canceled ? kYellow : job.error ? kRed : kBlue;
            text = color + text + kReset;
        }
        return text;
    }

    // One frame: the previous one is overwritten in place (cursor up, each line erased).
    void draw(bool final, bool success) {
        const TerminalSize size = options_.size();
        const int width = std::max(size.width, 1);
        const TimePoint now = options_.now();

        int completed = 0;
        for (const auto& [id, v] : vertexes_) {
            if (v->completed) {
                ++completed;
            }
        }
        const double elapsed = start_ ? std::max(seconds_between(*start_, now), 0.0) : 0.0;
        std::string header = "[+] Building " + format_fixed(elapsed, 1) + "s (" +
                             std::to_string(completed) + "/" + std::to_string(vertexes_.size()) +
                             ")";
        if (final) {
            header += success ? " FINISHED" : " FAILED";
        }
        std::vector<std::string> lines{cut(header, static_cast<std::size_t>(width))};

        std::vector<Job> all = jobs();
        // While running, the newest lines that fit under the header (BuildKit's wrapHeight);
        // the final frame shows every step.
        const auto room = static_cast<std::size_t>(std::max(size.height - 2, 0));
        const std::size_t skip = !final && all.size() > room ? all.size() - room : 0;
        std::size_t free_lines = room - std::min(room, all.size() - skip);
        for (std::size_t i = skip; i < all.size(); ++i) {
            std::optional<std::string> line = job_line(all[i], width, now);
            if (!line) {
                continue;
            }
            lines.push_back(std::move(*line));
            if (all[i].tail != nullptr && free_lines > kTailRoom && width > kTailPad) {
                for (const std::string& log : *all[i].tail) {
                    std::string text =
                        " => => # " + cut(log, static_cast<std::size_t>(width - kTailPad));
                    lines.push_back(options_.color ? kFaint + text + kReset : text);
                }
                free_lines -= all[i].tail->size();
            }
        }

        std::ostringstream frame;
        frame << kHideCursor;
        if (lines_drawn_ > 0) {
            frame << "\x1b[" << lines_drawn_ << "A";
        }
        for (const std::string& line : lines) {
            frame << "\r" << kEraseLine << line << "\n";
        }
        const int drawn = static_cast<int>(lines.size());
        if (lines_drawn_ > drawn) {
            // The previous frame was taller: blank its last lines and come back.
            for (int i = drawn; i < lines_drawn_; ++i) {
                frame << "\r" << kEraseLine << "\n";
            }
            frame << "\x1b[" << (lines_drawn_ - drawn) << "A";
        }
        frame << kShowCursor;
        lines_drawn_ = drawn;
        out_ << frame.str();
        out_.flush();
    }

    std::ostream& out_;
    TtyOptions options_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool finished_ = false;
    bool dirty_ = false;
    int lines_drawn_ = 0;

    std::unordered_map<std::string, std::unique_ptr<Vertex>> vertexes_;
    std::vector<Vertex*> order_;  // steps in the order they started
    std::optional<TimePoint> start_;
    std::vector<std::string> warnings_;

    std::thread redraw_thread_;  // last: started once everything it uses exists
};

}  // namespace

std::unique_ptr<ProgressView> make_tty_view(std::ostream& out, TtyOptions options) {
    return std::make_unique<TtyView>(out, std::move(options));
}

}  // namespace xarch::cli::progress
