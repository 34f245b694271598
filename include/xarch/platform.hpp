// SPDX-License-Identifier: Apache-2.0
// xarch::Platform: an os/arch[/variant] value, parsed, normalized, formatted and matched the way
// containerd/platforms does it, and parsed from --platform values the way buildx does.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xarch {

class Platform {
public:
    // The zero value: every field empty. Prefer parse() or host().
    Platform() = default;
    // Stores the fields as given (no normalization). Features are kept in the given order.
    Platform(std::string os,
             std::string architecture,
             std::string variant = {},
             std::string os_version = {},
             std::vector<std::string> os_features = {});

    // What buildx does with one --platform value: "local" (any case) is the host, anything else is
    // parsed as containerd does and then normalized: "arm" -> linux/arm/v7, "arm64/v8" ->
    // linux/arm64, "x86_64" -> linux/amd64. Throws Error(kInvalidArgument) quoting the input.
    static Platform parse(std::string_view text);

    // containerd's Parse, without the final normalization: "arm" stays linux/arm (empty variant),
    // "linux/arm64" becomes linux/arm64/v8 only when written with three parts. Missing os or
    // arch default to the host's. Throws Error(kInvalidArgument).
    static Platform parse_unnormalized(std::string_view text);

    // A comma-separated --platform list ("amd64,arm,arm64"): each element through parse(), order
    // kept, duplicates (by normalized to_string()) removed. Empty elements and surrounding spaces
    // are errors, as in buildx. Throws Error(kInvalidArgument) naming the bad element.
    static std::vector<Platform> parse_list(std::string_view text);

    // The platform of this process's host, normalized; on arm the variant is read from the CPU.
    static Platform host();

    // containerd's Normalize: canonical os and architecture names and variants.
    Platform normalized() const;

    const std::string& os() const noexcept { return os_; }
    const std::string& architecture() const noexcept { return architecture_; }
    const std::string& variant() const noexcept { return variant_; }
    const std::string& os_version() const noexcept { return os_version_; }
    const std::vector<std::string>& os_features() const noexcept { return os_features_; }

    // os/arch[/variant] (containerd Format).
    std::string to_string() const;
    // os[(osversion+feature+...)]/arch[/variant] with reserved characters percent-encoded
    // (containerd FormatAll).
    std::string to_string_all() const;

    friend bool operator==(const Platform&, const Platform&) = default;

private:
    std::string os_;
    std::string architecture_;
    std::string variant_;
    std::string os_version_;
    std::vector<std::string> os_features_;
};

// Decides which platforms are acceptable and which of two is preferred (containerd MatchComparer).
// Value type; copies share the immutable implementation.
class PlatformMatcher {
public:
    // What a host of `platform` runs natively, in order of preference: amd64 runs 386, arm64 runs
    // arm/v8..v5, amd64/v3 runs v2 and v1, and so on (containerd Only).
    static PlatformMatcher only(const Platform& platform);
    // Only the platform itself, with non-canonical spellings still matching (containerd
    // OnlyStrict).
    static PlatformMatcher only_strict(const Platform& platform);
    // Any of the listed platforms, preferred in list order (containerd Ordered).
    static PlatformMatcher ordered(std::vector<Platform> platforms);
    // Any of the listed platforms, with no preference between them (containerd Any).
    static PlatformMatcher any(std::vector<Platform> platforms);
    // Any architecture of the platform's OS, OS version and OS features, the platform's own
    // architecture preferred (containerd OnlyOS).
    static PlatformMatcher only_os(const Platform& platform);
    // What containerd's Default() is on a host of `host`: only(host), except on Windows, where it
    // is the host's own platform with a compatible OS version, the higher versions preferred.
    static PlatformMatcher for_host(const Platform& host);

    bool match(const Platform& platform) const;
    // True when `a` is preferred over `b` (a strict weak order usable with std::stable_sort).
    bool less(const Platform& a, const Platform& b) const;

    // The index of the best matching candidate (an index's manifests), or nullopt when none match.
    std::optional<std::size_t> best(std::span<const Platform> candidates) const;

    class Impl;

private:
    explicit PlatformMatcher(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> impl_;
};

}  // namespace xarch

template <>
struct std::hash<xarch::Platform> {
    std::size_t operator()(const xarch::Platform& platform) const noexcept;
};
