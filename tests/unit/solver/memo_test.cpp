// SPDX-License-Identifier: Apache-2.0
#include "solver/memo.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using xarch::Error;
using xarch::ErrorCode;
using xarch::solver::Memo;

// Runs `body(i)` on `count` threads that start together.
template <typename Body>
void on_threads(int count, Body body) {
    std::latch start(count);
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            body(i);
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
}

TEST(Memo, ComputesASharedKeyOnceAcrossThreads) {
    constexpr int kThreads = 32;
    constexpr int kKeys = 4;
    Memo<std::string> memo;
    std::atomic<int> computations[kKeys] = {};
    std::vector<std::string> results(kThreads);
    on_threads(kThreads, [&](int i) {
        const int key = i % kKeys;
        results[i] = memo.get("key" + std::to_string(key), [&] {
            computations[key].fetch_add(1);
            // Long enough for the other threads to arrive while this one computes.
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return "value" + std::to_string(key);
        });
    });
    for (int key = 0; key < kKeys; ++key) {
        EXPECT_EQ(computations[key].load(), 1) << "key" << key;
    }
    for (int i = 0; i < kThreads; ++i) {
        EXPECT_EQ(results[i], "value" + std::to_string(i % kKeys));
    }
    int later = 0;
    EXPECT_EQ(memo.get("key1", [&] { return std::to_string(++later); }), "value1");
    EXPECT_EQ(later, 0);
}

TEST(Memo, SharesAFailureWithConcurrentAndLaterCallers) {
    constexpr int kThreads = 16;
    Memo<int> memo;
    std::atomic<int> computations{0};
    std::atomic<int> not_found{0};
    on_threads(kThreads, [&](int) {
        try {
            memo.get("bad", [&]() -> int {
                computations.fetch_add(1);
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                throw Error(ErrorCode::kNotFound, "manifest unknown");
            });
        } catch (const Error& e) {
            if (e.code() == ErrorCode::kNotFound && std::string(e.what()) == "manifest unknown") {
                not_found.fetch_add(1);
            }
        }
    });
    EXPECT_EQ(computations.load(), 1);
    EXPECT_EQ(not_found.load(), kThreads);
    EXPECT_THROW(memo.get("bad", [&] { return computations.fetch_add(1); }), Error);
    EXPECT_EQ(computations.load(), 1);
    EXPECT_EQ(memo.peek("bad"), std::nullopt);
}

TEST(Memo, ForgetsACancelledComputation) {
    Memo<int> memo;
    EXPECT_THROW(
        memo.get("k", []() -> int { throw Error(ErrorCode::kCancelled, "build cancelled"); }),
        Error);
    EXPECT_EQ(memo.peek("k"), std::nullopt);
    int computations = 0;
    EXPECT_EQ(memo.get("k", [&] { return ++computations * 7; }), 7);
    EXPECT_EQ(memo.get("k", [&] { return ++computations * 7; }), 7);
    EXPECT_EQ(computations, 1);
}

TEST(Memo, WaitersOfACancelledComputationComputeAgain) {
    Memo<int> memo;
    std::promise<void> started;
    std::promise<void> proceed;
    std::shared_future<void> proceed_future = proceed.get_future().share();
    std::atomic<bool> owner_cancelled{false};
    std::thread owner([&] {
        try {
            memo.get("k", [&]() -> int {
                started.set_value();
                proceed_future.wait();
                throw Error(ErrorCode::kCancelled, "build cancelled");
            });
        } catch (const Error& e) {
            owner_cancelled = e.code() == ErrorCode::kCancelled;
        }
    });
    started.get_future().wait();
    std::atomic<int> waiter_computations{0};
    std::atomic<int> waiter_value{0};
    std::thread waiter([&] {
        waiter_value = memo.get("k", [&] {
            waiter_computations.fetch_add(1);
            return 42;
        });
    });
    // Lets the waiter block on the owner's computation; the result is the same either way.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    proceed.set_value();
    owner.join();
    waiter.join();
    EXPECT_TRUE(owner_cancelled.load());
    EXPECT_EQ(waiter_value.load(), 42);
    EXPECT_EQ(waiter_computations.load(), 1);
    EXPECT_EQ(memo.peek("k"), 42);
}

TEST(Memo, PeekSeesOnlyFinishedSuccesses) {
    Memo<int> memo;
    EXPECT_EQ(memo.peek("k"), std::nullopt);
    std::promise<void> started;
    std::promise<void> proceed;
    std::shared_future<void> proceed_future = proceed.get_future().share();
    std::thread computing([&] {
        memo.get("k", [&] {
            started.set_value();
            proceed_future.wait();
            return 5;
        });
    });
    started.get_future().wait();
    EXPECT_EQ(memo.peek("k"), std::nullopt);
    proceed.set_value();
    computing.join();
    EXPECT_EQ(memo.peek("k"), 5);
}

TEST(Memo, ComputationsMayUseOtherKeys) {
    Memo<int> memo;
    std::map<std::string, int> computations;
    std::mutex mutex;
    std::function<int(int)> depth = [&](int n) -> int {
        return memo.get("n" + std::to_string(n), [&, n] {
            {
                std::lock_guard lock(mutex);
                ++computations["n" + std::to_string(n)];
            }
            return n == 0 ? 0 : depth(n - 1) + 1;
        });
    };
    on_threads(8, [&](int) { EXPECT_EQ(depth(20), 20); });
    EXPECT_EQ(computations.size(), 21U);
    for (const auto& [key, count] : computations) {
        EXPECT_EQ(count, 1) << key;
    }
}

}  // namespace
