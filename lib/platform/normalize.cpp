// SPDX-License-Identifier: Apache-2.0
// Canonical names, as containerd/platforms database.go and Normalize define them.
#include "platform/internal.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace xarch::platform {
namespace {

// Go's syslist.go, as containerd copies it.
constexpr std::array<std::string_view, 17> kKnownOs = {
    "aix",   "android", "darwin", "dragonfly", "freebsd", "hurd",    "illumos", "ios", "js",
    "linux", "nacl",    "netbsd", "openbsd",   "plan9",   "solaris", "windows", "zos"};

constexpr std::array<std::string_view, 24> kKnownArch = {
    "386",     "amd64",   "amd64p32", "arm",    "armbe",  "arm64",    "arm64be",   "ppc64",
    "ppc64le", "loong64", "mips",     "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le",
    "ppc",     "riscv",   "riscv64",  "s390",   "s390x",  "sparc",    "sparc64",   "wasm"};

}  // namespace

std::string normalize_os(std::string_view os) {
    if (os.empty()) {
        return std::string(kBuildOs);
    }
    std::string out = util::to_lower_ascii(os);
    if (out == "macos") {
        out = "darwin";
    }
    return out;
}

std::pair<std::string, std::string> normalize_arch(std::string_view architecture,
                                                   std::string_view variant) {
    std::string arch = util::to_lower_ascii(architecture);
    std::string var = util::to_lower_ascii(variant);
    if (arch == "i386") {
        arch = "386";
        var.clear();
    } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
        arch = "amd64";
        if (var == "v1") {
            var.clear();
        }
    } else if (arch == "aarch64" || arch == "arm64") {
        arch = "arm64";
        if (var == "8" || var == "v8" || var == "v8.0") {
            var.clear();
        } else if (var == "9" || var == "9.0" || var == "v9.0") {
            var = "v9";
        }
    } else if (arch == "armhf") {
        arch = "arm";
        var = "v7";
    } else if (arch == "armel") {
        arch = "arm";
        var = "v6";
    } else if (arch == "arm") {
        if (var.empty() || var == "7") {
            var = "v7";
        } else if (var == "5" || var == "6" || var == "8") {
            var.insert(0, "v");
        }
    }
    return {std::move(arch), std::move(var)};
}

bool is_known_os(std::string_view os) {
    return std::find(kKnownOs.begin(), kKnownOs.end(), os) != kKnownOs.end();
}

bool is_known_arch(std::string_view architecture) {
    return std::find(kKnownArch.begin(), kKnownArch.end(), architecture) != kKnownArch.end();
}

}  // namespace xarch::platform

namespace xarch {

Platform Platform::normalized() const {
    auto [arch, variant] = platform::normalize_arch(architecture_, variant_);
    std::vector<std::string> features = os_features_;
    // Sorted and de-duplicated, so that matchers can test feature sets as sorted ranges; empty
    // features stay (containerd only drops them when formatting).
    std::sort(features.begin(), features.end());
    features.erase(std::unique(features.begin(), features.end()), features.end());
    return Platform(platform::normalize_os(os_), std::move(arch), std::move(variant), os_version_,
                    std::move(features));
}

}  // namespace xarch
