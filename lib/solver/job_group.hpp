// SPDX-License-Identifier: Apache-2.0
// JobGroup: runs a build's parallel work (platforms, transfers) on a bounded set of threads and
// turns the first failure into a cancel of the rest, like Go's errgroup with a limit.
#pragma once

#include "solver/cancel.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace xarch::solver {

// Runs tasks on up to `limit` threads (0 counts as 1), started as tasks arrive and joined by
// wait(). The first failure other than kCancelled cancels `token` and is rethrown by wait()
// after every task has returned; when every failure is kCancelled, the first of them is
// rethrown. Once `token` is cancelled, queued tasks are dropped and count as a kCancelled
// failure. Tasks may call run() on their own group; they must not call wait().
class JobGroup {
public:
    JobGroup(CancelToken token, unsigned limit);
    JobGroup(const JobGroup&) = delete;
    JobGroup& operator=(const JobGroup&) = delete;
    ~JobGroup();  // waits; a failure nobody wait()ed for is dropped

    void run(std::function<void()> task);
    // Blocks until the queue is empty and no task runs; may be called again after more run().
    void wait();

private:
    void work();
    void record_failure(std::exception_ptr error);
    void join_all() noexcept;

    CancelToken token_;
    unsigned limit_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::function<void()>> queue_;
    std::vector<std::thread> threads_;
    unsigned idle_ = 0;
    unsigned running_ = 0;
    bool closing_ = false;
    std::exception_ptr failure_;       // the first failure other than kCancelled
    std::exception_ptr cancellation_;  // the first kCancelled failure
};

}  // namespace xarch::solver
