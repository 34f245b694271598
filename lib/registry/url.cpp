// SPDX-License-Identifier: Apache-2.0
#include "registry/url.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace xarch::registry {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool valid_port(std::string_view port) {
    if (port.empty() || port.size() > 5) {
        return false;
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return ec == std::errc() && end == port.data() + port.size() && value > 0 && value <= 65535;
}

// Host characters we accept: reg-name letters, digits, '-', '.', '_' and bracketed IPv6
// literals. Anything else (spaces, '@', '%') would be a smuggling attempt or a typo.
bool valid_host(std::string_view host) {
    if (host.empty()) {
        return false;
    }
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') {
            return false;
        }
        for (char c : host.substr(1, host.size() - 2)) {
            const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!hex && c != ':' && c != '.') {
                return false;
            }
        }
        return true;
    }
    for (char c : host) {
        const bool alnum = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && c != '-' && c != '.' && c != '_') {
            return false;
        }
    }
    return true;
}

std::string_view default_port(std::string_view scheme) {
    return scheme == "https" ? "443" : "80";
}

// Splits "host[:port]"; false when malformed.
bool split_authority(std::string_view authority, std::string& host, std::string& port) {
    std::string_view h = authority;
    std::string_view p;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return false;
        }
        h = authority.substr(0, close + 1);
        const std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return false;
            }
            p = rest.substr(1);
        }
    } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        h = authority.substr(0, colon);
        p = authority.substr(colon + 1);
    }
    if (!valid_host(h) || (!p.empty() && !valid_port(p)) ||
        (p.empty() && authority.back() == ':')) {
        return false;
    }
    host = util::to_lower_ascii(h);
    port = std::string(p);
    return true;
}

}  // namespace

std::string Url::authority() const {
    return port.empty() ? host : host + ":" + port;
}

std::string Url::origin() const {
    return scheme + "://" + host + ":" + std::string(port.empty() ? default_port(scheme) : port);
}

std::string Url::str() const {
    return scheme + "://" + authority() + target;
}

std::optional<Url> parse_url(std::string_view text) {
    const std::size_t sep = text.find("://");
    if (sep == std::string_view::npos) {
        return std::nullopt;
    }
    Url url;
    url.scheme = util::to_lower_ascii(text.substr(0, sep));
    if (url.scheme != "http" && url.scheme != "https") {
        return std::nullopt;
    }
    std::string_view rest = text.substr(sep + 3);
    if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
        rest = rest.substr(0, hash);
    }
    const std::size_t end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end);
    if (authority.find('@') != std::string_view::npos ||
        !split_authority(authority, url.host, url.port)) {
        return std::nullopt;
    }
    url.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
    if (url.target.front() == '?') {
        url.target.insert(0, "/");
    }
    return url;
}

std::optional<Url> resolve_url(const Url& base, std::string_view location) {
    location = util::trim(location);
    if (location.find("://") != std::string_view::npos &&
        location.find("://") < location.find_first_of("/?")) {
        return parse_url(location);
    }
    if (location.starts_with("//")) {
        return parse_url(base.scheme + ":" + std::string(location));
    }
    Url url = base;
    if (location.starts_with("/")) {
        url.target = std::string(location);
    } else {
        // A relative reference: replace the last path segment of the base (RFC 3986 5.2.3);
        // dot segments are left to the server, registries never send them.
        std::string path = base.target.substr(0, base.target.find('?'));
        path = path.substr(0, path.rfind('/') + 1);
        url.target = location.starts_with("?")
                         ? base.target.substr(0, base.target.find('?')) + std::string(location)
                         : path + std::string(location);
    }
    if (const std::size_t hash = url.target.find('#'); hash != std::string::npos) {
        url.target.resize(hash);
    }
    return url;
}

std::string url_for_message(std::string_view url) {
    if (const auto parsed = parse_url(url)) {
        Url shown = *parsed;
        shown.target.resize(std::min(shown.target.size(), shown.target.find('?')));
        return shown.str();
    }
    std::string_view shown = url.substr(0, url.find_first_of("?#"));
    // Userinfo in an unparseable URL is dropped as well: everything between "://" and '@'.
    if (const std::size_t sep = shown.find("://"); sep != std::string_view::npos) {
        const std::size_t at = shown.find('@', sep);
        if (at != std::string_view::npos && at < shown.find('/', sep + 3)) {
            return std::string(shown.substr(0, sep + 3)) + std::string(shown.substr(at + 1));
        }
    }
    return std::string(shown);
}

std::string percent_encode(std::string_view text) {
    constexpr std::string_view kHex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const bool unreserved = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        }
    }
    return out;
}

std::string_view host_of(std::string_view authority) {
    if (!authority.empty() && authority.front() == '[') {
        return authority.substr(0, authority.find(']') + 1);
    }
    // A bare IPv6 literal ("::1") has several colons and no port.
    if (authority.find(':') != authority.rfind(':')) {
        return authority;
    }
    return authority.substr(0, authority.find(':'));
}

bool is_loopback(std::string_view authority) {
    const std::string host = util::to_lower_ascii(host_of(authority));
    if (host == "localhost" || host == "[::1]" || host == "::1") {
        return true;
    }
    // 127.0.0.0/8 written as a dotted quad; other spellings ("127.1") are not registry names.
    std::array<int, 4> parts{};
    std::size_t count = 0;
    std::string_view rest = host;
    while (true) {
        const std::size_t dot = rest.find('.');
        const std::string_view part = rest.substr(0, dot);
        int value = 0;
        const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (count == parts.size() || part.empty() || part.size() > 3 || ec != std::errc() ||
            end != part.data() + part.size() || value > 255) {
            return false;
        }
        parts[count++] = value;
        if (dot == std::string_view::npos) {
            break;
        }
        rest = rest.substr(dot + 1);
    }
    return count == parts.size() && parts[0] == 127;
}

std::string api_authority(std::string_view registry) {
    const std::string lower = util::to_lower_ascii(registry);
    if (lower == "docker.io" || lower == "index.docker.io") {
        return "registry-1.docker.io";
    }
    return lower;
}

}  // namespace xarch::registry
