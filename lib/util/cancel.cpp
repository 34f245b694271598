// SPDX-License-Identifier: Apache-2.0
// CancelToken: shared state, callbacks run once on cancel, child tokens.
#include "util/cancel.hpp"

#include <xarch/error.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace xarch::util {

struct CancelToken::State {
    std::mutex mutex;
    std::condition_variable callback_returned;
    std::atomic<bool> cancelled{false};
    std::map<std::uint64_t, std::function<void()>> callbacks;
    std::uint64_t next_id = 1;
    // The callback cancel() is running now (0: none) and the thread running it, so that a
    // Registration destroyed meanwhile waits for it — unless it is that thread.
    std::uint64_t running_id = 0;
    std::thread::id running_thread;
    // A child's link to its parent: dropped with the child so parents do not collect dead
    // children.
    Registration parent;

    void cancel() {
        std::unique_lock lock(mutex);
        if (cancelled.exchange(true)) {
            return;
        }
        while (!callbacks.empty()) {
            auto it = callbacks.begin();
            const std::uint64_t id = it->first;
            std::function<void()> callback = std::move(it->second);
            callbacks.erase(it);
            running_id = id;
            running_thread = std::this_thread::get_id();
            lock.unlock();
            try {
                callback();
            } catch (...) {
                // Documented: a throwing callback must not stop the others from running.
            }
            // Destroyed unlocked: its captures may own other tokens.
            callback = nullptr;
            lock.lock();
            running_id = 0;
            callback_returned.notify_all();
        }
    }
};

CancelToken::Registration::Registration(std::weak_ptr<State> state, std::uint64_t id) noexcept
    : state_(std::move(state)), id_(id) {}

CancelToken::Registration::Registration(Registration&& other) noexcept
    : state_(std::move(other.state_)), id_(std::exchange(other.id_, 0)) {}

CancelToken::Registration& CancelToken::Registration::operator=(Registration&& other) noexcept {
    if (this != &other) {
        reset();
        state_ = std::move(other.state_);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

CancelToken::Registration::~Registration() {
    reset();
}

void CancelToken::Registration::reset() noexcept {
    const std::uint64_t id = std::exchange(id_, 0);
    const std::shared_ptr<State> state = state_.lock();
    state_.reset();
    if (id == 0 || !state) {
        return;
    }
    std::unique_lock lock(state->mutex);
    if (state->callbacks.erase(id) != 0) {
        return;
    }
    if (state->running_id == id && state->running_thread != std::this_thread::get_id()) {
        state->callback_returned.wait(lock, [&] { return state->running_id != id; });
    }
}

CancelToken::CancelToken() : state_(std::make_shared<State>()) {}

void CancelToken::cancel() const {
    state_->cancel();
}

bool CancelToken::cancelled() const noexcept {
    return state_->cancelled.load(std::memory_order_acquire);
}

void CancelToken::throw_if_cancelled() const {
    if (cancelled()) {
        throw Error(ErrorCode::kCancelled, "build cancelled");
    }
}

CancelToken CancelToken::child() const {
    CancelToken child;
    // Weak: the parent must not keep its children alive.
    std::weak_ptr<State> weak = child.state_;
    child.state_->parent = on_cancel([weak] {
        if (const std::shared_ptr<State> state = weak.lock()) {
            state->cancel();
        }
    });
    return child;
}

CancelToken::Registration CancelToken::on_cancel(std::function<void()> callback) const {
    {
        std::lock_guard lock(state_->mutex);
        if (!state_->cancelled.load(std::memory_order_relaxed)) {
            const std::uint64_t id = state_->next_id++;
            state_->callbacks.emplace(id, std::move(callback));
            return Registration(state_, id);
        }
    }
    try {
        callback();
    } catch (...) {
        // Same contract as when cancel() runs it.
    }
    return Registration();
}

std::function<bool()> CancelToken::predicate() const {
    return [state = state_] { return state->cancelled.load(std::memory_order_acquire); };
}

bool is_cancellation(const std::exception_ptr& error) noexcept {
    if (!error) {
        return false;
    }
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        return e.code() == ErrorCode::kCancelled;
    } catch (...) {
        return false;
    }
}

}  // namespace xarch::util
