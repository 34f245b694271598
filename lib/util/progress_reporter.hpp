// SPDX-License-Identifier: Apache-2.0
// ProgressReporter: the one place library code sends build progress through, so that events
// reach the caller's ProgressCallback one at a time, time-stamped, and never throw back.
#pragma once

#include <xarch/progress.hpp>

#include <cstdint>
#include <mutex>
#include <string_view>

namespace xarch::util {

// Serializes events to a ProgressCallback (one mutex), stamps their time; a null callback
// makes every call a no-op. Thread-safe. Never throws (a throwing callback is swallowed).
class ProgressReporter {
public:
    explicit ProgressReporter(ProgressCallback callback = {});

    void started(std::string_view vertex, std::string_view name);
    void cached(std::string_view vertex, std::string_view name);
    void completed(std::string_view vertex, std::string_view name);
    void failed(std::string_view vertex, std::string_view name, std::string_view message);
    void status(std::string_view vertex,
                std::string_view name,
                std::string_view id,
                std::int64_t current,
                std::int64_t total,
                bool completed);
    void log(std::string_view vertex, std::string_view name, std::string_view line);
    void warning(std::string_view message, std::string_view vertex = {});
    bool enabled() const noexcept;

private:
    // Builds the event, stamps it and hands it to the callback under the mutex; swallows what
    // either throws.
    void emit(ProgressEvent::Kind kind,
              std::string_view vertex,
              std::string_view name,
              std::string_view id = {},
              std::string_view message = {},
              std::int64_t current = 0,
              std::int64_t total = 0,
              bool completed = false) noexcept;

    ProgressCallback callback_;
    std::mutex mutex_;
};

}  // namespace xarch::util
