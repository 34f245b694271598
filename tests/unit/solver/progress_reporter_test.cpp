// SPDX-License-Identifier: Apache-2.0
#include "util/progress_reporter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Kind = xarch::ProgressEvent::Kind;
using xarch::ProgressEvent;
using xarch::util::ProgressReporter;

TEST(ProgressReporter, WithoutCallbackIsDisabledAndDoesNothing) {
    ProgressReporter reporter;
    EXPECT_FALSE(reporter.enabled());
    EXPECT_NO_THROW(reporter.started("v", "name"));
    EXPECT_NO_THROW(reporter.warning("w"));
}

TEST(ProgressReporter, FillsEachKindOfEvent) {
    std::vector<ProgressEvent> events;
    ProgressReporter reporter([&](const ProgressEvent& event) { events.push_back(event); });
    ASSERT_TRUE(reporter.enabled());
    const auto before = std::chrono::system_clock::now();
    reporter.started("sha256:aa", "[1/2] FROM x");
    reporter.cached("sha256:bb", "[2/2] RUN y");
    reporter.status("export:image", "exporting to image", "sha256:cc", 10, 20, false);
    reporter.log("sha256:aa", "[1/2] FROM x", "hello");
    reporter.failed("sha256:aa", "[1/2] FROM x", "not found");
    reporter.completed("sha256:aa", "[1/2] FROM x");
    reporter.warning("legacy syntax", "sha256:aa");
    reporter.warning("global");
    const auto after = std::chrono::system_clock::now();
    ASSERT_EQ(events.size(), 8U);

    EXPECT_EQ(events[0].kind, Kind::kVertexStarted);
    EXPECT_EQ(events[0].vertex, "sha256:aa");
    EXPECT_EQ(events[0].name, "[1/2] FROM x");
    EXPECT_EQ(events[1].kind, Kind::kVertexCached);
    EXPECT_EQ(events[1].vertex, "sha256:bb");
    EXPECT_EQ(events[2].kind, Kind::kStatus);
    EXPECT_EQ(events[2].id, "sha256:cc");
    EXPECT_EQ(events[2].current, 10);
    EXPECT_EQ(events[2].total, 20);
    EXPECT_FALSE(events[2].completed);
    EXPECT_EQ(events[3].kind, Kind::kLog);
    EXPECT_EQ(events[3].message, "hello");
    EXPECT_EQ(events[4].kind, Kind::kVertexError);
    EXPECT_EQ(events[4].message, "not found");
    EXPECT_EQ(events[5].kind, Kind::kVertexCompleted);
    EXPECT_EQ(events[6].kind, Kind::kWarning);
    EXPECT_EQ(events[6].message, "legacy syntax");
    EXPECT_EQ(events[6].vertex, "sha256:aa");
    EXPECT_EQ(events[7].vertex, "");
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_GE(events[i].time, before);
        EXPECT_LE(events[i].time, after);
        if (i > 0) {
            EXPECT_GE(events[i].time, events[i - 1].time);
        }
    }
}

TEST(ProgressReporter, SwallowsWhatTheCallbackThrows) {
    int calls = 0;
    ProgressReporter reporter([&](const ProgressEvent&) {
        ++calls;
        throw std::runtime_error("view failed");
    });
    EXPECT_NO_THROW(reporter.started("v", "n"));
    EXPECT_NO_THROW(reporter.log("v", "n", "line"));
    EXPECT_EQ(calls, 2);
}

TEST(ProgressReporter, DeliversOneEventAtATimeFromManyThreads) {
    constexpr int kThreads = 8;
    constexpr int kEvents = 300;
    std::atomic<bool> inside{false};
    std::atomic<int> overlaps{0};
    // Written only inside the callback: TSan reports it if calls overlap.
    int delivered = 0;
    std::chrono::system_clock::time_point last{};
    int out_of_order = 0;
    ProgressReporter reporter([&](const ProgressEvent& event) {
        if (inside.exchange(true)) {
            overlaps.fetch_add(1);
        }
        ++delivered;
        if (event.time < last) {
            ++out_of_order;
        }
        last = event.time;
        inside.store(false);
    });
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int i = 0; i < kEvents; ++i) {
                reporter.status("v" + std::to_string(t), "n", "id", i, kEvents, false);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_EQ(delivered, kThreads * kEvents);
    EXPECT_EQ(out_of_order, 0);
}

}  // namespace
