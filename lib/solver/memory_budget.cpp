// SPDX-License-Identifier: Apache-2.0
// MemoryBudget: a byte counter with first-come-first-served waiting and cancellation.
#include "solver/memory_budget.hpp"

#include <xarch/error.hpp>

#include <string>
#include <utility>

namespace xarch::solver {

MemoryBudget::Lease::Lease(MemoryBudget* budget, std::int64_t bytes) noexcept
    : budget_(budget), bytes_(bytes) {}

MemoryBudget::Lease::Lease(Lease&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

MemoryBudget::Lease& MemoryBudget::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        budget_ = std::exchange(other.budget_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
}

MemoryBudget::Lease::~Lease() {
    release();
}

void MemoryBudget::Lease::release() noexcept {
    if (budget_ != nullptr) {
        std::exchange(budget_, nullptr)->give_back(std::exchange(bytes_, 0));
    }
}

MemoryBudget::MemoryBudget(std::int64_t bytes) : capacity_(bytes) {
    if (bytes <= 0) {
        throw Error(ErrorCode::kInvalidArgument,
                    "memory budget must be positive, got " + std::to_string(bytes) + " bytes");
    }
}

MemoryBudget::Lease MemoryBudget::acquire(std::int64_t bytes, const CancelToken& token) {
    if (bytes < 0) {
        throw Error(ErrorCode::kInvalidArgument,
                    "memory request must not be negative, got " + std::to_string(bytes) + " bytes");
    }
    token.throw_if_cancelled();
    if (bytes == 0) {
        return Lease();
    }
    // Wakes the wait below on cancel; taking the mutex orders the notify after the wait began.
    const CancelToken::Registration wake = token.on_cancel([this] {
        { std::lock_guard lock(mutex_); }
        changed_.notify_all();
    });
    std::unique_lock lock(mutex_);
    const std::uint64_t ticket = next_ticket_++;
    waiting_.insert(ticket);
    changed_.wait(lock, [&] {
        if (token.cancelled()) {
            return true;
        }
        const bool first = *waiting_.begin() == ticket;
        return first && (in_use_ + bytes <= capacity_ || in_use_ == 0);
    });
    waiting_.erase(ticket);
    // The next in line may fit too (or may be first now that this one leaves).
    changed_.notify_all();
    if (token.cancelled()) {
        lock.unlock();
        token.throw_if_cancelled();
    }
    in_use_ += bytes;
    return Lease(this, bytes);
}

std::int64_t MemoryBudget::in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
}

void MemoryBudget::give_back(std::int64_t bytes) noexcept {
    {
        std::lock_guard lock(mutex_);
        in_use_ -= bytes;
    }
    changed_.notify_all();
}

}  // namespace xarch::solver
