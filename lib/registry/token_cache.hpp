// SPDX-License-Identifier: Apache-2.0
// Bearer tokens: scope strings, the token service's answer, and a cache of tokens per registry
// and scope set with expiry, early refresh and one fetch at a time per key.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::registry {

// "repository:NAME:ACTIONS", the resource scope the token service grants; `actions` is
// comma-separated ("pull", "pull,push").
std::string repository_scope(std::string_view repository, std::string_view actions);

// Scopes merged and sorted so that equal sets compare equal: duplicates dropped, the actions
// of one resource merged ("repository:a:push" + "repository:a:pull" -> "repository:a:pull,push")
// and sorted, scopes sorted. A scope that is not `type:name:actions` is kept as it is. Scope
// lists from a challenge's `scope` parameter are space-separated; each element may hold several.
std::vector<std::string> normalize_scopes(const std::vector<std::string>& scopes);

// True when a token granted `have` is good for a request needing `want` (both normalized):
// every wanted resource is there with all the wanted actions (or "*").
bool scopes_cover(const std::vector<std::string>& have, const std::vector<std::string>& want);

// What a token service answered (docker's token spec and the OAuth2 variant).
struct TokenResponse {
    std::string token;  // `token`, else `access_token`
    std::chrono::seconds expires_in{60};
    std::optional<std::chrono::system_clock::time_point> issued_at;
    std::string refresh_token;
};

// Parses a token response body. A missing or non-positive `expires_in` means 60 seconds, as the
// spec says. Throws AuthError when the body is not JSON or holds no token; the message never
// quotes the body, which may hold secrets.
TokenResponse parse_token_response(std::string_view body);

// RFC 3339 ("2024-01-02T03:04:05Z", fractions and offsets allowed); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

// Tokens per (registry, normalized scope set). A token is used until `lifetime - margin` after
// it arrived, where the margin (a fifth of the lifetime, at most 30 s) keeps a request from
// carrying a token that expires in flight. Lifetimes are measured on the local steady clock from
// when the answer arrived rather than from `issued_at`, so clock skew with the token service
// does not matter. Thread-safe.
class TokenCache {
public:
    using Clock = std::chrono::steady_clock;
    using Fetch = std::function<TokenResponse()>;

    // A fresh token for `scopes` on `registry`: a cached one whose scopes cover them, or one
    // from `fetch` (called with no lock held). Concurrent callers asking for the same key wait
    // for the one fetch in flight. `force` skips the cache (the registry refused the cached
    // token) but still joins a fetch in flight. `fetch`'s exceptions reach every waiter.
    std::string get(const std::string& registry,
                    const std::vector<std::string>& scopes,
                    const Fetch& fetch,
                    bool force = false);

    // A cached fresh token whose scopes cover `scopes`, without fetching.
    std::optional<std::string> find(const std::string& registry,
                                    const std::vector<std::string>& scopes,
                                    Clock::time_point now = Clock::now()) const;

    void store(const std::string& registry,
               const std::vector<std::string>& scopes,
               const TokenResponse& response,
               Clock::time_point now = Clock::now());

    // Drops every token of `registry` (credentials changed).
    void clear(const std::string& registry);

    // How many tokens were fetched through get(), for tests and diagnostics.
    std::size_t fetches() const;

    // How long a token with this lifetime is used before it is refreshed.
    static Clock::duration usable_for(std::chrono::seconds lifetime);

private:
    struct Entry {
        std::vector<std::string> scopes;
        std::string token;
        Clock::time_point refresh_at;
    };
    using Key = std::pair<std::string, std::vector<std::string>>;

    std::optional<std::string> find_locked(const std::string& registry,
                                           const std::vector<std::string>& scopes,
                                           Clock::time_point now) const;

    mutable std::mutex mutex_;
    std::map<Key, Entry> entries_;
    std::map<Key, std::shared_future<std::string>> in_flight_;
    std::size_t fetches_ = 0;
};

}  // namespace xarch::registry
