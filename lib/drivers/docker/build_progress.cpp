// SPDX-License-Identifier: Apache-2.0
// BuildProgress: the classic builder's answer stream read line by line into step vertexes.
#include "drivers/docker/build_progress.hpp"

#include "engine/client.hpp"

#include <xarch/error.hpp>

#include <boost/json/value.hpp>

#include <charconv>
#include <optional>
#include <utility>

namespace xarch::drivers::docker {
namespace {

// Upload progress is reported every this many bytes (and at the end).
constexpr std::int64_t kContextReportBytes = 1 << 20;

struct StepLine {
    int number = 0;
    int total = 0;
    std::string text;
};

std::optional<int> parse_int(std::string_view text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
        return std::nullopt;
    }
    return value;
}

// "Step 2/3 : RUN echo hi" (the classic builder's dispatch header).
std::optional<StepLine> parse_step_line(std::string_view line) {
    constexpr std::string_view kPrefix = "Step ";
    constexpr std::string_view kSeparator = " : ";
    if (!line.starts_with(kPrefix)) {
        return std::nullopt;
    }
    line.remove_prefix(kPrefix.size());
    const std::size_t separator = line.find(kSeparator);
    const std::size_t slash = line.find('/');
    if (separator == std::string_view::npos || slash == std::string_view::npos ||
        slash > separator) {
        return std::nullopt;
    }
    const std::optional<int> number = parse_int(line.substr(0, slash));
    const std::optional<int> total = parse_int(line.substr(slash + 1, separator - slash - 1));
    if (!number || !total) {
        return std::nullopt;
    }
    return StepLine{*number, *total, std::string(line.substr(separator + kSeparator.size()))};
}

bool is_hex(std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The exit code in the engine's "The command '...' returned a non-zero code: 3"; -1 without one.
int engine_exit_code(std::string_view text) {
    constexpr std::string_view kMarker = "returned a non-zero code: ";
    const std::size_t at = text.rfind(kMarker);
    if (at == std::string_view::npos) {
        return -1;
    }
    const std::string_view digits = text.substr(at + kMarker.size());
    int code = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
    return ec == std::errc() ? code : -1;
}

}  // namespace

BuildProgress::BuildProgress(std::string node, const Platform& platform, ProgressCallback callback)
    : node_(std::move(node)),
      platform_(platform.to_string()),
      who_(node_.empty() ? platform_ : "node \"" + node_ + "\" (" + platform_ + ")"),
      vertex_prefix_("docker:" + node_ + ":" + platform_ + ":"),
      reporter_(std::move(callback)),
      context_vertex_(vertex_prefix_ + "context"),
      context_name_("[" + platform_ + "] load build context") {}

void BuildProgress::context_sent(std::int64_t bytes, bool done) {
    if (context_done_) {
        return;
    }
    if (!context_started_) {
        context_started_ = true;
        reporter_.started(context_vertex_, context_name_);
    }
    if (done || context_reported_ < 0 || bytes - context_reported_ >= kContextReportBytes) {
        context_reported_ = bytes;
        reporter_.status(context_vertex_, context_name_, "transferring context", bytes, 0, done);
    }
    if (done) {
        close_context();
    }
}

void BuildProgress::close_context() {
    if (context_started_ && !context_done_) {
        reporter_.completed(context_vertex_, context_name_);
    }
    context_done_ = true;
}

void BuildProgress::on_message(const boost::json::object& message) {
    // The engine answers once it has the whole context.
    close_context();
    if (message.contains("error") || message.contains("errorDetail")) {
        flush_partial_line();
        fail(engine::message_error(message));
        return;
    }
    if (const auto stream = message.find("stream");
        stream != message.end() && stream->value().is_string()) {
        const boost::json::string& text = stream->value().get_string();
        for (const std::string& line : lines_.feed({text.data(), text.size()})) {
            handle_line(line);
        }
        return;
    }
    flush_partial_line();
    if (message.contains("status")) {
        touch_step();
        const std::string line = statuses_.report(reporter_, have_step_ ? step_.vertex : "",
                                                  have_step_ ? step_.name : "", message);
        if (!line.empty() && have_step_) {
            last_lines_.push_back(line);
            while (last_lines_.size() > kFailureLines) {
                last_lines_.pop_front();
            }
        }
        return;
    }
    if (const auto aux = message.find("aux"); aux != message.end() && aux->value().is_object()) {
        const std::string_view id = string_field(aux->value().get_object(), "ID");
        if (!id.empty()) {
            image_id_ = std::string(id);
        }
    }
}

void BuildProgress::flush_partial_line() {
    std::string line;
    if (lines_.flush(line)) {
        handle_line(line);
    }
}

void BuildProgress::handle_line(const std::string& line) {
    if (std::optional<StepLine> step = parse_step_line(line)) {
        begin_step(step->number, step->total, std::move(step->text));
        return;
    }
    constexpr std::string_view kArrow = " ---> ";
    constexpr std::string_view kWarning = "[Warning] ";
    std::string_view rest = line;
    if (rest.starts_with(kArrow)) {
        rest.remove_prefix(kArrow.size());
        if (rest == "Using cache") {
            if (have_step_ && step_.state == StepState::kPending) {
                step_.state = StepState::kCached;
                reporter_.cached(step_.vertex, step_.name);
            }
            return;
        }
        if (rest.starts_with(kWarning)) {
            warn(std::string(rest.substr(kWarning.size())));
            return;
        }
        if (rest.starts_with("Running in ") || is_hex(rest)) {
            touch_step();
            return;
        }
        log(line);
        return;
    }
    if (rest.starts_with(kWarning)) {
        warn(std::string(rest.substr(kWarning.size())));
        return;
    }
    if (rest.starts_with("Removing intermediate container ") ||
        rest.starts_with("Successfully built ") || rest.starts_with("Successfully tagged ")) {
        return;
    }
    log(line);
}

void BuildProgress::begin_step(int number, int total, std::string text) {
    close_step();
    step_ = Step{};
    step_.number = number;
    step_.total = total;
    step_.vertex = vertex_prefix_ + "step:" + std::to_string(number);
    step_.name =
        "[" + platform_ + " " + std::to_string(number) + "/" + std::to_string(total) + "] " + text;
    step_.text = std::move(text);
    step_.state = StepState::kPending;
    have_step_ = true;
    last_lines_.clear();
}

void BuildProgress::touch_step() {
    if (have_step_ && step_.state == StepState::kPending) {
        step_.state = StepState::kStarted;
        reporter_.started(step_.vertex, step_.name);
    }
}

void BuildProgress::close_step() {
    if (!have_step_) {
        return;
    }
    touch_step();
    if (step_.state == StepState::kStarted) {
        reporter_.completed(step_.vertex, step_.name);
    }
    step_.state = StepState::kDone;
}

void BuildProgress::log(const std::string& line) {
    touch_step();
    reporter_.log(have_step_ ? step_.vertex : context_vertex_,
                  have_step_ ? step_.name : context_name_, line);
    last_lines_.push_back(line);
    while (last_lines_.size() > kFailureLines) {
        last_lines_.pop_front();
    }
}

void BuildProgress::warn(const std::string& text) {
    // The engine says this of every RUN of a platform it emulates: the build asked for that
    // platform (its containers are made without one), so it is noise, as buildx shows none.
    const std::string emulated = "The requested image's platform (" + platform_ +
                                 ") does not match the detected host platform";
    if (text.starts_with(emulated)) {
        return;
    }
    if (warned_.insert(text).second) {
        reporter_.warning(text, have_step_ ? step_.vertex : "");
    }
}

void BuildProgress::fail(std::string_view engine_text) {
    if (failed()) {
        return;
    }
    const std::string text = engine_text.empty() ? "the engine reported an error without text"
                                                 : std::string(engine_text);
    if (have_step_ && step_.state != StepState::kDone) {
        touch_step();
        reporter_.failed(step_.vertex, step_.name, text);
        step_.state = StepState::kDone;
        failure_ = who_ + ": step " + std::to_string(step_.number) + "/" +
                   std::to_string(step_.total) + " `" + step_.text + "` failed: " + text;
        for (const std::string& line : last_lines_) {
            failure_ += "\n" + line;
        }
        if (step_.text.starts_with("RUN ")) {
            failed_run_ = BuildError::Step{step_.name,
                                           platform_,
                                           engine_exit_code(text),
                                           {last_lines_.begin(), last_lines_.end()}};
        }
    } else {
        failure_ = who_ + ": " + text;
    }
}

void BuildProgress::abort(std::string_view message) {
    flush_partial_line();
    if (!context_done_ && context_started_) {
        reporter_.failed(context_vertex_, context_name_, message);
        context_done_ = true;
        return;
    }
    if (have_step_ && step_.state != StepState::kDone) {
        touch_step();
        reporter_.failed(step_.vertex, step_.name, message);
        step_.state = StepState::kDone;
    }
}

void BuildProgress::finish() {
    flush_partial_line();
    if (failed_run_) {
        throw BuildError(failure_, *failed_run_);
    }
    if (failed()) {
        throw Error(ErrorCode::kIo, failure_);
    }
    close_context();
    close_step();
    if (image_id_.empty()) {
        throw Error(ErrorCode::kIo,
                    who_ + ": the Docker Engine ended the build without giving an image id");
    }
}

}  // namespace xarch::drivers::docker
