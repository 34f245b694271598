// SPDX-License-Identifier: Apache-2.0
// A context's entries handed out while they are walked: what a scan records (ignore rules
// applied, walk order) without digests, for a reader that wants to start before the walk ends
// (the docker driver's context tar, as `docker build` walks while it sends).
#pragma once

#include "context/scan.hpp"

#include <xarch/context.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace xarch::context {

class EntryStream {
public:
    // Starts walking request.root (with its exclude patterns and before_read hook; threads and
    // cache are not used) on a thread of its own, at most `window` entries ahead of next().
    explicit EntryStream(ScanRequest request, std::size_t window = 4096);
    // Stops the walk (wherever it is) and waits for its thread.
    ~EntryStream();
    EntryStream(const EntryStream&) = delete;
    EntryStream& operator=(const EntryStream&) = delete;

    // The next entry in walk order; nullopt after the last. Rethrows what ended the walk (an
    // unreadable directory: Error naming it, as a scan does).
    std::optional<ContextEntry> next();

private:
    void walk(const ScanRequest& request);

    const std::size_t window_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<ContextEntry> ready_;
    bool done_ = false;     // the walk is over (ended or failed)
    bool stopped_ = false;  // the reader went away
    std::exception_ptr error_;
    std::thread thread_;  // last: started once the members it uses exist
};

}  // namespace xarch::context
