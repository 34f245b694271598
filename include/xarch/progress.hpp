// SPDX-License-Identifier: Apache-2.0
// Build progress as one stream of events, shaped like BuildKit's SolveStatus (vertexes, their
// statuses and logs), so that every surface — the CLI's tty/plain/rawjson views, the C ABI,
// Python — draws the same build from the same events.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace xarch {

struct ProgressEvent {
    enum class Kind {
        kVertexStarted = 1,    // a step began work
        kVertexCached = 2,     // a step's result came from the cache (no start before it)
        kVertexCompleted = 3,  // a step finished
        kVertexError = 4,      // a step failed; `message` says why
        kStatus = 5,   // bytes moved for one item of a step (a blob pushed, a layer written)
        kLog = 6,      // a line of output of a step
        kWarning = 7,  // a build warning (not tied to a step when `vertex` is empty)
    };
    Kind kind = Kind::kVertexStarted;
    // Stable id of the step: its cache key ("sha256:..."), or a fixed name for the build's own
    // steps ("internal:load-dockerfile", "export:image"). Several events share one vertex.
    std::string vertex;
    // What buildx prints for the step: "[linux/arm64 2/3] COPY . /app",
    // "[internal] load build definition from Dockerfile", "exporting to image".
    std::string name;
    std::chrono::system_clock::time_point time;
    // kStatus: what is being moved ("sha256:3f2a...", "pushing layers"); kLog/kVertexError/
    // kWarning: the text.
    std::string id;
    std::string message;
    std::int64_t current = 0;  // kStatus: bytes (or items) done
    std::int64_t total = 0;    // kStatus: 0 when unknown
    bool completed = false;    // kStatus: this item is finished
};

/// Called on library threads, never concurrently for one build, in the order events happen.
/// It must not throw; it should return quickly (the build waits for it).
using ProgressCallback = std::function<void(const ProgressEvent&)>;

}  // namespace xarch
