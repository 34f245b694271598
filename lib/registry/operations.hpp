// SPDX-License-Identifier: Apache-2.0
// The pieces under xarch::Registry's operations that need no registry: the state of one
// operation (cancel flag, serialized progress), bounded parallel execution, and the parsing of
// what registries answer (Content-Type, Link pagination, tag and catalog lists).
#pragma once

#include "registry/http_client.hpp"

#include <xarch/digest.hpp>
#include <xarch/registry.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::registry {

// Every manifest type xarch reads, so that the registry does not down-convert to schema 1.
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

// A registry that keeps answering with a `next` Link must not make a listing loop forever.
inline constexpr int kMaxPages = 100'000;

// The state of one public call: its cancel flag, and the progress callback called under a
// mutex because STYLE promises that one operation's callbacks are never concurrent.
class Operation {
public:
    explicit Operation(const TransferProgressCallback& callback) : callback_(callback) {}
    Operation(const Operation&) = delete;
    Operation& operator=(const Operation&) = delete;

    const std::atomic<bool>* cancel_flag() const { return &cancel_; }
    void cancel() { cancel_ = true; }
    bool cancelled() const { return cancel_; }
    // Throws Error(kCancelled) once the operation is cancelled.
    void check() const;

    // A transport hook reporting `offset` + the request's bytes for `digest`; null without a
    // callback.
    ProgressHook hook(const Digest& digest,
                      std::uint64_t offset,
                      std::optional<std::uint64_t> total);
    // Calls the callback; its false cancels the operation.
    void report(const Digest& digest, std::uint64_t done, std::optional<std::uint64_t> total);

private:
    const TransferProgressCallback& callback_;
    std::atomic<bool> cancel_{false};
    std::mutex mutex_;
};

// Runs the tasks on up to `jobs` threads (the caller's among them). The first failure cancels
// `op`, so that transfers in flight stop, and is rethrown after every thread has joined: no
// exception crosses a thread.
void run_parallel(std::vector<std::function<void()>> tasks, std::size_t jobs, Operation& op);

// "application/json; charset=utf-8" -> "application/json".
std::string bare_media_type(std::string_view content_type);

// `target` with `key=value` appended to its query, the value percent-encoded.
std::string with_query(std::string target, std::string_view key, std::string_view value);

// The target of the Link header whose rel is "next" (`</v2/x/tags/list?last=a&n=2>;
// rel="next"`), "" when there is none.
std::string next_link(const Headers& headers);

// The strings of the list `key` in a JSON object ({"tags": [...]}, {"repositories": [...]}); a
// missing or null list is empty. Throws Error(kRegistry) for anything else.
std::vector<std::string> parse_string_list(std::string_view json, std::string_view key);

}  // namespace xarch::registry
