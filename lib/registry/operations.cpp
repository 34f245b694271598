// SPDX-License-Identifier: Apache-2.0
#include "registry/operations.hpp"

#include "registry/url.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <exception>
#include <thread>

namespace xarch::registry {

void Operation::check() const {
    if (cancel_) {
        throw Error(ErrorCode::kCancelled, "registry operation cancelled");
    }
}

ProgressHook Operation::hook(const Digest& digest,
                             std::uint64_t offset,
                             std::optional<std::uint64_t> total) {
    if (!callback_) {
        return {};
    }
    return [this, digest, offset, total](const registry::TransferProgress& p) {
        report(digest, offset + p.done, total ? total : p.total);
    };
}

void Operation::report(const Digest& digest,
                       std::uint64_t done,
                       std::optional<std::uint64_t> total) {
    if (!callback_) {
        return;
    }
    std::lock_guard lock(mutex_);
    if (!callback_(xarch::TransferProgress{digest, done, total})) {
        cancel_ = true;
    }
}

void run_parallel(std::vector<std::function<void()>> tasks, std::size_t jobs, Operation& op) {
    if (tasks.empty()) {
        return;
    }
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::exception_ptr failure;
    auto worker = [&] {
        for (;;) {
            const std::size_t i = next++;
            if (i >= tasks.size()) {
                return;
            }
            {
                std::lock_guard lock(mutex);
                if (failure) {
                    return;
                }
            }
            try {
                op.check();
                tasks[i]();
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!failure) {
                    failure = std::current_exception();
                    op.cancel();
                }
            }
        }
    };
    const std::size_t count = std::min(std::max<std::size_t>(jobs, 1), tasks.size());
    std::vector<std::thread> threads;
    threads.reserve(count);
    for (std::size_t i = 1; i < count; ++i) {
        threads.emplace_back(worker);
    }
    worker();
    for (auto& t : threads) {
        t.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

std::string bare_media_type(std::string_view content_type) {
    std::string_view s = content_type.substr(0, content_type.find(';'));
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

std::string with_query(std::string target, std::string_view key, std::string_view value) {
    target += target.find('?') == std::string::npos ? '?' : '&';
    target += key;
    target += '=';
    target += percent_encode(value);
    return target;
}

std::string next_link(const Headers& headers) {
    // One header may hold several comma-separated links, and a registry may send several
    // headers; each link is `<target>; param; param`.
    for (const auto& value : headers.get_all("Link")) {
        std::size_t pos = 0;
        while ((pos = value.find('<', pos)) != std::string::npos) {
            const auto close = value.find('>', pos);
            if (close == std::string::npos) {
                break;
            }
            const auto end = std::min(value.find('<', close), value.size());
            const std::string_view params(value.data() + close + 1, end - close - 1);
            if (params.find("rel=\"next\"") != std::string_view::npos ||
                params.find("rel=next") != std::string_view::npos) {
                return value.substr(pos + 1, close - pos - 1);
            }
            pos = close;
        }
    }
    return {};
}

std::vector<std::string> parse_string_list(std::string_view json, std::string_view key) {
    const std::string what(key);
    boost::system::error_code ec;
    const auto value = boost::json::parse(json, ec);
    if (ec || !value.is_object()) {
        throw Error(ErrorCode::kRegistry, "the registry's " + what + " list is not a JSON object");
    }
    std::vector<std::string> out;
    const auto* list = value.as_object().if_contains(key);
    if (list == nullptr || list->is_null()) {
        return out;  // distribution answers `"tags": null` for a repository without tags
    }
    if (!list->is_array()) {
        throw Error(ErrorCode::kRegistry, "the registry's " + what + " is not a list");
    }
    for (const auto& item : list->as_array()) {
        if (!item.is_string()) {
            throw Error(ErrorCode::kRegistry,
                        "the registry's " + what + " list holds a non-string");
        }
        out.emplace_back(item.as_string());
    }
    return out;
}

}  // namespace xarch::registry
