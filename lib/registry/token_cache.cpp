// SPDX-License-Identifier: Apache-2.0
#include "registry/token_cache.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

namespace xarch::registry {

namespace {

struct ParsedScope {
    std::string type;
    std::string name;
    std::set<std::string> actions;
};

// `type:name:actions`; the name may itself hold colons (a registry host with a port in some
// token services' scopes), so the type ends at the first colon and the actions start after the
// last one.
std::optional<ParsedScope> parse_scope(std::string_view scope) {
    const std::size_t first = scope.find(':');
    const std::size_t last = scope.rfind(':');
    if (first == std::string_view::npos || first == last || first == 0 || last == first + 1) {
        return std::nullopt;
    }
    ParsedScope parsed{std::string(scope.substr(0, first)),
                       std::string(scope.substr(first + 1, last - first - 1)),
                       {}};
    std::string_view actions = scope.substr(last + 1);
    while (!actions.empty()) {
        const std::size_t comma = actions.find(',');
        const std::string_view action = actions.substr(0, comma);
        if (!action.empty()) {
            parsed.actions.emplace(action);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        actions.remove_prefix(comma + 1);
    }
    return parsed;
}

using ResourceMap = std::map<std::pair<std::string, std::string>, std::set<std::string>>;

void split_scopes(const std::vector<std::string>& scopes,
                  ResourceMap& resources,
                  std::set<std::string>& opaque) {
    for (const std::string& list : scopes) {
        std::string_view rest = list;
        while (!rest.empty()) {
            const std::size_t blank = rest.find(' ');
            const std::string_view scope = rest.substr(0, blank);
            if (!scope.empty()) {
                if (auto parsed = parse_scope(scope)) {
                    auto& actions = resources[{parsed->type, parsed->name}];
                    actions.insert(parsed->actions.begin(), parsed->actions.end());
                } else {
                    opaque.emplace(scope);
                }
            }
            if (blank == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(blank + 1);
        }
    }
}

int two_digits(std::string_view text, std::size_t pos) {
    if (pos + 2 > text.size()) {
        return -1;
    }
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + 2, value);
    return ec == std::errc() && end == text.data() + pos + 2 ? value : -1;
}

}  // namespace

std::string repository_scope(std::string_view repository, std::string_view actions) {
    return "repository:" + std::string(repository) + ":" + std::string(actions);
}

std::vector<std::string> normalize_scopes(const std::vector<std::string>& scopes) {
    ResourceMap resources;
    std::set<std::string> opaque;
    split_scopes(scopes, resources, opaque);
    std::vector<std::string> out(opaque.begin(), opaque.end());
    for (const auto& [resource, actions] : resources) {
        std::string scope = resource.first + ":" + resource.second + ":";
        bool first = true;
        for (const std::string& action : actions) {
            scope += (first ? "" : ",") + action;
            first = false;
        }
        out.push_back(std::move(scope));
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool scopes_cover(const std::vector<std::string>& have, const std::vector<std::string>& want) {
    ResourceMap have_resources;
    std::set<std::string> have_opaque;
    split_scopes(have, have_resources, have_opaque);
    ResourceMap want_resources;
    std::set<std::string> want_opaque;
    split_scopes(want, want_resources, want_opaque);
    for (const std::string& scope : want_opaque) {
        if (have_opaque.count(scope) == 0) {
            return false;
        }
    }
    for (const auto& [resource, actions] : want_resources) {
        const auto it = have_resources.find(resource);
        if (it == have_resources.end()) {
            return false;
        }
        if (it->second.count("*") != 0) {
            continue;
        }
        for (const std::string& action : actions) {
            if (it->second.count(action) == 0) {
                return false;
            }
        }
    }
    return true;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
        text[16] != ':') {
        return std::nullopt;
    }
    int year = 0;
    if (std::from_chars(text.data(), text.data() + 4, year).ptr != text.data() + 4) {
        return std::nullopt;
    }
    const int month = two_digits(text, 5);
    const int day = two_digits(text, 8);
    const int hour = two_digits(text, 11);
    const int minute = two_digits(text, 14);
    const int second = two_digits(text, 17);
    if (month < 1 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
        second > 60) {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year(year),
                                           std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::chrono::nanoseconds fraction{0};
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        long long scale = 100'000'000;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
            scale /= 10;
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
    }
    std::chrono::minutes offset{0};
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
               text[pos + 3] == ':') {
        const int offset_hours = two_digits(text, pos + 1);
        const int offset_minutes = two_digits(text, pos + 4);
        if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59) {
            return std::nullopt;
        }
        offset = std::chrono::hours(offset_hours) + std::chrono::minutes(offset_minutes);
        if (text[pos] == '-') {
            offset = -offset;
        }
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    const auto local = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                       std::chrono::minutes(minute) + std::chrono::seconds(second);
    return std::chrono::time_point_cast<std::chrono::system_clock::duration>(local - offset +
                                                                             fraction);
}

TokenResponse parse_token_response(std::string_view body) {
    boost::json::error_code ec;
    const boost::json::value value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) {
        throw AuthError("the token service answered with something other than a JSON object", 0);
    }
    const boost::json::object& object = value.as_object();
    TokenResponse response;
    for (const char* field : {"token", "access_token"}) {
        if (const auto* token = object.if_contains(field); token != nullptr && token->is_string()) {
            if (!token->as_string().empty()) {
                response.token = std::string(token->as_string());
                break;
            }
        }
    }
    if (response.token.empty()) {
        throw AuthError("the token service answered without a token", 0);
    }
    if (const auto* expires = object.if_contains("expires_in"); expires != nullptr) {
        // Some services send a float or a string; anything unusable keeps the default.
        long long seconds = 0;
        if (expires->is_int64()) {
            seconds = expires->as_int64();
        } else if (expires->is_uint64()) {
            seconds =
                static_cast<long long>(std::min<std::uint64_t>(expires->as_uint64(), 1u << 30));
        } else if (expires->is_double()) {
            seconds = static_cast<long long>(std::clamp(expires->as_double(), 0.0, 1e9));
        }
        if (seconds > 0) {
            response.expires_in = std::chrono::seconds(std::min(seconds, 1LL << 30));
        }
    }
    if (const auto* issued = object.if_contains("issued_at");
        issued != nullptr && issued->is_string()) {
        response.issued_at = parse_rfc3339(issued->as_string());
    }
    if (const auto* refresh = object.if_contains("refresh_token");
        refresh != nullptr && refresh->is_string()) {
        response.refresh_token = std::string(refresh->as_string());
    }
    return response;
}

TokenCache::Clock::duration TokenCache::usable_for(std::chrono::seconds lifetime) {
    const Clock::duration whole = lifetime;
    return whole - std::min<Clock::duration>(whole / 5, std::chrono::seconds(30));
}

std::optional<std::string> TokenCache::find_locked(const std::string& registry,
                                                   const std::vector<std::string>& scopes,
                                                   Clock::time_point now) const {
    if (const auto it = entries_.find(Key{registry, scopes});
        it != entries_.end() && it->second.refresh_at > now) {
        return it->second.token;
    }
    for (const auto& [key, entry] : entries_) {
        if (key.first == registry && entry.refresh_at > now && scopes_cover(entry.scopes, scopes)) {
            return entry.token;
        }
    }
    return std::nullopt;
}

std::optional<std::string> TokenCache::find(const std::string& registry,
                                            const std::vector<std::string>& scopes,
                                            Clock::time_point now) const {
    const std::lock_guard lock(mutex_);
    return find_locked(registry, scopes, now);
}

void TokenCache::store(const std::string& registry,
                       const std::vector<std::string>& scopes,
                       const TokenResponse& response,
                       Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const auto& item) {
        return item.first.first == registry && item.second.refresh_at <= now;
    });
    entries_.insert_or_assign(Key{registry, scopes},
                              Entry{scopes, response.token, now + usable_for(response.expires_in)});
}

std::string TokenCache::get(const std::string& registry,
                            const std::vector<std::string>& scopes,
                            const Fetch& fetch,
                            bool force) {
    const Key key{registry, scopes};
    std::promise<std::string> promise;
    std::shared_future<std::string> pending;
    {
        const std::lock_guard lock(mutex_);
        if (!force) {
            if (auto token = find_locked(registry, scopes, Clock::now())) {
                return *token;
            }
        }
        if (const auto it = in_flight_.find(key); it != in_flight_.end()) {
            pending = it->second;
        } else {
            in_flight_.emplace(key, promise.get_future().share());
            ++fetches_;
        }
    }
    if (pending.valid()) {
        // Another thread is fetching this very token: share its answer (or its failure).
        return pending.get();
    }
    try {
        TokenResponse response = fetch();
        store(registry, scopes, response);
        {
            const std::lock_guard lock(mutex_);
            in_flight_.erase(key);
        }
        promise.set_value(response.token);
        return response.token;
    } catch (...) {
        {
            const std::lock_guard lock(mutex_);
            in_flight_.erase(key);
        }
        promise.set_exception(std::current_exception());
        throw;
    }
}

void TokenCache::clear(const std::string& registry) {
    const std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const auto& item) { return item.first.first == registry; });
}

std::size_t TokenCache::fetches() const {
    const std::lock_guard lock(mutex_);
    return fetches_;
}

}  // namespace xarch::registry
