// SPDX-License-Identifier: Apache-2.0
#include "solver/cancel.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using xarch::Error;
using xarch::ErrorCode;
using xarch::solver::CancelToken;
using xarch::solver::is_cancellation;

TEST(CancelToken, StartsUncancelledAndThrowsOnlyOnceCancelled) {
    const CancelToken token;
    EXPECT_FALSE(token.cancelled());
    EXPECT_NO_THROW(token.throw_if_cancelled());
    token.cancel();
    EXPECT_TRUE(token.cancelled());
    try {
        token.throw_if_cancelled();
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCancelled);
        EXPECT_STREQ(e.what(), "build cancelled");
    }
}

TEST(CancelToken, CopiesShareTheState) {
    const CancelToken token;
    const CancelToken copy = token;  // NOLINT(performance-unnecessary-copy-initialization)
    const auto predicate = token.predicate();
    EXPECT_FALSE(predicate());
    copy.cancel();
    EXPECT_TRUE(token.cancelled());
    EXPECT_TRUE(predicate());
}

TEST(CancelToken, RunsCallbacksOnceAlthoughCancelledTwice) {
    const CancelToken token;
    int first = 0;
    int second = 0;
    auto a = token.on_cancel([&] { ++first; });
    auto b = token.on_cancel([&] { ++second; });
    token.cancel();
    token.cancel();
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, 1);
}

TEST(CancelToken, RunsACallbackRegisteredAfterCancelRightAway) {
    const CancelToken token;
    token.cancel();
    int runs = 0;
    auto registration = token.on_cancel([&] { ++runs; });
    EXPECT_EQ(runs, 1);
}

TEST(CancelToken, DoesNotRunAReleasedCallback) {
    const CancelToken token;
    int runs = 0;
    {
        auto registration = token.on_cancel([&] { ++runs; });
    }
    auto kept = token.on_cancel([&] { runs += 10; });
    auto reset = token.on_cancel([&] { runs += 100; });
    reset.reset();
    token.cancel();
    EXPECT_EQ(runs, 10);
}

TEST(CancelToken, MovedRegistrationKeepsTheCallback) {
    const CancelToken token;
    int runs = 0;
    CancelToken::Registration target;
    {
        auto source = token.on_cancel([&] { ++runs; });
        target = std::move(source);
    }
    token.cancel();
    EXPECT_EQ(runs, 1);
}

TEST(CancelToken, AThrowingCallbackDoesNotStopTheOthers) {
    const CancelToken token;
    int runs = 0;
    auto a = token.on_cancel([] { throw Error(ErrorCode::kInternal, "callback failed"); });
    auto b = token.on_cancel([&] { ++runs; });
    EXPECT_NO_THROW(token.cancel());
    EXPECT_EQ(runs, 1);
}

TEST(CancelToken, ACallbackMayReleaseItsOwnRegistration) {
    const CancelToken token;
    int runs = 0;
    CancelToken::Registration registration;
    registration = token.on_cancel([&] {
        ++runs;
        registration.reset();
    });
    token.cancel();
    EXPECT_EQ(runs, 1);
}

TEST(CancelToken, ChildIsCancelledWithItsParentButNotTheOtherWay) {
    const CancelToken parent;
    const CancelToken first = parent.child();
    const CancelToken second = parent.child();
    const CancelToken grandchild = second.child();
    first.cancel();
    EXPECT_TRUE(first.cancelled());
    EXPECT_FALSE(parent.cancelled());
    EXPECT_FALSE(second.cancelled());

    int runs = 0;
    auto registration = grandchild.on_cancel([&] { ++runs; });
    parent.cancel();
    EXPECT_TRUE(second.cancelled());
    EXPECT_TRUE(grandchild.cancelled());
    EXPECT_EQ(runs, 1);
}

TEST(CancelToken, ChildOfACancelledTokenStartsCancelled) {
    const CancelToken parent;
    parent.cancel();
    EXPECT_TRUE(parent.child().cancelled());
}

TEST(CancelToken, ParentOutlivesDroppedChildren) {
    const CancelToken parent;
    for (int i = 0; i < 100; ++i) {
        const CancelToken child = parent.child();
        EXPECT_FALSE(child.cancelled());
    }
    EXPECT_NO_THROW(parent.cancel());
}

TEST(CancelToken, ChildOutlivesItsParent) {
    std::optional<CancelToken> parent(std::in_place);
    const CancelToken child = parent->child();
    parent.reset();
    child.cancel();
    EXPECT_TRUE(child.cancelled());
}

TEST(CancelToken, ConcurrentCancelsRunEachCallbackOnce) {
    constexpr int kThreads = 16;
    constexpr int kCallbacks = 50;
    const CancelToken token;
    const CancelToken child = token.child();
    std::atomic<int> runs{0};
    std::vector<CancelToken::Registration> registrations;
    for (int i = 0; i < kCallbacks; ++i) {
        registrations.push_back(token.on_cancel([&] { runs.fetch_add(1); }));
        registrations.push_back(child.on_cancel([&] { runs.fetch_add(1); }));
    }
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            // Half cancel the parent, half the child: both paths race.
            (i % 2 == 0 ? token : child).cancel();
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(runs.load(), 2 * kCallbacks);
}

TEST(CancelToken, RegistrationsRacingWithCancelRunExactlyOnce) {
    constexpr int kThreads = 8;
    const CancelToken token;
    std::atomic<int> registered{0};
    std::atomic<int> runs{0};
    std::atomic<bool> cancel_returned{false};
    std::latch start(kThreads + 1);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            std::vector<CancelToken::Registration> mine;
            for (int j = 0; j < 100; ++j) {
                mine.push_back(token.on_cancel([&] { runs.fetch_add(1); }));
                registered.fetch_add(1);
            }
            // Kept until cancel() returned, so that every registration must have run.
            while (!cancel_returned.load()) {
                std::this_thread::yield();
            }
        });
    }
    start.arrive_and_wait();
    token.cancel();
    cancel_returned = true;
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(runs.load(), registered.load());
    EXPECT_EQ(registered.load(), kThreads * 100);
}

TEST(CancelToken, ReleasingARegistrationWaitsForItsRunningCallback) {
    const CancelToken token;
    std::promise<void> entered;
    std::promise<void> proceed;
    std::shared_future<void> proceed_future = proceed.get_future().share();
    std::atomic<bool> finished{false};
    auto registration = token.on_cancel([&] {
        entered.set_value();
        proceed_future.wait();
        finished = true;
    });
    std::thread canceller([&] { token.cancel(); });
    entered.get_future().wait();
    std::atomic<bool> finished_when_released{false};
    std::thread releaser([&] {
        registration.reset();
        finished_when_released = finished.load();
    });
    // Gives the releaser time to block in reset(); the assertion holds either way.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    proceed.set_value();
    releaser.join();
    canceller.join();
    EXPECT_TRUE(finished_when_released.load());
}

TEST(CancelToken, IsCancellationRecognizesOnlyKCancelled) {
    EXPECT_FALSE(is_cancellation(nullptr));
    EXPECT_TRUE(is_cancellation(std::make_exception_ptr(Error(ErrorCode::kCancelled, "x"))));
    EXPECT_FALSE(is_cancellation(std::make_exception_ptr(Error(ErrorCode::kIo, "x"))));
    EXPECT_FALSE(is_cancellation(std::make_exception_ptr(std::runtime_error("x"))));
    EXPECT_FALSE(is_cancellation(std::make_exception_ptr(42)));
}

}  // namespace
