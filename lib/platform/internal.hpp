// SPDX-License-Identifier: Apache-2.0
// Internals of the platform module, shared by its sources and its tests. Everything that depends
// on the host takes the host as an argument, so that tests (and the conformance corpus, which
// assumes a linux/amd64 host) do not depend on the machine they run on.
#pragma once

#include <xarch/platform.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::platform {

// The OS this library was compiled for, named as Go's GOOS names it: what containerd uses where
// a platform leaves the OS out.
#if defined(__linux__)
inline constexpr std::string_view kBuildOs = "linux";
#elif defined(__APPLE__)
inline constexpr std::string_view kBuildOs = "darwin";
#elif defined(__FreeBSD__)
inline constexpr std::string_view kBuildOs = "freebsd";
#elif defined(_WIN32)
inline constexpr std::string_view kBuildOs = "windows";
#else
inline constexpr std::string_view kBuildOs = "linux";
#endif

// ---- normalization (containerd database.go) ----

// Lower case, "macos" -> "darwin"; empty -> kBuildOs.
std::string normalize_os(std::string_view os);
// Canonical (architecture, variant): "aarch64" -> arm64, "armhf" -> arm/v7, "arm64/v8" -> arm64.
std::pair<std::string, std::string> normalize_arch(std::string_view architecture,
                                                   std::string_view variant);
// Go's known GOOS / GOARCH values; the argument must be normalized.
bool is_known_os(std::string_view os);
bool is_known_arch(std::string_view architecture);

// ---- parsing and formatting with an injected host ----

// containerd Parse; a missing os or architecture comes from `host`.
Platform parse_unnormalized(std::string_view text, const Platform& host);
// buildx: "local" (any case) -> host normalized, else parse_unnormalized() then normalized();
// beyond containerd, "arch/variant" ("arm64/v8", "arm/v6") is read as a platform of the host OS.
Platform parse(std::string_view text, const Platform& host);
// buildx --platform list: split on ',', each through parse(), duplicates by to_string() dropped.
std::vector<Platform> parse_list(std::string_view text, const Platform& host);

// ---- host detection (containerd cpuinfo_linux.go, defaults_unix.go) ----

// The value of the first "key : value" line whose key equals `key` ignoring case, trimmed; as
// containerd, the value ends at a second ':'. nullopt when no line has the key.
std::optional<std::string> cpuinfo_value(std::string_view cpuinfo, std::string_view key);
// The raw variant implied by a uname machine: "aarch64" -> "8", "armv7l" -> "7", "armv9l" ->
// "unknown"; nullopt for a machine that is not arm.
std::optional<std::string> cpu_variant_from_machine(std::string_view machine);
// The arm variant of the host ("v8", "v7", ..., "unknown"), from the /proc/cpuinfo text
// ("CPU architecture"), else from the uname machine; "" when neither tells (containerd logs and
// leaves it empty). `arm32` enables the Raspberry Pi ARMv6 quirk, as for GOARCH=arm.
std::string arm_cpu_variant(const std::optional<std::string>& cpuinfo,
                            std::string_view machine,
                            bool arm32);
// The GOARCH name of a uname machine ("x86_64" -> amd64, "armv7l" -> arm, "i686" -> 386);
// empty when unknown.
std::string arch_from_machine(std::string_view machine);
// The host platform, normalized, for an OS and a uname machine; `read_cpuinfo` gives the
// /proc/cpuinfo text (nullopt when unreadable) and is only called on arm.
Platform detect_host(std::string_view os,
                     std::string_view machine,
                     const std::function<std::optional<std::string>()>& read_cpuinfo);
// This process's host, detected once: what Platform::host() returns.
const Platform& cached_host();

}  // namespace xarch::platform
