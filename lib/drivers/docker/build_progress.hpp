// SPDX-License-Identifier: Apache-2.0
// The classic builder's answer to POST /build (its "Step N/M : X" lines, pull statuses, output
// lines, aux ID, error) turned into ProgressEvents shaped as the embedded driver's, and the
// build's outcome (image id, or the failure message).
#pragma once

#include "drivers/docker/engine_messages.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/error.hpp>
#include <xarch/platform.hpp>
#include <xarch/progress.hpp>

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace xarch::drivers::docker {

// How many output lines of the failed step a failure message carries (the embedded driver's
// executor::kLastLines).
inline constexpr std::size_t kFailureLines = 10;

// Fed with the messages of one build in order, from one thread. Events:
//   - the context upload: a vertex "[linux/arm64] load build context" with kStatus bytes;
//   - each "Step N/M : X": a vertex "[linux/arm64 N/M] X", id stable per (node, platform, N);
//     started at its first sign of work, or only kVertexCached when the engine answers
//     " ---> Using cache"; completed when the next step starts or the answer ends;
//   - output lines as kLog (colour codes removed), pull statuses as kStatus / kLog, the
//     engine's "[Warning] ..." lines as kWarning (each text once per build);
//   - the engine's bookkeeping lines (" ---> <id>", " ---> Running in", "Removing intermediate
//     container", "Successfully built/tagged") are dropped.
class BuildProgress {
public:
    // `node` names the builder node in vertex ids and messages ("" for a lone engine).
    BuildProgress(std::string node, const Platform& platform, ProgressCallback callback);

    // The context upload moved to `bytes`; `done` at its end.
    void context_sent(std::int64_t bytes, bool done);
    // One message of the answer. An {"error"} emits kVertexError on the current step and
    // records the failure (finish() throws it); nothing here throws.
    void on_message(const boost::json::object& message);
    // The answer ended: completes the open step. Throws Error(kIo) with failure() after an
    // {"error"}, and Error(kIo) when the engine sent no image id.
    void finish();
    // The build ended by an exception (cancelled, connection lost, HTTP error): the open step
    // (or the context upload) gets kVertexError with `message`.
    void abort(std::string_view message);

    // "sha256:..." from the aux message; "" until it came.
    const std::string& image_id() const { return image_id_; }
    bool failed() const { return !failure_.empty(); }
    // "<node> (linux/arm64): step 3/3 `RUN exit 3` failed: <engine text>" followed by the
    // step's last output lines, one per line.
    const std::string& failure() const { return failure_; }
    // "<node> (linux/arm64)", or "linux/arm64" without a node: how messages name this build.
    const std::string& who() const { return who_; }

private:
    enum class StepState { kPending, kStarted, kCached, kDone };
    struct Step {
        int number = 0;
        int total = 0;
        std::string text;  // "RUN echo hi"
        std::string vertex;
        std::string name;  // "[linux/arm64 2/3] RUN echo hi"
        StepState state = StepState::kDone;
    };

    void handle_line(const std::string& line);
    void flush_partial_line();
    void begin_step(int number, int total, std::string text);
    void touch_step();  // the current step shows work: started if still pending
    void close_step();
    void close_context();
    void log(const std::string& line);
    void warn(const std::string& text);
    void fail(std::string_view engine_text);

    std::string node_;
    std::string platform_;
    std::string who_;
    std::string vertex_prefix_;
    util::ProgressReporter reporter_;
    LineSplitter lines_;
    LayerStatuses statuses_;

    std::string context_vertex_;
    std::string context_name_;
    bool context_started_ = false;
    bool context_done_ = false;
    std::int64_t context_reported_ = -1;

    Step step_;
    bool have_step_ = false;
    std::deque<std::string> last_lines_;
    std::optional<BuildError::Step> failed_run_;  // set when the step that failed is a RUN
    std::set<std::string, std::less<>> warned_;
    std::string image_id_;
    std::string failure_;
};

}  // namespace xarch::drivers::docker
