// SPDX-License-Identifier: Apache-2.0
// WWW-Authenticate parsing (RFC 7235 challenges as registries send them: Basic and Bearer with
// realm, service, scope and error parameters).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::registry {

struct Challenge {
    std::string scheme;                         // lowercase: "basic", "bearer", "negotiate"
    std::map<std::string, std::string> params;  // names lowercase, values unquoted

    // The parameter's value, "" when absent.
    std::string param(std::string_view name) const;
};

// Every challenge in one WWW-Authenticate header value. Several challenges may share a header
// (`Basic realm="a", Bearer realm="b",service="c"`); quoted strings may hold commas, '=' and
// backslash escapes. Lenient like the Go and containerd parsers: unquoted values run to the next
// comma or blank, malformed pieces are skipped rather than rejected.
std::vector<Challenge> parse_challenges(std::string_view header);

// The challenges of all WWW-Authenticate headers of a response, in order.
std::vector<Challenge> parse_challenges(const std::vector<std::string>& headers);

// The challenge xarch acts on: the first Bearer, else the first Basic; nullopt when there is
// neither (only Negotiate, say).
std::optional<Challenge> pick_challenge(const std::vector<Challenge>& challenges);

}  // namespace xarch::registry
