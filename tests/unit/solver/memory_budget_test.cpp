// SPDX-License-Identifier: Apache-2.0
#include "solver/memory_budget.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <latch>
#include <random>
#include <thread>
#include <vector>

namespace {

using xarch::Error;
using xarch::ErrorCode;
using xarch::solver::CancelToken;
using xarch::solver::MemoryBudget;

void raise(std::atomic<std::int64_t>& high, std::int64_t value) {
    std::int64_t seen = high.load();
    while (value > seen && !high.compare_exchange_weak(seen, value)) {
    }
}

TEST(MemoryBudget, NeverGrantsMoreThanTheBudget) {
    constexpr std::int64_t kBudget = 1000;
    constexpr int kThreads = 16;
    MemoryBudget budget(kBudget);
    const CancelToken token;
    // Raised after a grant and lowered before the release, so it never exceeds what is granted.
    std::atomic<std::int64_t> held{0};
    std::atomic<std::int64_t> most_held{0};
    std::atomic<int> oversize_not_alone{0};
    std::atomic<int> grants{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 random(static_cast<unsigned>(t));
            std::uniform_int_distribution<std::int64_t> size(1, 400);
            start.arrive_and_wait();
            for (int i = 0; i < 60; ++i) {
                // Now and then a request larger than the whole budget: it must go alone.
                const bool oversize = i % 20 == 7;
                const std::int64_t bytes = oversize ? 3 * kBudget : size(random);
                MemoryBudget::Lease lease = budget.acquire(bytes, token);
                EXPECT_EQ(lease.bytes(), bytes);
                const std::int64_t now = held.fetch_add(bytes) + bytes;
                if (oversize && now != bytes) {
                    oversize_not_alone.fetch_add(1);
                }
                if (!oversize) {
                    raise(most_held, now);
                }
                grants.fetch_add(1);
                std::this_thread::yield();
                held.fetch_sub(bytes);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(grants.load(), kThreads * 60);
    EXPECT_LE(most_held.load(), kBudget);
    EXPECT_GT(most_held.load(), 0);
    EXPECT_EQ(oversize_not_alone.load(), 0);
    EXPECT_EQ(budget.in_use(), 0);
}

TEST(MemoryBudget, OversizeRequestWaitsForAnEmptyBudget) {
    MemoryBudget budget(100);
    const CancelToken token;
    MemoryBudget::Lease small = budget.acquire(10, token);
    std::promise<std::int64_t> in_use_at_grant;
    std::thread big([&] {
        MemoryBudget::Lease lease = budget.acquire(500, token);
        in_use_at_grant.set_value(budget.in_use());
    });
    // Gives the big request time to wait; the assertion holds either way.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    small.release();
    EXPECT_EQ(in_use_at_grant.get_future().get(), 500);
    big.join();
    EXPECT_EQ(budget.in_use(), 0);
}

TEST(MemoryBudget, CancelWakesAWaitingRequest) {
    MemoryBudget budget(100);
    const CancelToken token;
    MemoryBudget::Lease all = budget.acquire(100, CancelToken());
    std::promise<ErrorCode> failure;
    std::thread waiter([&] {
        try {
            budget.acquire(1, token);
            failure.set_value(ErrorCode::kInternal);
        } catch (const Error& e) {
            failure.set_value(e.code());
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    token.cancel();
    EXPECT_EQ(failure.get_future().get(), ErrorCode::kCancelled);
    waiter.join();
    EXPECT_EQ(budget.in_use(), 100);
    // A cancelled waiter leaves the line: others are served.
    all.release();
    EXPECT_EQ(budget.acquire(100, CancelToken()).bytes(), 100);
}

TEST(MemoryBudget, CancelledTokenIsRefusedAtOnce) {
    MemoryBudget budget(100);
    const CancelToken token;
    token.cancel();
    try {
        budget.acquire(1, token);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCancelled);
    }
    EXPECT_EQ(budget.in_use(), 0);
}

TEST(MemoryBudget, LeasesMoveAndReleaseOnce) {
    MemoryBudget budget(100);
    const CancelToken token;
    MemoryBudget::Lease a = budget.acquire(30, token);
    MemoryBudget::Lease b = std::move(a);
    EXPECT_EQ(a.bytes(), 0);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(budget.in_use(), 30);
    MemoryBudget::Lease c = budget.acquire(20, token);
    c = std::move(b);
    EXPECT_EQ(budget.in_use(), 30);
    c.release();
    c.release();
    EXPECT_EQ(budget.in_use(), 0);
    EXPECT_EQ(budget.acquire(0, token).bytes(), 0);
}

TEST(MemoryBudget, RejectsNonPositiveBudgetsAndNegativeRequests) {
    try {
        MemoryBudget budget(0);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_STREQ(e.what(), "memory budget must be positive, got 0 bytes");
    }
    MemoryBudget budget(10);
    try {
        budget.acquire(-1, CancelToken());
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_STREQ(e.what(), "memory request must not be negative, got -1 bytes");
    }
}

}  // namespace
