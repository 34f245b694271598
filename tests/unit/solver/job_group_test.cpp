// SPDX-License-Identifier: Apache-2.0
#include "solver/job_group.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using xarch::Error;
using xarch::ErrorCode;
using xarch::solver::CancelToken;
using xarch::solver::JobGroup;

// Raises `high` to `value` when it is higher.
void raise(std::atomic<int>& high, int value) {
    int seen = high.load();
    while (value > seen && !high.compare_exchange_weak(seen, value)) {
    }
}

// The code and message wait() threw, or "none".
std::string failure_of(JobGroup& group) {
    try {
        group.wait();
        return "none";
    } catch (const Error& e) {
        return std::string(xarch::to_string(e.code())) + ": " + e.what();
    }
}

TEST(JobGroup, RunsEveryTaskOnAtMostLimitThreads) {
    constexpr unsigned kLimit = 3;
    std::atomic<int> done{0};
    std::atomic<int> running{0};
    std::atomic<int> most_running{0};
    std::mutex mutex;
    std::set<std::thread::id> threads;
    JobGroup group(CancelToken(), kLimit);
    for (int i = 0; i < 200; ++i) {
        group.run([&] {
            raise(most_running, running.fetch_add(1) + 1);
            {
                std::lock_guard lock(mutex);
                threads.insert(std::this_thread::get_id());
            }
            std::this_thread::yield();
            running.fetch_sub(1);
            done.fetch_add(1);
        });
    }
    group.wait();
    EXPECT_EQ(done.load(), 200);
    EXPECT_LE(most_running.load(), static_cast<int>(kLimit));
    EXPECT_GE(most_running.load(), 1);
    EXPECT_LE(threads.size(), kLimit);
}

TEST(JobGroup, RunsUpToLimitTasksAtOnce) {
    constexpr int kLimit = 4;
    // Every task waits for all of them: this returns only if all four run together.
    std::latch together(kLimit);
    std::atomic<int> done{0};
    JobGroup group(CancelToken(), kLimit);
    for (int i = 0; i < kLimit; ++i) {
        group.run([&] {
            together.arrive_and_wait();
            done.fetch_add(1);
        });
    }
    group.wait();
    EXPECT_EQ(done.load(), kLimit);
}

TEST(JobGroup, ZeroLimitStillRuns) {
    std::atomic<int> done{0};
    JobGroup group(CancelToken(), 0);
    group.run([&] { done.fetch_add(1); });
    group.run([&] { done.fetch_add(1); });
    group.wait();
    EXPECT_EQ(done.load(), 2);
}

TEST(JobGroup, TasksMayAddTasks) {
    std::atomic<int> done{0};
    JobGroup group(CancelToken(), 2);
    for (int i = 0; i < 10; ++i) {
        group.run([&] {
            for (int j = 0; j < 10; ++j) {
                group.run([&] { done.fetch_add(1); });
            }
            done.fetch_add(1);
        });
    }
    group.wait();
    EXPECT_EQ(done.load(), 110);
}

TEST(JobGroup, CanBeReusedAfterWait) {
    std::atomic<int> done{0};
    JobGroup group(CancelToken(), 2);
    group.run([&] { done.fetch_add(1); });
    EXPECT_EQ(failure_of(group), "none");
    group.run([&] { done.fetch_add(1); });
    group.run([&] { done.fetch_add(1); });
    EXPECT_EQ(failure_of(group), "none");
    EXPECT_EQ(done.load(), 3);
    group.run([] { throw Error(ErrorCode::kIo, "disk full"); });
    EXPECT_EQ(failure_of(group), "io: disk full");
    // The failure cancelled the group's token: later tasks are dropped.
    group.run([&] { done.fetch_add(1); });
    EXPECT_EQ(failure_of(group), "cancelled: build cancelled");
    EXPECT_EQ(done.load(), 3);
}

TEST(JobGroup, DestructorWaitsForTasks) {
    std::atomic<int> done{0};
    {
        JobGroup group(CancelToken(), 4);
        for (int i = 0; i < 50; ++i) {
            group.run([&] {
                std::this_thread::yield();
                done.fetch_add(1);
            });
        }
    }
    EXPECT_EQ(done.load(), 50);
}

TEST(JobGroup, DestructorDropsAFailureNobodyWaitedFor) {
    std::atomic<int> done{0};
    EXPECT_NO_THROW({
        JobGroup group(CancelToken(), 1);
        group.run([] { throw Error(ErrorCode::kIo, "dropped by the destructor"); });
        group.run([&] { done.fetch_add(1); });
    });
    // One thread, tasks in order: the failure cancelled the token before the second was taken.
    EXPECT_EQ(done.load(), 0);
}

TEST(JobGroup, FirstFailureCancelsTheTokenAndWins) {
    const CancelToken token;
    JobGroup group(token, 4);
    std::promise<void> cancelled;
    auto registration = token.on_cancel([&] { cancelled.set_value(); });
    std::shared_future<void> cancelled_future = cancelled.get_future().share();
    // Fails only after the first failure cancelled the token: it must not win.
    group.run([cancelled_future] {
        cancelled_future.wait();
        throw Error(ErrorCode::kInternal, "second");
    });
    // Sees the cancel and stops like a well-behaved step.
    group.run([cancelled_future, token] {
        cancelled_future.wait();
        token.throw_if_cancelled();
    });
    group.run([] { throw Error(ErrorCode::kNotFound, "first"); });
    EXPECT_EQ(failure_of(group), "not_found: first");
    EXPECT_TRUE(token.cancelled());
}

TEST(JobGroup, CancelDropsQueuedTasks) {
    const CancelToken token;
    std::atomic<int> started{0};
    std::promise<void> first_running;
    JobGroup group(token, 1);
    group.run([&] {
        started.fetch_add(1);
        first_running.set_value();
        while (!token.cancelled()) {
            std::this_thread::yield();
        }
    });
    for (int i = 0; i < 20; ++i) {
        group.run([&] { started.fetch_add(1); });
    }
    first_running.get_future().wait();
    token.cancel();
    EXPECT_EQ(failure_of(group), "cancelled: build cancelled");
    EXPECT_EQ(started.load(), 1);
}

TEST(JobGroup, OnlyCancellationsRethrowCancelled) {
    const CancelToken token;
    JobGroup group(token, 2);
    for (int i = 0; i < 4; ++i) {
        group.run([] { throw Error(ErrorCode::kCancelled, "step cancelled"); });
    }
    EXPECT_EQ(failure_of(group), "cancelled: step cancelled");
    // A cancellation is not a failure that cancels the others.
    EXPECT_FALSE(token.cancelled());
}

TEST(JobGroup, ANonErrorExceptionIsAFailureToo) {
    const CancelToken token;
    JobGroup group(token, 2);
    group.run([] { throw std::runtime_error("plain"); });
    EXPECT_THROW(group.wait(), std::runtime_error);
    EXPECT_TRUE(token.cancelled());
}

TEST(JobGroup, ChildTokenFailureLeavesTheParent) {
    const CancelToken parent;
    JobGroup group(parent.child(), 2);
    group.run([] { throw Error(ErrorCode::kIo, "x"); });
    EXPECT_EQ(failure_of(group), "io: x");
    EXPECT_FALSE(parent.cancelled());
}

}  // namespace
