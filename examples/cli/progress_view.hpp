// SPDX-License-Identifier: Apache-2.0
// The build's progress on the terminal, as buildx draws it: a live tty view, BuildKit's plain
// printer, raw SolveStatus JSON lines, or nothing (--progress=auto|tty|plain|rawjson|quiet).
#pragma once

#include <xarch/progress.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::cli {

class ProgressView {
public:
    virtual ~ProgressView() = default;

    // mode: auto (BUILDKIT_PROGRESS when set, else tty when `out_is_terminal`, else plain), tty,
    // plain, rawjson or quiet; anything else is Error(kInvalidArgument). tty draws even when
    // `out` is not a terminal.
    static std::unique_ptr<ProgressView> create(std::string_view mode,
                                                std::ostream& out,
                                                bool out_is_terminal);

    // Called for each event in order, never concurrently.
    virtual void on_event(const ProgressEvent& event) = 0;
    // Draws the final state once (the failed steps' last logs and the warnings too); no event
    // may follow.
    virtual void finish(bool success) = 0;
};

// The pieces below are for the views' own files and their tests.
namespace progress {

using Clock = std::function<std::chrono::system_clock::time_point()>;

struct TerminalSize {
    int width = 80;
    int height = 10;
};

struct TtyOptions {
    std::function<TerminalSize()> size;  // asked at every frame (the terminal may be resized)
    Clock now;
    bool color = true;
    std::chrono::milliseconds interval{100};  // least time between two frames
};

std::unique_ptr<ProgressView> make_plain_view(std::ostream& out);
std::unique_ptr<ProgressView> make_rawjson_view(std::ostream& out);
std::unique_ptr<ProgressView> make_tty_view(std::ostream& out, TtyOptions options);
std::unique_ptr<ProgressView> make_quiet_view();

// Byte counts as BuildKit prints them (Go's units.Bytes with %.2f): "512B", "1.05MB".
std::string format_bytes(std::int64_t bytes);
// Go's fmt "%.*f".
std::string format_fixed(double value, int precision);
double seconds_between(std::chrono::system_clock::time_point from,
                       std::chrono::system_clock::time_point to);
// A step's log line as BuildKit keeps it: the seconds since the step started, then the text
// ("0.123 hello"; fewer decimals after 10 s and 100 s).
std::string log_line(double seconds, std::string_view text);
// A failed step's message as the views show it: "failed" when the step gave none.
std::string failure_text(std::string_view message);
// Whether a step's error says it was cancelled (shown as CANCELED, not ERROR).
bool is_cancel_message(std::string_view message);
// What buildx prints after the progress: each failed step's last logs between "------" rules.
struct FailedStep {
    std::string name;
    std::vector<std::string> logs;
};
void print_error_logs(std::ostream& out, const std::vector<FailedStep>& steps);
// buildx's summary of the build's warnings (" 1 warning found:", " - message").
void print_warnings(std::ostream& out, const std::vector<std::string>& warnings, bool color);

}  // namespace progress

}  // namespace xarch::cli
