// SPDX-License-Identifier: Apache-2.0
// Parsing and formatting of platform specifiers, as containerd/platforms Parse, Format and
// FormatAll do it, and of --platform values as buildx does it.
#include "platform/internal.hpp"
#include "util/path.hpp"
#include "util/quote.hpp"
#include "util/strings.hpp"

#include <xarch/error.hpp>
#include <xarch/platform.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace xarch::platform {

using util::equals_ignore_case;

using util::quote;

namespace {

constexpr std::string_view kExpected = "expected os/arch[/variant], e.g. linux/arm64";
constexpr std::size_t kMaxParts = 3;

[[noreturn]] void fail(std::string_view text, std::string_view why) {
    std::string message = "invalid platform " + quote(text) + ": ";
    message += why;
    throw Error(ErrorCode::kInvalidArgument, message);
}

[[noreturn]] void fail_element(std::string_view list,
                               std::size_t index,
                               ErrorCode code,
                               std::string_view why) {
    std::string message =
        "invalid platform list " + quote(list) + ": element " + std::to_string(index);
    message += why;
    throw Error(code, message);
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
// The character classes of containerd's osRe (name, then options) and specifierRe.
bool is_os_name_char(char c) {
    return is_alnum(c) || c == '_' || c == '-';
}
bool is_os_option_char(char c) {
    return is_os_name_char(c) || c == '.' || c == '%';
}
bool is_component_char(char c) {
    return is_os_name_char(c) || c == '.';
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// How to name an offending character in a message.
std::string describe(char c) {
    if (c == ' ') {
        return "a space";
    }
    auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7f) {
        return std::string("'") + c + "'";
    }
    constexpr std::string_view kHex = "0123456789abcdef";
    return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

// Go's url.PathUnescape: every '%' must start a two-digit hex escape.
std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size() || util::hex_value(text[i + 1]) < 0 ||
            util::hex_value(text[i + 2]) < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(util::hex_value(text[i + 1]) * 16 + util::hex_value(text[i + 2]));
        i += 2;
    }
    return out;
}

// The inverse for FormatAll: the characters that delimit the os(version+feature) syntax.
std::string percent_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '%':
                out += "%25";
                break;
            case '+':
                out += "%2B";
                break;
            case '(':
                out += "%28";
                break;
            case ')':
                out += "%29";
                break;
            case '/':
                out += "%2F";
                break;
            default:
                out += c;
                break;
        }
    }
    return out;
}

struct OsComponent {
    std::string os;
    std::string os_version;
    std::vector<std::string> os_features;
};

std::string decode_os_option(std::string_view text,
                             std::string_view option,
                             std::string_view what) {
    std::optional<std::string> decoded = percent_decode(option);
    if (!decoded) {
        fail(text, std::string("bad percent-encoding in the OS ") + std::string(what) + " " +
                       quote(option) + "; write '%' as %25, e.g. windows(50%25done)/amd64");
    }
    return *std::move(decoded);
}

void check_os_options(std::string_view text, std::string_view options) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= options.size(); ++i) {
        if (i < options.size() && options[i] != '+') {
            if (!is_os_option_char(options[i])) {
                fail(text, describe(options[i]) + " is not allowed in the OS options " +
                               quote(options) +
                               "; use letters, digits, '_', '.', '-' and %XX escapes, e.g. "
                               "windows(10.0.17763+win32k)/amd64");
            }
            continue;
        }
        // Every '+' starts a feature, which must not be empty; the version may be.
        if (start != 0 && i == start) {
            fail(text, "empty OS feature in " + quote(options) +
                           "; write features as os(version+feature+feature), e.g. linux(+gpu)");
        }
        start = i + 1;
    }
}

// containerd's osRe, `name[(version[+feature]*)]`, with the options percent-decoded.
OsComponent parse_os_component(std::string_view text, std::string_view part) {
    const std::size_t paren = part.find('(');
    const std::string_view name = part.substr(0, paren);
    if (name.empty()) {
        fail(text, "the OS is empty; " + std::string(kExpected));
    }
    for (char c : name) {
        if (!is_os_name_char(c)) {
            fail(text, describe(c) + " is not allowed in the OS " + quote(name) +
                           "; use letters, digits, '_' and '-'; " + std::string(kExpected));
        }
    }
    OsComponent out;
    out.os = normalize_os(name);
    if (paren == std::string_view::npos) {
        return out;
    }
    if (part.back() != ')') {
        fail(text, "the OS options in " + quote(part) +
                       " must end with ')', e.g. windows(10.0.17763)/amd64");
    }
    const std::string_view options = part.substr(paren + 1, part.size() - paren - 2);
    check_os_options(text, options);
    const std::size_t plus = options.find('+');
    out.os_version = decode_os_option(text, options.substr(0, plus), "version");
    if (plus == std::string_view::npos) {
        return out;
    }
    std::string_view features = options.substr(plus + 1);
    while (true) {
        const std::size_t next = features.find('+');
        out.os_features.push_back(decode_os_option(text, features.substr(0, next), "feature"));
        if (next == std::string_view::npos) {
            break;
        }
        features.remove_prefix(next + 1);
    }
    return out;
}

void check_component(std::string_view text, std::string_view part, std::string_view what) {
    if (part.empty()) {
        fail(text, "the " + std::string(what) + " is empty; " + std::string(kExpected));
    }
    for (char c : part) {
        if (!is_component_char(c)) {
            fail(text, describe(c) + " is not allowed in the " + std::string(what) + " " +
                           quote(part) + "; use letters, digits, '_', '.' and '-'; " +
                           std::string(kExpected));
        }
    }
}

// Go's path.Join: the non-empty elements joined with '/' and cleaned; "" when all are empty.
std::string join_path(std::initializer_list<std::string_view> elements) {
    std::string joined;
    for (std::string_view element : elements) {
        if (element.empty()) {
            continue;
        }
        if (!joined.empty()) {
            joined += '/';
        }
        joined += element;
    }
    return joined.empty() ? joined : util::clean_path(joined);
}

// containerd Parse. With `arch_variant`, a two-part "arch/variant" whose first part is an
// architecture and not an OS ("arm64/v8", "arm/v6") means that platform on the host's OS; plain
// containerd would read it as OS "arm64", architecture "v8", which matches no image.
Platform parse_specifier(std::string_view text, const Platform& host, bool arch_variant) {
    if (text.empty()) {
        fail(text, "the platform is empty; " + std::string(kExpected));
    }
    if (text.find('*') != std::string_view::npos) {
        fail(text, "wildcards are not supported; name the platform, e.g. linux/arm64");
    }
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t slash = text.find('/', start);
        parts.push_back(text.substr(start, slash - start));
        if (slash == std::string_view::npos) {
            break;
        }
        if (parts.size() == kMaxParts) {
            fail(text, "too many '/'-separated parts; " + std::string(kExpected));
        }
        start = slash + 1;
    }
    OsComponent os = parse_os_component(text, parts[0]);
    for (std::size_t i = 1; i < parts.size(); ++i) {
        check_component(text, parts[i], i == 1 ? "architecture" : "variant");
    }

    if (parts.size() == 1) {
        // A lone OS takes the host's architecture; a lone architecture the host's OS.
        if (is_known_os(os.os)) {
            std::string variant;
            if (host.architecture() == "arm" && host.variant() != "v7") {
                variant = host.variant();
            }
            return Platform(std::move(os.os), host.architecture(), std::move(variant),
                            std::move(os.os_version), std::move(os.os_features));
        }
        auto [arch, variant] = normalize_arch(parts[0], "");
        if (!is_known_arch(arch)) {
            fail(text, "unknown operating system or architecture; " + std::string(kExpected));
        }
        // arm/v7 is written without its variant unless the variant was given (containerd).
        if (arch == "arm" && variant == "v7") {
            variant.clear();
        }
        return Platform(host.os(), std::move(arch), std::move(variant), std::move(os.os_version),
                        std::move(os.os_features));
    }
    if (arch_variant && parts.size() == 2 && !is_known_os(os.os) &&
        parts[0].find('(') == std::string_view::npos) {
        auto [arch, variant] = normalize_arch(parts[0], parts[1]);
        if (is_known_arch(arch)) {
            // Written explicitly, so as in the three-part form arm64 keeps v8 until normalized.
            if (arch == "arm64" && variant.empty()) {
                variant = "v8";
            }
            return Platform(host.os(), std::move(arch), std::move(variant));
        }
    }
    auto [arch, variant] = normalize_arch(parts[1], parts.size() == 3 ? parts[2] : "");
    if (parts.size() == 2 && arch == "arm" && variant == "v7") {
        variant.clear();
    }
    if (parts.size() == 3 && arch == "arm64" && variant.empty()) {
        variant = "v8";
    }
    return Platform(std::move(os.os), std::move(arch), std::move(variant), std::move(os.os_version),
                    std::move(os.os_features));
}

}  // namespace

Platform parse_unnormalized(std::string_view text, const Platform& host) {
    return parse_specifier(text, host, false);
}

Platform parse(std::string_view text, const Platform& host) {
    if (equals_ignore_case(text, "local")) {
        return host.normalized();
    }
    return parse_specifier(text, host, true).normalized();
}

std::vector<Platform> parse_list(std::string_view text, const Platform& host) {
    if (text.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid platform list \"\": it is empty; name at least one platform, e.g. "
                    "linux/amd64,linux/arm64");
    }
    std::vector<Platform> out;
    std::unordered_set<std::string> seen;
    std::size_t index = 0;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) {
            comma = text.size();
        }
        const std::string_view element = text.substr(start, comma - start);
        start = comma + 1;
        ++index;
        if (element.empty()) {
            fail_element(text, index, ErrorCode::kInvalidArgument,
                         " is empty; separate platforms with single commas, e.g. "
                         "linux/amd64,linux/arm64");
        }
        // buildx does not trim either; say so rather than blame the OS component.
        if (is_space(element.front()) || is_space(element.back())) {
            fail_element(text, index, ErrorCode::kInvalidArgument,
                         " " + quote(element) +
                             " has surrounding whitespace; write the list without spaces, e.g. "
                             "linux/amd64,linux/arm64");
        }
        Platform platform;
        try {
            platform = parse(element, host);
        } catch (const Error& e) {
            fail_element(text, index, e.code(), std::string(": ") + e.what());
        }
        // buildx de-duplicates by the formatted, normalized platform before it builds.
        if (seen.insert(platform.to_string()).second) {
            out.push_back(std::move(platform));
        }
    }
    return out;
}

}  // namespace xarch::platform

namespace xarch {

Platform::Platform(std::string os,
                   std::string architecture,
                   std::string variant,
                   std::string os_version,
                   std::vector<std::string> os_features)
    : os_(std::move(os)),
      architecture_(std::move(architecture)),
      variant_(std::move(variant)),
      os_version_(std::move(os_version)),
      os_features_(std::move(os_features)) {}

Platform Platform::parse(std::string_view text) {
    return platform::parse(text, platform::cached_host());
}

Platform Platform::parse_unnormalized(std::string_view text) {
    return platform::parse_unnormalized(text, platform::cached_host());
}

std::vector<Platform> Platform::parse_list(std::string_view text) {
    return platform::parse_list(text, platform::cached_host());
}

std::string Platform::to_string() const {
    if (os_.empty()) {
        return "unknown";
    }
    return platform::join_path({os_, architecture_, variant_});
}

std::string Platform::to_string_all() const {
    if (os_.empty()) {
        return "unknown";
    }
    std::vector<std::string> features = os_features_;
    std::sort(features.begin(), features.end());
    std::string joined;
    for (std::size_t i = 0; i < features.size(); ++i) {
        // Empty and repeated features say nothing; FormatAll drops them.
        if (features[i].empty() || (i > 0 && features[i] == features[i - 1])) {
            continue;
        }
        if (!joined.empty()) {
            joined += '+';
        }
        joined += platform::percent_encode(features[i]);
    }
    std::string os = os_;
    const std::string version = platform::percent_encode(os_version_);
    if (!version.empty() || !joined.empty()) {
        os += '(' + version;
        if (!joined.empty()) {
            os += '+' + joined;
        }
        os += ')';
    }
    return platform::join_path({os, architecture_, variant_});
}

}  // namespace xarch

std::size_t std::hash<xarch::Platform>::operator()(const xarch::Platform& platform) const noexcept {
    // Every field that operator== compares, features in order, mixed as boost::hash_combine does.
    constexpr auto kGolden = static_cast<std::size_t>(0x9e3779b97f4a7c15ULL);
    std::size_t seed = 0;
    auto mix = [&seed](std::string_view value) {
        seed ^= std::hash<std::string_view>{}(value) + kGolden + (seed << 6) + (seed >> 2);
    };
    mix(platform.os());
    mix(platform.architecture());
    mix(platform.variant());
    mix(platform.os_version());
    for (const std::string& feature : platform.os_features()) {
        mix(feature);
    }
    return seed;
}
