// SPDX-License-Identifier: Apache-2.0
// Image references as distribution/reference parses them (ParseNormalizedNamed and the grammar
// in its reference.go), written as a hand scanner rather than its regular expressions so that
// each failure can say which part is wrong.
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/reference.hpp>

#include <cstddef>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace xarch {

namespace {

using util::quote;

constexpr std::string_view kDockerHub = "docker.io";
constexpr std::string_view kLegacyDockerHub = "index.docker.io";
constexpr std::string_view kDockerHubApiHost = "registry-1.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr std::string_view kDefaultTag = "latest";
constexpr std::size_t kMaxRepositoryLength = 255;
constexpr std::size_t kMaxTagLength = 128;
constexpr std::size_t kImageIdLength = 64;
constexpr unsigned long kMaxPort = 65535;

[[noreturn]] void fail(std::string_view text, const std::string& why) {
    throw Error(ErrorCode::kInvalidArgument, "invalid reference " + quote(text) + ": " + why);
}

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_lower_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool has_upper(std::string_view text) {
    for (char c : text) {
        if (is_upper(c)) {
            return true;
        }
    }
    return false;
}

// Where the first byte that can never be part of a reference is, with a description: spaces and
// control characters would let a reference smuggle headers into an HTTP request line, so they
// get their own message instead of a generic "invalid character".
std::string bad_byte(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte <= 0x20 || byte == 0x7f) {
            return "must not contain whitespace or control characters (" +
                   (byte == 0x20 ? std::string("a space") : "byte " + quote(text.substr(i, 1))) +
                   " at offset " + std::to_string(i) + ")";
        }
        if (byte >= 0x80) {
            return "must be ASCII (non-ASCII byte at offset " + std::to_string(i) + ")";
        }
    }
    return {};
}

// distribution's pathComponent: [a-z0-9]+ joined by one '.', one or two '_', or any number of
// '-'. Returns why `component` is not one, or "" when it is.
std::string path_component_error(std::string_view component) {
    if (component.empty()) {
        return "empty path component (a leading, trailing or doubled '/')";
    }
    for (char c : component) {
        if (!is_lower_alnum(c) && c != '.' && c != '_' && c != '-') {
            return "path component " + quote(component) + " has the invalid character " +
                   quote(std::string_view(&c, 1));
        }
    }
    if (!is_lower_alnum(component.front()) || !is_lower_alnum(component.back())) {
        return "path component " + quote(component) +
               " must start and end with a lowercase letter or digit";
    }
    std::size_t i = 0;
    while (i < component.size()) {
        if (is_lower_alnum(component[i])) {
            ++i;
            continue;
        }
        // A run of separators between two alphanumerics.
        std::size_t end = i;
        while (end < component.size() && !is_lower_alnum(component[end])) {
            ++end;
        }
        const std::string_view run = component.substr(i, end - i);
        const bool dashes = run.find_first_not_of('-') == std::string_view::npos;
        if (!(run == "." || run == "_" || run == "__" || dashes)) {
            return "path component " + quote(component) + " has the separator " + quote(run) +
                   " (allowed: '.', '_', '__' or dashes between letters and digits)";
        }
        i = end;
    }
    return {};
}

std::string path_error(std::string_view path) {
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = path.find('/', start);
        const std::string_view component = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (std::string why = path_component_error(component); !why.empty()) {
            return why;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return {};
}

// distribution's domainNameComponent: [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9].
bool is_domain_component(std::string_view component) {
    if (component.empty() || !is_alnum(component.front()) || !is_alnum(component.back())) {
        return false;
    }
    for (char c : component) {
        if (!is_alnum(c) && c != '-') {
            return false;
        }
    }
    return true;
}

std::string port_error(std::string_view port) {
    if (port.empty()) {
        return "empty port after ':'";
    }
    unsigned long value = 0;
    for (char c : port) {
        if (!is_digit(c)) {
            return "port " + quote(port) + " is not a number";
        }
        if (value <= kMaxPort) {
            value = value * 10 + static_cast<unsigned long>(c - '0');
        }
    }
    // distribution accepts any run of digits; a port outside TCP's range can only fail later
    // with a more confusing network error, so it is refused here.
    if (value == 0 || value > kMaxPort) {
        return "port " + quote(port) + " is out of range (1-65535)";
    }
    return {};
}

// distribution's domainAndPort: a DNS-like name, an IPv4 address or a bracketed IPv6 address
// (no zone), then an optional :port.
std::string domain_error(std::string_view domain) {
    std::string_view host = domain;
    std::string_view rest;
    if (domain.front() == '[') {
        const std::size_t close = domain.find(']');
        if (close == std::string_view::npos) {
            return "registry host " + quote(domain) + " has no closing ']'";
        }
        const std::string_view address = domain.substr(1, close - 1);
        if (address.empty() ||
            address.find_first_not_of("0123456789abcdefABCDEF:") != std::string_view::npos) {
            return "registry host " + quote(domain) +
                   " is not an IPv6 address of hex digits and ':' (zones and embedded IPv4 "
                   "are not allowed)";
        }
        rest = domain.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            return "registry host " + quote(domain) + " has text after ']'";
        }
    } else {
        const std::size_t colon = domain.find(':');
        host = domain.substr(0, colon);
        if (colon != std::string_view::npos) {
            rest = domain.substr(colon);
            if (rest.find(':', 1) != std::string_view::npos) {
                return "registry host " + quote(domain) +
                       " has more than one ':' (IPv6 addresses go in brackets: [::1]:5000)";
            }
        }
        std::size_t start = 0;
        while (true) {
            const std::size_t dot = host.find('.', start);
            const std::string_view component =
                host.substr(start, dot == std::string_view::npos ? dot : dot - start);
            if (!is_domain_component(component)) {
                return "registry host " + quote(host) +
                       " must be dot-separated letters, digits and inner dashes";
            }
            if (dot == std::string_view::npos) {
                break;
            }
            start = dot + 1;
        }
    }
    if (!rest.empty()) {
        if (std::string why = port_error(rest.substr(1)); !why.empty()) {
            return "registry " + quote(domain) + ": " + why;
        }
    }
    return {};
}

// distribution's tag: [\w][\w.-]{0,127}.
std::string tag_error(std::string_view tag) {
    if (tag.empty()) {
        return "empty tag after ':'";
    }
    if (tag.size() > kMaxTagLength) {
        return "tag must not be more than " + std::to_string(kMaxTagLength) +
               " characters (it has " + std::to_string(tag.size()) + ")";
    }
    const auto word = [](char c) { return is_alnum(c) || c == '_'; };
    if (!word(tag.front())) {
        return "tag " + quote(tag) + " must start with a letter, digit or '_'";
    }
    for (char c : tag) {
        if (!word(c) && c != '.' && c != '-') {
            return "tag " + quote(tag) + " has the invalid character " +
                   quote(std::string_view(&c, 1)) + " (allowed: A-Z a-z 0-9 _ . -)";
        }
    }
    return {};
}

// The OCI digest grammar (algorithm [a-z0-9]+([+._-][a-z0-9]+)*, then ':' and the encoded part)
// restricted, as go-digest does, to the algorithms it registers and we can verify: sha256,
// sha384 and sha512, each as lowercase hex of its length. (xarch::Digest::parse applies the same
// rules; references keep their digest as text so that this module stands on its own.)
std::string digest_error(std::string_view digest) {
    const std::size_t colon = digest.find(':');
    if (colon == std::string_view::npos) {
        return "digest " + quote(digest) + " must be algorithm:hex, e.g. sha256:<64 hex digits>";
    }
    const std::string_view algorithm = digest.substr(0, colon);
    const std::string_view encoded = digest.substr(colon + 1);
    bool grammar =
        !algorithm.empty() && is_lower_alnum(algorithm.front()) && is_lower_alnum(algorithm.back());
    for (std::size_t i = 0; grammar && i < algorithm.size(); ++i) {
        const char c = algorithm[i];
        const bool separator = c == '+' || c == '.' || c == '_' || c == '-';
        if (separator) {
            grammar = is_lower_alnum(algorithm[i + 1]);
        } else {
            grammar = is_lower_alnum(c);
        }
    }
    if (!grammar) {
        return "digest algorithm " + quote(algorithm) + " is not valid";
    }
    std::size_t length = 0;
    if (algorithm == "sha256") {
        length = 64;
    } else if (algorithm == "sha384") {
        length = 96;
    } else if (algorithm == "sha512") {
        length = 128;
    } else {
        return "unsupported digest algorithm " + quote(algorithm) + " (sha256, sha384 or sha512)";
    }
    for (char c : encoded) {
        if (!is_lower_hex(c)) {
            return is_hex(c) ? "digest " + quote(digest) + " must use lowercase hex"
                             : "digest " + quote(digest) + " has a non-hex character";
        }
    }
    if (encoded.size() != length) {
        return "digest " + quote(digest) + " must have " + std::to_string(length) +
               " hex digits for " + std::string(algorithm) + " (it has " +
               std::to_string(encoded.size()) + ")";
    }
    return {};
}

// splitDockerDomain's test: the first component is a registry when it could not be a path
// component on Docker Hub (a '.', a ':', uppercase) or is the reserved name localhost.
bool is_domain_like(std::string_view first) {
    return first == "localhost" || first.find_first_of(".:") != std::string_view::npos ||
           has_upper(first);
}

bool is_image_id(std::string_view text) {
    if (text.size() != kImageIdLength) {
        return false;
    }
    for (char c : text) {
        if (!is_lower_hex(c)) {
            return false;
        }
    }
    return true;
}

struct Parts {
    std::string registry;
    std::string repository;
    std::string tag;
    std::string digest;
};

// ParseNormalizedNamed: the parts as written, with the registry and library/ filled in; no
// default tag.
Parts parse_parts(std::string_view text) {
    if (text.empty()) {
        fail(text, "an empty string names no repository");
    }
    if (std::string why = bad_byte(text); !why.empty()) {
        fail(text, why);
    }
    if (is_image_id(text)) {
        fail(text, "a 64-character hexadecimal string is an image ID, not a repository name");
    }

    // splitDockerDomain, with index.docker.io as Docker Hub's old name.
    Parts parts;
    std::string_view remainder = text;
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) {
        parts.registry = kDockerHub;
    } else {
        const std::string_view first = text.substr(0, slash);
        if (first == kLegacyDockerHub) {
            parts.registry = kDockerHub;
            remainder = text.substr(slash + 1);
        } else if (is_domain_like(first)) {
            if (std::string why = domain_error(first); !why.empty()) {
                // Taken for a registry only for its uppercase ("Foo_bar/x"): what is wrong is
                // more likely the case of a repository name, as distribution reports it.
                if (first.find_first_of(".:") == std::string_view::npos && first != "localhost") {
                    fail(text, "repository name " + quote(first) + " must be lowercase");
                }
                fail(text, why);
            }
            parts.registry = first;
            remainder = text.substr(slash + 1);
        } else {
            parts.registry = kDockerHub;
        }
    }

    // remainder = path [":" tag] ["@" digest]. A path has no ':' or '@' and a tag no '@', so
    // the first '@' starts the digest and the first ':' before it starts the tag.
    std::string_view path = remainder;
    if (const std::size_t at = remainder.find('@'); at != std::string_view::npos) {
        const std::string_view digest = remainder.substr(at + 1);
        if (digest.empty()) {
            fail(text, "empty digest after '@'");
        }
        if (std::string why = digest_error(digest); !why.empty()) {
            fail(text, why);
        }
        parts.digest = digest;
        path = remainder.substr(0, at);
    }
    if (const std::size_t colon = path.find(':'); colon != std::string_view::npos) {
        const std::string_view tag = path.substr(colon + 1);
        if (std::string why = tag_error(tag); !why.empty()) {
            fail(text, why);
        }
        parts.tag = tag;
        path = path.substr(0, colon);
    }

    if (path.empty()) {
        fail(text, "the repository name is missing");
    }
    if (has_upper(path)) {
        fail(text, "repository name " + quote(path) + " must be lowercase");
    }
    if (std::string why = path_error(path); !why.empty()) {
        fail(text, why);
    }
    const bool prefixed = parts.registry == kDockerHub && path.find('/') == std::string_view::npos;
    parts.repository =
        prefixed ? std::string(kOfficialPrefix) + std::string(path) : std::string(path);
    if (parts.repository.size() > kMaxRepositoryLength) {
        fail(text, "repository name must not be more than " + std::to_string(kMaxRepositoryLength) +
                       " characters (it has " + std::to_string(parts.repository.size()) + ")");
    }
    return parts;
}

}  // namespace

Reference Reference::parse(std::string_view text) {
    Parts parts = parse_parts(text);
    Reference reference;
    reference.registry_ = std::move(parts.registry);
    reference.repository_ = std::move(parts.repository);
    reference.tag_ = std::move(parts.tag);
    reference.digest_ = std::move(parts.digest);
    if (reference.tag_.empty() && reference.digest_.empty()) {
        reference.tag_ = kDefaultTag;
    }
    return reference;
}

Reference Reference::parse_repository(std::string_view text) {
    Parts parts = parse_parts(text);
    if (!parts.tag.empty() || !parts.digest.empty()) {
        throw Error(
            ErrorCode::kInvalidArgument,
            "invalid repository " + quote(text) +
                ": a repository name has no tag or digest (remove the " +
                (parts.digest.empty() ? ":" + quote(parts.tag) : "@" + quote(parts.digest)) + ")");
    }
    Reference reference;
    reference.registry_ = std::move(parts.registry);
    reference.repository_ = std::move(parts.repository);
    return reference;
}

std::string Reference::name() const {
    if (empty()) {
        return {};
    }
    return registry_ + "/" + repository_;
}

std::string Reference::to_string() const {
    return name() + identifier_suffix();
}

std::string Reference::familiar_name() const {
    if (registry_ != kDockerHub) {
        return name();
    }
    // Only a one-component official name loses library/: "library/a/b" keeps it, as in
    // distribution's familiarizeName.
    std::string_view path = repository_;
    if (path.starts_with(kOfficialPrefix) &&
        path.find('/', kOfficialPrefix.size()) == std::string_view::npos) {
        return std::string(path.substr(kOfficialPrefix.size()));
    }
    // distribution would shorten docker.io/foo.bar/baz to foo.bar/baz, which parses back with
    // foo.bar as the registry; the short form must name the same image, so it keeps docker.io.
    if (const std::size_t slash = path.find('/'); slash != std::string_view::npos) {
        if (is_domain_like(path.substr(0, slash))) {
            return name();
        }
    }
    return repository_;
}

std::string Reference::familiar() const {
    return familiar_name() + identifier_suffix();
}

// ":tag", "@digest" or both, as they follow the name in either form.
std::string Reference::identifier_suffix() const {
    std::string out;
    if (!tag_.empty()) {
        out += ':';
        out += tag_;
    }
    if (!digest_.empty()) {
        out += '@';
        out += digest_;
    }
    return out;
}

std::string Reference::identifier() const {
    if (!digest_.empty()) {
        return digest_;
    }
    if (!tag_.empty()) {
        return tag_;
    }
    return std::string(kDefaultTag);
}

std::string Reference::api_host() const {
    if (registry_ == kDockerHub) {
        return std::string(kDockerHubApiHost);
    }
    return registry_;
}

Reference Reference::with_tag(std::string_view tag) const {
    if (std::string why = tag_error(tag); !why.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot tag " + quote(to_string()) + " with " + quote(tag) + ": " + why);
    }
    Reference copy = *this;
    copy.tag_ = tag;
    return copy;
}

Reference Reference::with_digest(std::string_view digest) const {
    if (std::string why = digest_error(digest); !why.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot pin " + quote(to_string()) + " to " + quote(digest) + ": " + why);
    }
    Reference copy = *this;
    copy.digest_ = digest;
    return copy;
}

Reference Reference::without_tag() const {
    Reference copy = *this;
    copy.tag_.clear();
    return copy;
}

Reference Reference::without_digest() const {
    Reference copy = *this;
    copy.digest_.clear();
    return copy;
}

std::ostream& operator<<(std::ostream& out, const Reference& reference) {
    return out << reference.to_string();
}

}  // namespace xarch

std::size_t std::hash<xarch::Reference>::operator()(
    const xarch::Reference& reference) const noexcept {
    // Combined field by field (boost::hash_combine's mixing) so that hashing never allocates.
    std::size_t seed = 0;
    for (const std::string* field :
         {&reference.registry(), &reference.repository(), &reference.tag(), &reference.digest()}) {
        seed ^= std::hash<std::string>{}(*field) + 0x9e3779b9 + (seed << 6) + (seed >> 2);
    }
    return seed;
}
