// SPDX-License-Identifier: Apache-2.0
// PlatformMatcher: containerd/platforms NewMatcher, Only, OnlyStrict, OnlyOS, Ordered, Any and
// the Windows Default() comparer (compare.go, platforms.go, platform_windows_compat.go).
#include "platform/internal.hpp"

#include <xarch/platform.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch {

// The behaviour behind a PlatformMatcher; one subclass per containerd MatchComparer.
class PlatformMatcher::Impl {
public:
    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    virtual ~Impl() = default;

    virtual bool match(const Platform& platform) const = 0;
    virtual bool less(const Platform& a, const Platform& b) const = 0;
};

}  // namespace xarch

namespace xarch::platform {
namespace {

// Windows major.minor.build; all zero when the version does not parse (containerd).
struct WindowsVersion {
    std::uint8_t major = 0;
    std::uint8_t minor = 0;
    std::uint16_t build = 0;

    bool empty() const { return major == 0 && minor == 0 && build == 0; }
};

// Windows Server 2022 and 2025: from 2022 on, a host also runs the previous LTSC's containers.
constexpr std::uint16_t kLtsc2022 = 20348;
constexpr std::array<std::uint16_t, 2> kCompatLtscReleases = {kLtsc2022, 26100};

// Go's strconv.ParseUint(text, 10, bits) bounded by `max`.
std::optional<unsigned> parse_uint(std::string_view text, unsigned max) {
    if (text.empty()) {
        return std::nullopt;
    }
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
        if (value > max) {
            return std::nullopt;
        }
    }
    return value;
}

WindowsVersion windows_version(std::string_view text) {
    if (std::count(text.begin(), text.end(), '.') < 2) {
        return {};
    }
    const std::size_t dot1 = text.find('.');
    const std::size_t dot2 = text.find('.', dot1 + 1);
    const std::size_t dot3 = text.find('.', dot2 + 1);
    const auto major = parse_uint(text.substr(0, dot1), 0xff);
    const auto minor = parse_uint(text.substr(dot1 + 1, dot2 - dot1 - 1), 0xff);
    const auto build = parse_uint(
        text.substr(dot2 + 1, dot3 == std::string_view::npos ? dot3 : dot3 - dot2 - 1), 0xffff);
    if (!major || !minor || !build) {
        return {};
    }
    return {static_cast<std::uint8_t>(*major), static_cast<std::uint8_t>(*minor),
            static_cast<std::uint16_t>(*build)};
}

// Can a Windows host of `host` run a container image built for `image`?
bool windows_compatible(const WindowsVersion& host, const WindowsVersion& image) {
    if (host.major != image.major || host.minor != image.minor) {
        return false;
    }
    if (host.build < kLtsc2022) {
        return host.build == image.build;
    }
    // The newest LTSC older than the host is the oldest image build it runs.
    std::uint16_t oldest = kLtsc2022;
    for (auto it = kCompatLtscReleases.rbegin(); it != kCompatLtscReleases.rend(); ++it) {
        if (host.build > *it) {
            oldest = *it;
            break;
        }
    }
    return oldest <= image.build && image.build <= host.build;
}

// An unknown host version or an image without one matches anything.
bool windows_version_matches(const WindowsVersion& host, std::string_view image_version) {
    return host.empty() || image_version.empty() ||
           windows_compatible(host, windows_version(image_version));
}

// Are all of `wanted` in `have`? Both sorted and unique (normalized).
bool has_features(const std::vector<std::string>& have, const std::vector<std::string>& wanted) {
    return std::includes(have.begin(), have.end(), wanted.begin(), wanted.end());
}

Platform without_features(const Platform& p) {
    return Platform(p.os(), p.architecture(), p.variant(), p.os_version());
}

// containerd NewMatcher: the same os, architecture and variant after normalization, features a
// subset of the matcher's, and on Windows a compatible OS version with win32k ignored.
class SingleMatcher {
public:
    explicit SingleMatcher(const Platform& platform)
        : platform_(platform.normalized()),
          // containerd tests the OS as given, before normalization.
          windows_(platform.os() == "windows"),
          version_(windows_ ? windows_version(platform.os_version()) : WindowsVersion{}) {}

    // `normalized` is candidate.normalized(), computed once by the caller for all matchers.
    bool match(const Platform& candidate, const Platform& normalized) const {
        if (platform_.os() != normalized.os() ||
            platform_.architecture() != normalized.architecture() ||
            platform_.variant() != normalized.variant()) {
            return false;
        }
        if (!windows_) {
            return has_features(platform_.os_features(), normalized.os_features());
        }
        if (!windows_version_matches(version_, candidate.os_version())) {
            return false;
        }
        // Older containerd ignored win32k; it drops one occurrence before normalizing, so the
        // feature only disappears when the candidate listed it once.
        const auto& raw = candidate.os_features();
        if (std::count(raw.begin(), raw.end(), "win32k") != 1) {
            return has_features(platform_.os_features(), normalized.os_features());
        }
        std::vector<std::string> features = normalized.os_features();
        features.erase(std::find(features.begin(), features.end(), "win32k"));
        return has_features(platform_.os_features(), features);
    }

private:
    Platform platform_;
    bool windows_;
    WindowsVersion version_;
};

std::vector<SingleMatcher> make_matchers(const std::vector<Platform>& platforms) {
    std::vector<SingleMatcher> out;
    out.reserve(platforms.size());
    for (const Platform& p : platforms) {
        out.emplace_back(p);
    }
    return out;
}

// containerd orderedPlatformComparer (Only, OnlyStrict, Ordered): a platform matched by an
// earlier matcher wins; among equals, the one with more OS features.
class OrderedMatcher final : public PlatformMatcher::Impl {
public:
    explicit OrderedMatcher(std::vector<SingleMatcher> matchers) : matchers_(std::move(matchers)) {}

    bool match(const Platform& platform) const override {
        const Platform normalized = platform.normalized();
        return std::any_of(matchers_.begin(), matchers_.end(),
                           [&](const SingleMatcher& m) { return m.match(platform, normalized); });
    }

    bool less(const Platform& a, const Platform& b) const override {
        const Platform na = a.normalized();
        const Platform nb = b.normalized();
        for (const SingleMatcher& m : matchers_) {
            const bool am = m.match(a, na);
            const bool bm = m.match(b, nb);
            if (am && !bm) {
                return true;
            }
            if (am || bm) {
                return am && bm && a.os_features().size() > b.os_features().size();
            }
        }
        // Neither matches as is: rank them as if they had no features.
        if (!a.os_features().empty() || !b.os_features().empty()) {
            return less(without_features(a), without_features(b));
        }
        return false;
    }

private:
    std::vector<SingleMatcher> matchers_;
};

// containerd anyPlatformComparer: matching platforms first, in no particular order, save that
// among two matching ones the one with more OS features wins.
class AnyMatcher final : public PlatformMatcher::Impl {
public:
    explicit AnyMatcher(std::vector<SingleMatcher> matchers) : matchers_(std::move(matchers)) {}

    bool match(const Platform& platform) const override {
        const Platform normalized = platform.normalized();
        return std::any_of(matchers_.begin(), matchers_.end(),
                           [&](const SingleMatcher& m) { return m.match(platform, normalized); });
    }

    bool less(const Platform& a, const Platform& b) const override {
        const bool am = match(a);
        const bool bm = match(b);
        if (am && bm) {
            return a.os_features().size() > b.os_features().size();
        }
        if (!am && !bm && (!a.os_features().empty() || !b.os_features().empty())) {
            return less(without_features(a), without_features(b));
        }
        return am && !bm;
    }

private:
    std::vector<SingleMatcher> matchers_;
};

// containerd onlyOSComparer: any architecture of the OS (version, features); the platform's own
// architecture ranks first.
class OnlyOsMatcher final : public PlatformMatcher::Impl {
public:
    explicit OnlyOsMatcher(const Platform& platform)
        : platform_(platform.normalized()),
          windows_(platform_.os() == "windows"),
          version_(windows_ ? windows_version(platform_.os_version()) : WindowsVersion{}),
          arch_order_({SingleMatcher(platform_)}) {}

    bool match(const Platform& platform) const override {
        const Platform normalized = platform.normalized();
        if (platform_.os() != normalized.os()) {
            return false;
        }
        if (windows_ && !windows_version_matches(version_, platform.os_version())) {
            return false;
        }
        return has_features(platform_.os_features(), normalized.os_features());
    }

    bool less(const Platform& a, const Platform& b) const override {
        const bool am = match(a);
        const bool bm = match(b);
        if (am && !bm) {
            return true;
        }
        if (!am) {
            return false;
        }
        return arch_order_.less(a, b);
    }

private:
    Platform platform_;
    bool windows_;
    WindowsVersion version_;
    OrderedMatcher arch_order_;
};

// containerd windowsMatchComparer, Default() on Windows: the host platform, the higher OS
// version (compared as text, as containerd does) preferred.
class WindowsDefaultMatcher final : public PlatformMatcher::Impl {
public:
    explicit WindowsDefaultMatcher(const Platform& host) : matcher_(host) {}

    bool match(const Platform& platform) const override {
        return matcher_.match(platform, platform.normalized());
    }

    bool less(const Platform& a, const Platform& b) const override {
        const bool am = match(a);
        const bool bm = match(b);
        if (am && bm) {
            return a.os_version() > b.os_version();
        }
        return am && !bm;
    }

private:
    SingleMatcher matcher_;
};

// Go's strconv.Atoi of a "vN" variant (one leading 'v' dropped). Levels beyond kMaxLevel are
// treated as unparsable: containerd would list every level below (billions for "v9999999999").
constexpr long kMaxLevel = 64;

std::optional<long> variant_level(std::string_view variant) {
    if (variant.starts_with('v')) {
        variant.remove_prefix(1);
    }
    bool negative = false;
    if (!variant.empty() && (variant.front() == '+' || variant.front() == '-')) {
        negative = variant.front() == '-';
        variant.remove_prefix(1);
    }
    if (variant.empty()) {
        return std::nullopt;
    }
    long value = 0;
    for (char c : variant) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
        if (value > kMaxLevel) {
            // Too large to be a real level; with a sign it could only be below every level.
            return negative ? std::optional<long>(-1) : std::nullopt;
        }
    }
    return negative ? -value : value;
}

Platform with_arch(const Platform& p, std::string arch, std::string variant) {
    return Platform(p.os(), std::move(arch), std::move(variant), p.os_version(), p.os_features());
}

// arm64 ISA levels a host of each variant runs: per major version, the highest minor it runs.
struct Arm64Level {
    std::string_view variant;
    std::array<std::pair<int, int>, 2> majors;  // {major, highest minor}; {0, -1} = none
};
constexpr std::array<Arm64Level, 20> kArm64Levels = {{
    {"v8", {{{8, 0}, {0, -1}}}},   {"v8.0", {{{8, 0}, {0, -1}}}}, {"v8.1", {{{8, 1}, {0, -1}}}},
    {"v8.2", {{{8, 2}, {0, -1}}}}, {"v8.3", {{{8, 3}, {0, -1}}}}, {"v8.4", {{{8, 4}, {0, -1}}}},
    {"v8.5", {{{8, 5}, {0, -1}}}}, {"v8.6", {{{8, 6}, {0, -1}}}}, {"v8.7", {{{8, 7}, {0, -1}}}},
    {"v8.8", {{{8, 8}, {0, -1}}}}, {"v8.9", {{{8, 9}, {0, -1}}}}, {"v9", {{{9, 0}, {8, 5}}}},
    {"v9.0", {{{9, 0}, {8, 5}}}},  {"v9.1", {{{9, 1}, {8, 6}}}},  {"v9.2", {{{9, 2}, {8, 7}}}},
    {"v9.3", {{{9, 3}, {8, 8}}}},  {"v9.4", {{{9, 4}, {8, 9}}}},  {"v9.5", {{{9, 5}, {8, 9}}}},
    {"v9.6", {{{9, 6}, {8, 9}}}},  {"v9.7", {{{9, 7}, {8, 9}}}},
}};

// containerd platformVector: what a host of the (normalized) platform runs, best first.
std::vector<Platform> platform_vector(const Platform& platform) {
    std::vector<Platform> vector;
    const std::string& arch = platform.architecture();
    if (arch == "amd64") {
        vector.push_back(platform);
        if (auto level = variant_level(platform.variant()); level && *level > 1) {
            for (long v = *level - 1; v >= 1; --v) {
                vector.push_back(with_arch(platform, "amd64", "v" + std::to_string(v)));
            }
        }
        vector.push_back(with_arch(platform, "386", ""));
    } else if (arch == "arm") {
        vector.push_back(platform);
        if (auto level = variant_level(platform.variant()); level && *level > 5) {
            for (long v = *level - 1; v >= 5; --v) {
                vector.push_back(with_arch(platform, "arm", "v" + std::to_string(v)));
            }
        }
    } else if (arch == "arm64") {
        const std::string variant = platform.variant().empty() ? "v8" : platform.variant();
        const auto it = std::find_if(kArm64Levels.begin(), kArm64Levels.end(),
                                     [&](const Arm64Level& l) { return l.variant == variant; });
        // An unknown arm64 variant runs nothing, not even itself (containerd).
        if (it != kArm64Levels.end()) {
            for (const auto& [major, highest] : it->majors) {
                for (int minor = highest; minor >= 0; --minor) {
                    std::string v = "v" + std::to_string(major);
                    if (minor != 0) {
                        v += "." + std::to_string(minor);
                    }
                    vector.push_back(with_arch(platform, "arm64", std::move(v)));
                }
            }
            // Every arm64 level also runs 32-bit arm/v8 and below.
            const std::vector<Platform> arm = platform_vector(with_arch(platform, "arm", "v8"));
            vector.insert(vector.end(), arm.begin(), arm.end());
        }
    } else {
        vector.push_back(platform);
    }
    return vector;
}

}  // namespace
}  // namespace xarch::platform

namespace xarch {

PlatformMatcher::PlatformMatcher(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

PlatformMatcher PlatformMatcher::only(const Platform& platform) {
    return ordered(platform::platform_vector(platform.normalized()));
}

PlatformMatcher PlatformMatcher::only_strict(const Platform& platform) {
    return ordered({platform.normalized()});
}

PlatformMatcher PlatformMatcher::ordered(std::vector<Platform> platforms) {
    return PlatformMatcher(
        std::make_shared<platform::OrderedMatcher>(platform::make_matchers(platforms)));
}

PlatformMatcher PlatformMatcher::any(std::vector<Platform> platforms) {
    return PlatformMatcher(
        std::make_shared<platform::AnyMatcher>(platform::make_matchers(platforms)));
}

PlatformMatcher PlatformMatcher::only_os(const Platform& platform) {
    return PlatformMatcher(std::make_shared<platform::OnlyOsMatcher>(platform));
}

PlatformMatcher PlatformMatcher::for_host(const Platform& host) {
    if (host.os() == "windows") {
        return PlatformMatcher(std::make_shared<platform::WindowsDefaultMatcher>(host));
    }
    return only(host);
}

// A moved-from matcher has no implementation; it matches nothing rather than crash.
bool PlatformMatcher::match(const Platform& platform) const {
    return impl_ && impl_->match(platform);
}

bool PlatformMatcher::less(const Platform& a, const Platform& b) const {
    return impl_ && impl_->less(a, b);
}

std::optional<std::size_t> PlatformMatcher::best(std::span<const Platform> candidates) const {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (!match(candidates[i])) {
            continue;
        }
        // Strictly better only, so the first of equally good candidates wins.
        if (!best || less(candidates[i], candidates[*best])) {
            best = i;
        }
    }
    return best;
}

}  // namespace xarch
