// SPDX-License-Identifier: Apache-2.0
#include "progress_view.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <regex>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Kind = xarch::ProgressEvent::Kind;
using TimePoint = std::chrono::system_clock::time_point;
using xarch::ProgressEvent;
using xarch::cli::ProgressView;
namespace progress = xarch::cli::progress;

// 2026-01-02T03:04:05Z: the scripted build's start.
const TimePoint kBase = std::chrono::sys_days{std::chrono::year{2026} / 1 / 2} + 3h + 4min + 5s;

ProgressEvent event(Kind kind, int ms, std::string vertex, std::string name = {}) {
    ProgressEvent e;
    e.kind = kind;
    e.time = kBase + std::chrono::milliseconds(ms);
    e.vertex = std::move(vertex);
    e.name = std::move(name);
    return e;
}

ProgressEvent status(int ms,
                     std::string vertex,
                     std::string id,
                     std::int64_t current,
                     std::int64_t total,
                     bool completed = false) {
    ProgressEvent e = event(Kind::kStatus, ms, std::move(vertex));
    e.id = std::move(id);
    e.current = current;
    e.total = total;
    e.completed = completed;
    return e;
}

ProgressEvent with_message(ProgressEvent e, std::string message) {
    e.message = std::move(message);
    return e;
}

const std::string kLoad = "[internal] load build definition from Dockerfile";
const std::string kFrom = "[linux/arm64 1/2] FROM docker.io/library/alpine:3.20";
const std::string kCopy = "[linux/arm64 2/2] COPY app /app";
const std::string kRun = "[linux/arm64 3/3] RUN make";
const std::string kCasing = "FromAsCasing: 'as' and 'FROM' keywords' casing do not match";
const std::string kExit = "process \"make\" did not complete successfully: exit code: 2";

// A failing two-platform-step build: a transfer, a cache hit, a log line and warnings.
std::vector<ProgressEvent> scripted_build() {
    return {
        event(Kind::kVertexStarted, 0, "internal:load-dockerfile", kLoad),
        event(Kind::kVertexCompleted, 30, "internal:load-dockerfile", kLoad),
        event(Kind::kVertexStarted, 40, "sha256:aaa", kFrom),
        status(50, "sha256:aaa", "sha256:3f2a", 0, 2100000),
        status(250, "sha256:aaa", "sha256:3f2a", 1050000, 2100000),
        // Less than 5% more and less than 5 s later: the plain printer skips it.
        status(260, "sha256:aaa", "sha256:3f2a", 1100000, 2100000),
        status(450, "sha256:aaa", "sha256:3f2a", 2100000, 2100000, true),
        event(Kind::kVertexCached, 500, "sha256:bbb", kCopy),
        event(Kind::kVertexCompleted, 540, "sha256:aaa", kFrom),
        event(Kind::kVertexStarted, 600, "sha256:ccc", kRun),
        with_message(event(Kind::kLog, 723, "sha256:ccc", kRun), "building"),
        with_message(event(Kind::kWarning, 800, "sha256:ccc"), kCasing),
        with_message(event(Kind::kVertexError, 900, "sha256:ccc", kRun), kExit),
        with_message(event(Kind::kWarning, 910, ""), "No output specified"),
    };
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// What a terminal shows after `output`: cursor-up, erase-line, carriage return and line feed
// applied; colours and cursor visibility ignored; trailing spaces and empty last rows dropped.
std::vector<std::string> screen(const std::string& output) {
    std::vector<std::string> rows(1);
    std::size_t row = 0;
    std::size_t column = 0;
    for (std::size_t i = 0; i < output.size(); ++i) {
        const char c = output[i];
        if (c == '\x1b' && i + 1 < output.size() && output[i + 1] == '[') {
            std::size_t end = i + 2;
            while (end < output.size() && !(output[end] >= '@' && output[end] <= '~')) {
                ++end;
            }
            const std::string parameter = output.substr(i + 2, end - i - 2);
            const char command = end < output.size() ? output[end] : '\0';
            if (command == 'A') {
                const std::size_t up = parameter.empty() ? 1 : std::stoul(parameter);
                EXPECT_LE(up, row) << "cursor moved above the view";
                row -= std::min(up, row);
            } else if (command == 'K' && parameter == "2") {
                rows[row].clear();
            } else if (command != 'm' && command != 'l' && command != 'h') {
                ADD_FAILURE() << "unexpected escape sequence " << parameter << command;
            }
            i = end;
            continue;
        }
        if (c == '\r') {
            column = 0;
        } else if (c == '\n') {
            ++row;
            column = 0;
            if (rows.size() <= row) {
                rows.resize(row + 1);
            }
        } else {
            std::string& text = rows[row];
            if (text.size() <= column) {
                text.resize(column + 1, ' ');
            }
            text[column++] = c;
        }
    }
    for (std::string& r : rows) {
        r.erase(r.find_last_not_of(' ') + 1);
    }
    while (!rows.empty() && rows.back().empty()) {
        rows.pop_back();
    }
    return rows;
}

TEST(PlainProgress, PrintsBuildKitsPlainLines) {
    std::ostringstream out;
    auto view = progress::make_plain_view(out);
    for (const ProgressEvent& e : scripted_build()) {
        view->on_event(e);
    }
    view->finish(false);
    const std::vector<std::string> expected = {
        "#1 " + kLoad,
        "#1 DONE 0.0s",
        "",
        "#2 " + kFrom,
        "#2 sha256:3f2a 0B / 2.10MB",
        "#2 sha256:3f2a 1.05MB / 2.10MB 0.2s",
        "#2 sha256:3f2a 2.10MB / 2.10MB 0.4s done",
        "#2 ...",
        "",
        "#3 " + kCopy,
        "#3 CACHED",
        "",
        "#2 " + kFrom,
        "#2 DONE 0.5s",
        "",
        "#4 " + kRun,
        "#4 0.123 building",
        "#4 WARN: " + kCasing,
        "#4 ERROR: " + kExit,
        "------",
        " > " + kRun + ":",
        "0.123 building",
        "------",
        "",
        " 2 warnings found:",
        " - " + kCasing,
        " - No output specified",
    };
    EXPECT_EQ(lines_of(out.str()), expected);
}

TEST(PlainProgress, PrintsACancelledStepAsCanceledWithoutItsLogs) {
    std::ostringstream out;
    auto view = progress::make_plain_view(out);
    view->on_event(event(Kind::kVertexStarted, 0, "v", "step"));
    view->on_event(with_message(event(Kind::kLog, 12, "v", "step"), "one\ntwo"));
    view->on_event(with_message(event(Kind::kVertexError, 20, "v", "step"), "build cancelled"));
    view->finish(false);
    const std::vector<std::string> expected = {"#1 step", "#1 0.012 one", "#1 0.012 two",
                                               "#1 CANCELED"};
    EXPECT_EQ(lines_of(out.str()), expected);
}

TEST(ProgressFormat, FormatsBytesAsGoUnits) {
    EXPECT_EQ(progress::format_bytes(0), "0B");
    EXPECT_EQ(progress::format_bytes(999), "999B");
    EXPECT_EQ(progress::format_bytes(1000), "1.00kB");
    EXPECT_EQ(progress::format_bytes(1230), "1.23kB");
    EXPECT_EQ(progress::format_bytes(28230000), "28.23MB");
    EXPECT_EQ(progress::format_bytes(3000000000), "3.00GB");
    EXPECT_EQ(progress::log_line(12.5, "x"), "12.50 x");
    EXPECT_EQ(progress::log_line(123.0, "x"), "123.0 x");
}

TEST(RawJsonProgress, PrintsOneSolveStatusPerLine) {
    std::ostringstream out;
    auto view = progress::make_rawjson_view(out);
    for (const ProgressEvent& e : scripted_build()) {
        view->on_event(e);
    }
    view->finish(false);
    const std::vector<std::string> expected = {
        R"({"vertexes":[{"digest":"internal:load-dockerfile","name":"[internal] load build definition from Dockerfile","started":"2026-01-02T03:04:05Z"}]})",
        R"({"vertexes":[{"digest":"internal:load-dockerfile","name":"[internal] load build definition from Dockerfile","started":"2026-01-02T03:04:05Z","completed":"2026-01-02T03:04:05.03Z"}]})",
        R"({"vertexes":[{"digest":"sha256:aaa","name":"[linux/arm64 1/2] FROM docker.io/library/alpine:3.20","started":"2026-01-02T03:04:05.04Z"}]})",
        R"({"statuses":[{"id":"sha256:3f2a","vertex":"sha256:aaa","total":2100000,"current":0,"timestamp":"2026-01-02T03:04:05.05Z","started":"2026-01-02T03:04:05.05Z"}]})",
        R"({"statuses":[{"id":"sha256:3f2a","vertex":"sha256:aaa","total":2100000,"current":1050000,"timestamp":"2026-01-02T03:04:05.25Z","started":"2026-01-02T03:04:05.05Z"}]})",
        R"({"statuses":[{"id":"sha256:3f2a","vertex":"sha256:aaa","total":2100000,"current":1100000,"timestamp":"2026-01-02T03:04:05.26Z","started":"2026-01-02T03:04:05.05Z"}]})",
        R"({"statuses":[{"id":"sha256:3f2a","vertex":"sha256:aaa","total":2100000,"current":2100000,"timestamp":"2026-01-02T03:04:05.45Z","started":"2026-01-02T03:04:05.05Z","completed":"2026-01-02T03:04:05.45Z"}]})",
        R"({"vertexes":[{"digest":"sha256:bbb","name":"[linux/arm64 2/2] COPY app /app","started":"2026-01-02T03:04:05.5Z","completed":"2026-01-02T03:04:05.5Z","cached":true}]})",
        R"({"vertexes":[{"digest":"sha256:aaa","name":"[linux/arm64 1/2] FROM docker.io/library/alpine:3.20","started":"2026-01-02T03:04:05.04Z","completed":"2026-01-02T03:04:05.54Z"}]})",
        R"({"vertexes":[{"digest":"sha256:ccc","name":"[linux/arm64 3/3] RUN make","started":"2026-01-02T03:04:05.6Z"}]})",
        // "building\n" in base64.
        R"({"logs":[{"vertex":"sha256:ccc","stream":1,"data":"YnVpbGRpbmcK","timestamp":"2026-01-02T03:04:05.723Z"}]})",
        R"({"warnings":[{"vertex":"sha256:ccc","short":"RnJvbUFzQ2FzaW5nOiAnYXMnIGFuZCAnRlJPTScga2V5d29yZHMnIGNhc2luZyBkbyBub3QgbWF0Y2g="}]})",
        R"({"vertexes":[{"digest":"sha256:ccc","name":"[linux/arm64 3/3] RUN make","started":"2026-01-02T03:04:05.6Z","completed":"2026-01-02T03:04:05.9Z","error":"process \"make\" did not complete successfully: exit code: 2"}]})",
        R"({"warnings":[{"short":"Tm8gb3V0cHV0IHNwZWNpZmllZA=="}]})",
    };
    const std::vector<std::string> lines = lines_of(out.str());
    ASSERT_EQ(lines.size(), expected.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        boost::json::value parsed;
        ASSERT_NO_THROW(parsed = boost::json::parse(lines[i])) << lines[i];
        EXPECT_EQ(parsed, boost::json::parse(expected[i])) << "line " << i << ": " << lines[i];
        // Field order as Go's encoding/json writes BuildKit's structs.
        EXPECT_EQ(lines[i], expected[i]);
    }
}

TEST(RawJsonProgress, WritesNanosecondTimesWithoutTrailingZeros) {
    std::ostringstream out;
    auto view = progress::make_rawjson_view(out);
    ProgressEvent e = event(Kind::kVertexStarted, 0, "v", "n");
    e.time += std::chrono::nanoseconds(123456780);
    view->on_event(e);
    const boost::json::value parsed = boost::json::parse(out.str());
    EXPECT_EQ(parsed.at("vertexes").at(0).at("started").as_string(),
              "2026-01-02T03:04:05.12345678Z");
}

// A final frame 60 columns wide of scripted_build() finished at kBase + 1 s, then the logs of
// the failed step and the warnings.
const std::vector<std::string> kFinalScreen = {
    "[+] Building 1.0s (4/4) FAILED",
    " => [internal] load build definition from Dockerfile   0.0s",
    " => [linux/arm64 1/2] FROM docker.io/library/alpine:3  0.5s",
    " => => sha256:3f2a 2.10MB / 2.10MB                     0.4s",
    " => CACHED [linux/arm64 2/2] COPY app /app             0.0s",
    " => ERROR [linux/arm64 3/3] RUN make                   0.3s",
    " => WARN: FromAsCasing: 'as' and 'FROM' keywords' cas  0.3s",
    "------",
    " > [linux/arm64 3/3] RUN make:",
    "0.123 building",
    "------",
    "",
    " 2 warnings found:",
    " - " + kCasing,
    " - No output specified",
};

TEST(TtyProgress, DrawsTheFinalFrameOnce) {
    std::ostringstream out;
    progress::TtyOptions options;
    options.size = [] { return progress::TerminalSize{60, 24}; };
    options.now = [] { return kBase + 1s; };
    options.color = false;
    // No live frame during the test: only finish() draws.
    options.interval = std::chrono::hours(1);
    auto view = progress::make_tty_view(out, options);
    for (const ProgressEvent& e : scripted_build()) {
        view->on_event(e);
    }
    view->finish(false);
    const std::string text = out.str();
    // One frame, drawn where the cursor was.
    EXPECT_FALSE(std::regex_search(text, std::regex("\x1b\\[[0-9]+A")));
    EXPECT_EQ(text.find("[+] Building"), text.rfind("[+] Building"));
    EXPECT_EQ(screen(text), kFinalScreen);
}

// A stream that the view's redraw thread and the test may use at the same time.
class SharedBuffer : public std::streambuf {
public:
    std::string text() {
        std::lock_guard lock(mutex_);
        return text_;
    }

protected:
    int overflow(int c) override {
        if (c != traits_type::eof()) {
            std::lock_guard lock(mutex_);
            text_.push_back(static_cast<char>(c));
        }
        return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        std::lock_guard lock(mutex_);
        text_.append(s, static_cast<std::size_t>(n));
        return n;
    }

private:
    std::mutex mutex_;
    std::string text_;
};

// Waits (without a deadline: ctest has one) until `buffer` holds `count` frames.
void wait_for_frames(SharedBuffer& buffer, std::size_t count) {
    for (;;) {
        const std::string text = buffer.text();
        std::size_t frames = 0;
        for (std::size_t at = text.find("[+] Building"); at != std::string::npos;
             at = text.find("[+] Building", at + 1)) {
            ++frames;
        }
        if (frames >= count) {
            return;
        }
        std::this_thread::sleep_for(1ms);
    }
}

TEST(TtyProgress, RedrawsInPlaceWhileRunning) {
    SharedBuffer buffer;
    std::ostream out(&buffer);
    std::atomic<int> now_ms{0};
    progress::TtyOptions options;
    options.size = [] { return progress::TerminalSize{60, 24}; };
    options.now = [&] { return kBase + std::chrono::milliseconds(now_ms.load()); };
    options.color = false;
    options.interval = 1ms;
    auto view = progress::make_tty_view(out, options);
    std::size_t frames = 0;
    for (const ProgressEvent& e : scripted_build()) {
        now_ms = static_cast<int>((e.time - kBase) / 1ms);
        view->on_event(e);
        // A live frame after each step's start and end, each taller or shorter than the last.
        if (e.kind != Kind::kStatus && e.kind != Kind::kLog) {
            wait_for_frames(buffer, ++frames);
        }
    }
    now_ms = 1000;
    view->finish(false);
    EXPECT_EQ(screen(buffer.text()), kFinalScreen);
}

TEST(TtyProgress, ShowsOnlyTheNewestStepsThatFitWhileRunning) {
    SharedBuffer buffer;
    std::ostream out(&buffer);
    progress::TtyOptions options;
    options.size = [] { return progress::TerminalSize{60, 4}; };
    options.now = [] { return kBase + 1s; };
    options.color = false;
    options.interval = 1ms;
    auto view = progress::make_tty_view(out, options);
    for (int i = 1; i <= 5; ++i) {
        view->on_event(
            event(Kind::kVertexStarted, i, "v" + std::to_string(i), "step " + std::to_string(i)));
    }
    // The newest frame with all five steps known.
    for (;;) {
        const std::string text = buffer.text();
        if (text.find("(0/5)") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(1ms);
    }
    const std::vector<std::string> live = screen(buffer.text());
    ASSERT_EQ(live.size(), 3U);
    EXPECT_EQ(live[0], "[+] Building 1.0s (0/5)");
    EXPECT_EQ(live[1].substr(0, 12), " => step 4  ");
    EXPECT_EQ(live[2].substr(0, 12), " => step 5  ");
    view->finish(true);
    const std::vector<std::string> final_screen = screen(buffer.text());
    ASSERT_EQ(final_screen.size(), 6U);
    EXPECT_EQ(final_screen[0], "[+] Building 1.0s (0/5) FINISHED");
    EXPECT_EQ(final_screen[1].substr(0, 12), " => step 1  ");
}

TEST(TtyProgress, ShowsARunningStepsLastSixLogLinesThenDropsThem) {
    SharedBuffer buffer;
    std::ostream out(&buffer);
    progress::TtyOptions options;
    options.size = [] { return progress::TerminalSize{40, 24}; };
    options.now = [] { return kBase + 1s; };
    options.color = false;
    options.interval = 1ms;
    auto view = progress::make_tty_view(out, options);
    view->on_event(event(Kind::kVertexStarted, 0, "run", "[2/2] RUN make"));
    for (int i = 1; i <= 8; ++i) {
        view->on_event(with_message(event(Kind::kLog, i, "run", "[2/2] RUN make"),
                                    "line " + std::to_string(i) + " of a log line too wide to show"));
    }
    view->on_event(event(Kind::kVertexStarted, 10, "other", "[1/2] FROM base"));
    // The newest frame with both steps: the running step's last six lines under it, cut to the
    // width less BuildKit's termPad.
    std::vector<std::string> live;
    for (;;) {
        live = screen(buffer.text());
        if (live.size() == 9 && live[8].starts_with(" => [1/2] FROM base")) {
            break;
        }
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(live[0], "[+] Building 1.0s (0/2)");
    EXPECT_TRUE(live[1].starts_with(" => [2/2] RUN make")) << live[1];
    EXPECT_EQ(live[2], " => => # line 3 of a log line too wide");
    EXPECT_EQ(live[7], " => => # line 8 of a log line too wide");

    view->on_event(event(Kind::kVertexCompleted, 20, "run", "[2/2] RUN make"));
    view->on_event(event(Kind::kVertexCompleted, 20, "other", "[1/2] FROM base"));
    view->finish(true);
    const std::vector<std::string> final_screen = screen(buffer.text());
    ASSERT_EQ(final_screen.size(), 3U);
    EXPECT_TRUE(final_screen[1].starts_with(" => [2/2] RUN make")) << final_screen[1];
}

TEST(TtyProgress, ColoursFinishedStepsUnlessDisabled) {
    std::ostringstream out;
    progress::TtyOptions options;
    options.size = [] { return progress::TerminalSize{60, 24}; };
    options.now = [] { return kBase + 1s; };
    options.interval = std::chrono::hours(1);
    auto view = progress::make_tty_view(out, options);
    view->on_event(event(Kind::kVertexStarted, 0, "a", "done step"));
    view->on_event(event(Kind::kVertexCompleted, 100, "a", "done step"));
    view->on_event(with_message(event(Kind::kVertexError, 200, "b", "bad step"), "boom"));
    view->finish(false);
    const std::string text = out.str();
    EXPECT_NE(text.find("\x1b[34m => done step"), std::string::npos);
    EXPECT_NE(text.find("\x1b[31m => ERROR bad step"), std::string::npos);
}

TEST(TtyProgress, HidesStepLinesOnATinyTerminal) {
    std::ostringstream out;
    progress::TtyOptions options;
    options.size = [] { return progress::TerminalSize{20, 24}; };
    options.now = [] { return kBase + 1s; };
    options.color = false;
    options.interval = std::chrono::hours(1);
    auto view = progress::make_tty_view(out, options);
    view->on_event(event(Kind::kVertexStarted, 0, "a", "a step"));
    view->finish(true);
    EXPECT_EQ(screen(out.str()), std::vector<std::string>{"[+] Building 1.0s (0"});
}

TEST(ProgressView, CreatesTheViewOfEachMode) {
    const ProgressEvent started = event(Kind::kVertexStarted, 0, "v", "step");
    {
        std::ostringstream out;
        auto view = ProgressView::create("auto", out, false);
        view->on_event(started);
        view->finish(true);
        EXPECT_EQ(out.str(), "#1 step\n");
    }
    {
        std::ostringstream out;
        auto view = ProgressView::create("rawjson", out, true);
        view->on_event(started);
        view->finish(true);
        EXPECT_EQ(out.str().substr(0, 14), "{\"vertexes\":[{");
    }
    {
        std::ostringstream out;
        auto view = ProgressView::create("quiet", out, true);
        view->on_event(started);
        view->finish(true);
        EXPECT_EQ(out.str(), "");
    }
    {
        std::ostringstream out;
        auto view = ProgressView::create("tty", out, false);
        view->on_event(started);
        view->finish(true);
        EXPECT_EQ(screen(out.str()).at(0).substr(0, 4), "[+] ");
    }
}

TEST(ProgressView, AutoModeFollowsBuildkitProgress) {
    const ProgressEvent started = event(Kind::kVertexStarted, 0, "v", "step");
    ASSERT_EQ(setenv("BUILDKIT_PROGRESS", "rawjson", 1), 0);
    std::ostringstream out;
    {
        auto view = ProgressView::create("auto", out, true);
        view->on_event(started);
        view->finish(true);
    }
    ASSERT_EQ(setenv("BUILDKIT_PROGRESS", "bogus", 1), 0);
    EXPECT_THROW(ProgressView::create("auto", out, true), xarch::Error);
    unsetenv("BUILDKIT_PROGRESS");
    EXPECT_EQ(out.str().substr(0, 14), "{\"vertexes\":[{");
}

TEST(ProgressView, ShowsAFailureWithoutMessageAsFailed) {
    std::ostringstream out;
    auto view = progress::make_plain_view(out);
    view->on_event(event(Kind::kVertexStarted, 0, "v", "step"));
    view->on_event(event(Kind::kVertexError, 10, "v", "step"));
    view->finish(false);
    const std::vector<std::string> expected = {"#1 step", "#1 ERROR: failed", "------",
                                               " > step:", "------"};
    EXPECT_EQ(lines_of(out.str()), expected);
}

TEST(ProgressView, RejectsAnUnknownModeListingTheValidOnes) {
    std::ostringstream out;
    try {
        ProgressView::create("fancy", out, true);
        FAIL() << "no exception";
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument);
        EXPECT_STREQ(
            e.what(),
            "invalid progress mode \"fancy\": use one of auto, tty, plain, rawjson, quiet");
    }
}

}  // namespace
