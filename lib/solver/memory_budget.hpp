// SPDX-License-Identifier: Apache-2.0
// MemoryBudget: bounds the memory held by in-flight work (compression buffers, blobs read whole)
// so that many parallel layers cannot exhaust the machine.
#pragma once

#include "solver/cancel.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

namespace xarch::solver {

// acquire() blocks until `bytes` fit in what is left (a request larger than the whole budget
// waits for it to be empty, then goes alone). Requests are served in arrival order, so a large
// one is not starved by a stream of small ones. The budget must outlive its leases.
class MemoryBudget {
public:
    // Releases its bytes on destruction (or release()). Move-only.
    class Lease {
    public:
        Lease() = default;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&& other) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();

        std::int64_t bytes() const noexcept { return bytes_; }
        void release() noexcept;

    private:
        friend class MemoryBudget;
        Lease(MemoryBudget* budget, std::int64_t bytes) noexcept;

        MemoryBudget* budget_ = nullptr;
        std::int64_t bytes_ = 0;
    };

    // `bytes` > 0, else Error(kInvalidArgument).
    explicit MemoryBudget(std::int64_t bytes);
    MemoryBudget(const MemoryBudget&) = delete;
    MemoryBudget& operator=(const MemoryBudget&) = delete;

    // Error(kCancelled) when `token` is cancelled before the bytes are granted;
    // Error(kInvalidArgument) for a negative request. 0 bytes is granted at once.
    Lease acquire(std::int64_t bytes, const CancelToken& token);

    std::int64_t capacity() const noexcept { return capacity_; }
    std::int64_t in_use() const;

private:
    void give_back(std::int64_t bytes) noexcept;

    const std::int64_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::int64_t in_use_ = 0;
    // Tickets of the waiting requests; the smallest (the oldest) is served first.
    std::uint64_t next_ticket_ = 0;
    std::set<std::uint64_t> waiting_;
};

}  // namespace xarch::solver
