// SPDX-License-Identifier: Apache-2.0
// JobGroup: a bounded pool of threads per group, a queue, and first-failure cancellation.
#include "solver/job_group.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <utility>

namespace xarch::solver {

JobGroup::JobGroup(CancelToken token, unsigned limit)
    : token_(std::move(token)), limit_(std::max(limit, 1U)) {}

JobGroup::~JobGroup() {
    try {
        wait();
    } catch (...) {
        // No exception crosses a destructor; a caller that cares calls wait() itself.
    }
}

void JobGroup::run(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    // A thread more when the idle ones cannot take every queued task, this one included.
    // Started before the task is queued: when starting fails, nothing was accepted.
    if (queue_.size() + 1 > idle_ && threads_.size() < limit_) {
        threads_.emplace_back([this] { work(); });
        ++idle_;
    }
    queue_.push_back(std::move(task));
    changed_.notify_one();
}

void JobGroup::wait() {
    std::exception_ptr error;
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
        error = failure_ ? failure_ : cancellation_;
        failure_ = nullptr;
        cancellation_ = nullptr;
    }
    join_all();
    if (error) {
        std::rethrow_exception(error);
    }
}

void JobGroup::join_all() noexcept {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
        threads.swap(threads_);
        changed_.notify_all();
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    std::lock_guard lock(mutex_);
    closing_ = false;
    idle_ = 0;
}

void JobGroup::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [this] { return !queue_.empty() || closing_; });
        if (queue_.empty()) {
            return;
        }
        std::function<void()> task = std::move(queue_.front());
        queue_.pop_front();
        --idle_;
        ++running_;
        lock.unlock();
        std::exception_ptr error;
        if (token_.cancelled()) {
            // Dropped unrun: the caller must not take the group's work for done.
            error = std::make_exception_ptr(Error(ErrorCode::kCancelled, "build cancelled"));
        } else {
            try {
                task();
            } catch (...) {
                error = std::current_exception();
            }
        }
        task = nullptr;
        if (error) {
            record_failure(error);
        }
        lock.lock();
        --running_;
        ++idle_;
        changed_.notify_all();
    }
}

void JobGroup::record_failure(std::exception_ptr error) {
    const bool cancellation = is_cancellation(error);
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        if (cancellation) {
            if (!cancellation_) {
                cancellation_ = std::move(error);
            }
        } else if (!failure_) {
            failure_ = std::move(error);
            first = true;
        }
    }
    if (first) {
        // Outside the lock: cancel callbacks may block (aborting a transfer) or call run().
        token_.cancel();
    }
}

}  // namespace xarch::solver
