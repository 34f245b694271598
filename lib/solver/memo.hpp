// SPDX-License-Identifier: Apache-2.0
// Memo: computes a value once per key across threads, so that a base image, a step or a layer
// shared by several platforms or stages is resolved and built once per build.
#pragma once

#include "solver/cancel.hpp"

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace xarch::solver {

// Computes a value once per key; concurrent and later callers with the same key get the same
// value or the same exception. The first caller runs `compute` on its own thread, without any
// lock held, so computations may call get() for other keys (not for their own key: that waits
// forever). A computation that fails with kCancelled is forgotten: the next caller — and every
// caller that was waiting for it — computes again, so a cancelled build does not poison a
// memo shared with builds that go on.
template <typename Value>
class Memo {
public:
    Value get(const std::string& key, const std::function<Value()>& compute) {
        for (;;) {
            std::promise<Value> promise;
            std::shared_future<Value> future;
            bool owner = false;
            {
                std::lock_guard lock(mutex_);
                auto it = entries_.find(key);
                if (it == entries_.end()) {
                    future = promise.get_future().share();
                    entries_.emplace(key, future);
                    owner = true;
                } else {
                    future = it->second;
                }
            }
            if (owner) {
                return run(key, compute, promise, future);
            }
            future.wait();
            if (!failed_with_cancellation(future)) {
                return future.get();
            }
            // Someone else's computation was cancelled (and forgotten): try again.
        }
    }

    // The value of `key` when it has been computed successfully; nullopt otherwise (absent,
    // still computing, or failed).
    std::optional<Value> peek(const std::string& key) const {
        std::shared_future<Value> future;
        {
            std::lock_guard lock(mutex_);
            auto it = entries_.find(key);
            if (it == entries_.end()) {
                return std::nullopt;
            }
            future = it->second;
        }
        if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            return std::nullopt;
        }
        try {
            return future.get();
        } catch (...) {
            return std::nullopt;
        }
    }

private:
    Value run(const std::string& key,
              const std::function<Value()>& compute,
              std::promise<Value>& promise,
              const std::shared_future<Value>& future) {
        try {
            promise.set_value(compute());
        } catch (...) {
            std::exception_ptr error = std::current_exception();
            if (is_cancellation(error)) {
                // Forgotten before waiters wake up, so that a retrying waiter does not find it.
                std::lock_guard lock(mutex_);
                entries_.erase(key);
            }
            promise.set_exception(error);
        }
        return future.get();
    }

    static bool failed_with_cancellation(const std::shared_future<Value>& future) {
        try {
            future.get();
            return false;
        } catch (...) {
            return is_cancellation(std::current_exception());
        }
    }

    mutable std::mutex mutex_;
    std::map<std::string, std::shared_future<Value>> entries_;
};

}  // namespace xarch::solver
