// SPDX-License-Identifier: Apache-2.0
// ProgressReporter: builds ProgressEvents and delivers them to the callback one at a time.
#include "util/progress_reporter.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace xarch::util {

using Kind = ProgressEvent::Kind;

ProgressReporter::ProgressReporter(ProgressCallback callback) : callback_(std::move(callback)) {}

bool ProgressReporter::enabled() const noexcept {
    return static_cast<bool>(callback_);
}

void ProgressReporter::emit(Kind kind,
                            std::string_view vertex,
                            std::string_view name,
                            std::string_view id,
                            std::string_view message,
                            std::int64_t current,
                            std::int64_t total,
                            bool completed) noexcept {
    if (!callback_) {
        return;
    }
    try {
        ProgressEvent event;
        event.kind = kind;
        event.vertex = std::string(vertex);
        event.name = std::string(name);
        event.id = std::string(id);
        event.message = std::string(message);
        event.current = current;
        event.total = total;
        event.completed = completed;
        std::lock_guard lock(mutex_);
        // Stamped under the lock so that the callback sees times in delivery order.
        event.time = std::chrono::system_clock::now();
        callback_(event);
    } catch (...) {
        // Progress is advisory: a failing view must not fail the build.
    }
}

void ProgressReporter::started(std::string_view vertex, std::string_view name) {
    emit(Kind::kVertexStarted, vertex, name);
}

void ProgressReporter::cached(std::string_view vertex, std::string_view name) {
    emit(Kind::kVertexCached, vertex, name);
}

void ProgressReporter::completed(std::string_view vertex, std::string_view name) {
    emit(Kind::kVertexCompleted, vertex, name);
}

void ProgressReporter::failed(std::string_view vertex,
                              std::string_view name,
                              std::string_view message) {
    emit(Kind::kVertexError, vertex, name, {}, message);
}

void ProgressReporter::status(std::string_view vertex,
                              std::string_view name,
                              std::string_view id,
                              std::int64_t current,
                              std::int64_t total,
                              bool completed) {
    emit(Kind::kStatus, vertex, name, id, {}, current, total, completed);
}

void ProgressReporter::log(std::string_view vertex, std::string_view name, std::string_view line) {
    emit(Kind::kLog, vertex, name, {}, line);
}

void ProgressReporter::warning(std::string_view message, std::string_view vertex) {
    emit(Kind::kWarning, vertex, {}, {}, message);
}

}  // namespace xarch::util
