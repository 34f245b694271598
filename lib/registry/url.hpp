// SPDX-License-Identifier: Apache-2.0
// URL handling for the registry transport: just enough of RFC 3986 for the URLs a registry and
// its token service hand out (upload Locations, redirects to storage, token realms).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xarch::registry {

// An absolute http(s) URL split into its parts.
struct Url {
    std::string scheme;  // "http" or "https", lowercase
    std::string host;    // lowercase; IPv6 literals keep their brackets: "[::1]"
    std::string port;    // "" when the URL has none
    std::string target;  // path and query, always starting with '/': "/v2/?x=1"

    // host[:port] as written in references and in docker's certs.d folder names.
    std::string authority() const;
    // scheme://host:port with the default port made explicit, for same-origin comparisons.
    std::string origin() const;
    // The whole URL.
    std::string str() const;
};

// Parses an absolute http or https URL; nullopt for anything else (other schemes, userinfo,
// missing host, a bad port). Fragments are dropped.
std::optional<Url> parse_url(std::string_view text);

// `location` (a Location header: absolute, scheme-relative, absolute-path or relative) resolved
// against `base`; nullopt when the result is not an http(s) URL.
std::optional<Url> resolve_url(const Url& base, std::string_view location);

// The URL as error messages show it: without query and fragment, which may carry upload state
// or signed-URL secrets, and without userinfo. Unparseable text is cut at the first '?' or '#'.
std::string url_for_message(std::string_view url);

// RFC 3986 percent-encoding of everything but the unreserved characters, for query values.
std::string percent_encode(std::string_view text);

// The host part of host[:port] ("[::1]:5000" -> "[::1]", "localhost:5000" -> "localhost").
std::string_view host_of(std::string_view authority);

// localhost, 127.0.0.0/8 and ::1, with or without a port: hosts that dockerd and
// go-containerregistry treat as insecure registries by default.
bool is_loopback(std::string_view authority);

// The host to send API requests to for a registry named in a reference: Docker Hub's names
// ("docker.io", "index.docker.io") are served by registry-1.docker.io; others are themselves.
std::string api_authority(std::string_view registry);

}  // namespace xarch::registry
