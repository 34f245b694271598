// SPDX-License-Identifier: Apache-2.0
// CancelToken: how a build is stopped from any thread — work polls cancelled(), and blocking
// calls (a curl transfer, a wait for memory) register a callback that interrupts them.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

namespace xarch::util {

// A copyable handle on shared cancellation state; copies see the same state.
class CancelToken {
    struct State;

public:
    // Unregisters its callback on destruction (or reset()). When the callback is running on
    // another thread at that moment, waits for it to return, so that what the callback touches
    // can be freed right after. Move-only.
    class Registration {
    public:
        Registration() = default;
        Registration(Registration&& other) noexcept;
        Registration& operator=(Registration&& other) noexcept;
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        ~Registration();

        void reset() noexcept;

    private:
        friend class CancelToken;
        Registration(std::weak_ptr<State> state, std::uint64_t id) noexcept;

        std::weak_ptr<State> state_;
        std::uint64_t id_ = 0;
    };

    CancelToken();

    // Idempotent, thread-safe; runs the registered callbacks once, on the calling thread.
    void cancel() const;
    bool cancelled() const noexcept;
    // Error(kCancelled) "build cancelled" once cancelled.
    void throw_if_cancelled() const;
    // A child token cancelled with its parent (or on its own, without touching the parent).
    CancelToken child() const;

    // Runs `callback` once when the token is cancelled, on the cancelling thread; right away on
    // this thread when it is cancelled already. The callback must not throw (what it throws is
    // dropped); it may release its own Registration.
    [[nodiscard]] Registration on_cancel(std::function<void()> callback) const;

    // cancelled() as a function, for APIs that take a `std::function<bool()> cancelled`.
    std::function<bool()> predicate() const;

private:
    std::shared_ptr<State> state_;
};

// Whether `error` is an xarch::Error with code kCancelled.
bool is_cancellation(const std::exception_ptr& error) noexcept;

}  // namespace xarch::util
