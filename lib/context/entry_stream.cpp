// SPDX-License-Identifier: Apache-2.0
// EntryStream: the walk and its filter on one thread, a bounded queue to the reader.
#include "context/entry_stream.hpp"

#include "context/walk_filter.hpp"

namespace xarch::context {
namespace {

// Thrown inside the walk to end it when the reader has gone away.
struct Stopped {};

}  // namespace

EntryStream::EntryStream(ScanRequest request, std::size_t window)
    : window_(window == 0 ? 1 : window),
      thread_([this, request = std::move(request)] { walk(request); }) {}

EntryStream::~EntryStream() {
    {
        const std::lock_guard lock(mutex_);
        stopped_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void EntryStream::walk(const ScanRequest& request) {
    try {
        const WalkFilter filter(FilterOptions{{}, request.exclude_patterns});
        WalkOptions options;
        options.before_read = request.before_read;
        // The filter throws WalkError for a directory that cannot be read.
        walk_directory(request.root, filter.wrap([&](const WalkEntry& walked, std::error_code) {
            ContextEntry entry = entry_of(request.root, walked);
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return stopped_ || ready_.size() < window_; });
            if (stopped_) {
                throw Stopped{};
            }
            ready_.push_back(std::move(entry));
            changed_.notify_all();
            return WalkAction::kContinue;
        }),
                       options);
    } catch (const Stopped&) {
    } catch (const WalkError& e) {
        const std::lock_guard lock(mutex_);
        error_ = std::make_exception_ptr(context_read_error(e));
    } catch (...) {
        const std::lock_guard lock(mutex_);
        error_ = std::current_exception();
    }
    const std::lock_guard lock(mutex_);
    done_ = true;
    changed_.notify_all();
}

std::optional<ContextEntry> EntryStream::next() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !ready_.empty() || done_; });
    if (!ready_.empty()) {
        ContextEntry entry = std::move(ready_.front());
        ready_.pop_front();
        changed_.notify_all();
        return entry;
    }
    if (error_) {
        std::rethrow_exception(error_);
    }
    return std::nullopt;
}

}  // namespace xarch::context
