// SPDX-License-Identifier: Apache-2.0
// ProgressView::create (the --progress modes) and what the views share: BuildKit's number
// formats and buildx's error-log and warning summaries.
#include "progress_view.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <ostream>
#include <string>

namespace xarch::cli {

namespace {

// The terminal behind `out` when it is one of the standard streams (-1 otherwise).
int terminal_fd(const std::ostream& out) {
    if (&out == &std::cerr || &out == &std::clog) {
        return STDERR_FILENO;
    }
    if (&out == &std::cout) {
        return STDOUT_FILENO;
    }
    return -1;
}

progress::TerminalSize query_size(int fd) {
    progress::TerminalSize size;
    winsize ws{};
    if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        size.width = ws.ws_col;
        size.height = ws.ws_row;
    }
    return size;
}

class QuietView final : public ProgressView {
public:
    void on_event(const ProgressEvent&) override {}
    void finish(bool) override {}
};

}  // namespace

std::unique_ptr<ProgressView> ProgressView::create(std::string_view mode,
                                                   std::ostream& out,
                                                   bool out_is_terminal) {
    if (mode == "auto" || mode.empty()) {
        // As buildx: BUILDKIT_PROGRESS picks the mode when the flag leaves it to auto.
        const char* env = std::getenv("BUILDKIT_PROGRESS");
        if (env != nullptr && *env != '\0' && std::string_view(env) != "auto") {
            mode = env;
        } else {
            mode = out_is_terminal ? "tty" : "plain";
        }
    }
    if (mode == "tty") {
        progress::TtyOptions options;
        const int fd = terminal_fd(out);
        options.size = [fd] { return query_size(fd); };
        options.now = [] { return std::chrono::system_clock::now(); };
        // https://no-color.org/, as BuildKit honours it.
        const char* no_color = std::getenv("NO_COLOR");
        options.color = no_color == nullptr || *no_color == '\0';
        return progress::make_tty_view(out, std::move(options));
    }
    if (mode == "plain") {
        return progress::make_plain_view(out);
    }
    if (mode == "rawjson") {
        return progress::make_rawjson_view(out);
    }
    if (mode == "quiet") {
        return progress::make_quiet_view();
    }
    throw Error(ErrorCode::kInvalidArgument, "invalid progress mode " + util::quote(mode) +
                                                 ": use one of auto, tty, plain, rawjson, quiet");
}

namespace progress {

std::unique_ptr<ProgressView> make_quiet_view() {
    return std::make_unique<QuietView>();
}

std::string format_fixed(double value, int precision) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", precision, value);
    return buffer;
}

std::string format_bytes(std::int64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    // Below 1 kB Go's units prints whole bytes; above, the value in the largest decimal unit it
    // reaches, with two decimals.
    const double magnitude = std::fabs(static_cast<double>(bytes));
    if (magnitude < 1000) {
        return std::to_string(bytes) + "B";
    }
    double unit = 1;
    std::size_t index = 0;
    while (index + 1 < std::size(kUnits) && magnitude >= unit * 1000) {
        unit *= 1000;
        ++index;
    }
    return format_fixed(static_cast<double>(bytes) / unit, 2) + kUnits[index];
}

double seconds_between(std::chrono::system_clock::time_point from,
                       std::chrono::system_clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

std::string log_line(double seconds, std::string_view text) {
    const int precision = seconds < 10 ? 3 : seconds < 100 ? 2 : 1;
    return format_fixed(seconds, precision) + " " + std::string(text);
}

std::string failure_text(std::string_view message) {
    return message.empty() ? std::string("failed") : std::string(message);
}

bool is_cancel_message(std::string_view message) {
    return message.ends_with("cancelled") || message.ends_with("context canceled");
}

void print_error_logs(std::ostream& out, const std::vector<FailedStep>& steps) {
    for (const FailedStep& step : steps) {
        out << "------\n";
        out << " > " << step.name << ":\n";
        for (const std::string& line : step.logs) {
            out << line << "\n";
        }
        out << "------\n";
    }
}

void print_warnings(std::ostream& out, const std::vector<std::string>& warnings, bool color) {
    if (warnings.empty()) {
        return;
    }
    out << "\n ";
    const std::string count = warnings.size() == 1
                                  ? std::string("1 warning found")
                                  : std::to_string(warnings.size()) + " warnings found";
    if (color) {
        out << "\x1b[33m" << count << ":\n\x1b[0m";
    } else {
        out << count << ":\n";
    }
    for (const std::string& warning : warnings) {
        out << " - " << warning << "\n";
    }
}

}  // namespace progress

}  // namespace xarch::cli
