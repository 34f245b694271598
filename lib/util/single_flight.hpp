// SPDX-License-Identifier: Apache-2.0
// SingleFlight: concurrent requests for the same key share one computation, and nothing is kept
// once it ends — for work whose result lives elsewhere (a directory renamed into place, a cache
// map of the caller's own), so that a later request finds that and a failure is tried again.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>

namespace xarch::util {

template <typename Value>
class SingleFlight {
public:
    // Runs `compute` unless a call with `key` is running, in which case it waits for that one and
    // returns its value or rethrows its exception. `compute` runs on the caller's thread with no
    // lock held.
    Value run(const std::string& key, const std::function<Value()>& compute) {
        std::promise<Value> promise;
        std::shared_future<Value> future;
        {
            std::lock_guard lock(mutex_);
            if (auto it = running_.find(key); it != running_.end()) {
                future = it->second;
            } else {
                running_.emplace(key, promise.get_future().share());
            }
        }
        if (future.valid()) {
            return future.get();
        }
        try {
            Value value = compute();
            finish(key);
            promise.set_value(value);
            return value;
        } catch (...) {
            finish(key);
            promise.set_exception(std::current_exception());
            throw;
        }
    }

private:
    void finish(const std::string& key) {
        std::lock_guard lock(mutex_);
        running_.erase(key);
    }

    std::mutex mutex_;
    std::map<std::string, std::shared_future<Value>> running_;
};

}  // namespace xarch::util
