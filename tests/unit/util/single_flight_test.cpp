// SPDX-License-Identifier: Apache-2.0
// SingleFlight: callers asking at once share one computation; nothing is kept after it.
#include "util/single_flight.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace xarch::util {
namespace {

TEST(SingleFlight, ConcurrentCallersShareOneComputation) {
    SingleFlight<int> flight;
    std::atomic<int> computed{0};
    std::atomic<bool> release{false};
    std::vector<std::thread> threads;
    std::vector<int> results(4, 0);
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            results[i] = flight.run("k", [&] {
                ++computed;
                while (!release) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
                return 42;
            });
        });
    }
    // Let every thread reach run() while the first computation is still going.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release = true;
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(computed, 1);
    EXPECT_EQ(results, (std::vector<int>{42, 42, 42, 42}));
}

TEST(SingleFlight, NothingIsKeptAfterwardsNeitherValueNorFailure) {
    SingleFlight<int> flight;
    int calls = 0;
    EXPECT_THROW(flight.run("k",
                            [&]() -> int {
                                ++calls;
                                throw std::runtime_error("first fails");
                            }),
                 std::runtime_error);
    EXPECT_EQ(flight.run("k", [&] { return ++calls; }), 2);
    EXPECT_EQ(flight.run("k", [&] { return ++calls; }), 3);
    EXPECT_EQ(flight.run("other", [&] { return 7; }), 7);
}

}  // namespace
}  // namespace xarch::util
