// SPDX-License-Identifier: Apache-2.0
// The host's platform, as containerd's DefaultSpec finds it: the architecture from uname, and on
// arm the variant from /proc/cpuinfo (cpuinfo_linux.go).
#include "platform/internal.hpp"
#include "util/strings.hpp"

#include <xarch/platform.hpp>

#include <bit>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#if __has_include(<sys/utsname.h>)
#include <sys/utsname.h>
#define XARCH_HAVE_UNAME 1
#endif

namespace xarch::platform {

using util::trim;
namespace {

// What this library was compiled for: the fallback when uname is unavailable or unknown.
#if defined(__x86_64__) || defined(_M_X64)
constexpr std::string_view kBuildArch = "amd64";
#elif defined(__i386__) || defined(_M_IX86)
constexpr std::string_view kBuildArch = "386";
#elif defined(__aarch64__) || defined(_M_ARM64)
constexpr std::string_view kBuildArch = "arm64";
#elif defined(__arm__) || defined(_M_ARM)
constexpr std::string_view kBuildArch = "arm";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
constexpr std::string_view kBuildArch = "ppc64le";
#elif defined(__powerpc64__)
constexpr std::string_view kBuildArch = "ppc64";
#elif defined(__s390x__)
constexpr std::string_view kBuildArch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
constexpr std::string_view kBuildArch = "riscv64";
#elif defined(__loongarch64)
constexpr std::string_view kBuildArch = "loong64";
#elif defined(__mips64) && defined(__MIPSEL__)
constexpr std::string_view kBuildArch = "mips64le";
#elif defined(__mips64)
constexpr std::string_view kBuildArch = "mips64";
#elif defined(__mips__) && defined(__MIPSEL__)
constexpr std::string_view kBuildArch = "mipsle";
#elif defined(__mips__)
constexpr std::string_view kBuildArch = "mips";
#else
constexpr std::string_view kBuildArch = "";
#endif

constexpr bool kLittleEndian = std::endian::native == std::endian::little;

std::optional<std::string> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    // /proc files report a size of 0, so read to the end rather than by size.
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
}

std::string uname_machine() {
#ifdef XARCH_HAVE_UNAME
    struct utsname name {};
    if (uname(&name) == 0) {
        return name.machine;
    }
#endif
    return {};
}

}  // namespace

std::optional<std::string> cpuinfo_value(std::string_view cpuinfo, std::string_view key) {
    while (!cpuinfo.empty()) {
        const std::size_t end = cpuinfo.find('\n');
        const std::string_view line = cpuinfo.substr(0, end);
        cpuinfo.remove_prefix(end == std::string_view::npos ? cpuinfo.size() : end + 1);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        if (!util::equals_ignore_case(trim(line.substr(0, colon)), key)) {
            continue;
        }
        // containerd splits the line on every ':' and keeps the second field.
        const std::string_view rest = line.substr(colon + 1);
        return std::string(trim(rest.substr(0, rest.find(':'))));
    }
    return std::nullopt;
}

std::optional<std::string> cpu_variant_from_machine(std::string_view machine) {
    const std::string arch = util::to_lower_ascii(machine);
    if (arch == "aarch64") {
        return "8";
    }
    if (arch.size() < 5 || arch.compare(0, 4, "armv") != 0) {
        return std::nullopt;
    }
    const char level = arch[4];
    if (level >= '3' && level <= '8') {
        return std::string(1, level);
    }
    return "unknown";
}

std::string arm_cpu_variant(const std::optional<std::string>& cpuinfo,
                            std::string_view machine,
                            bool arm32) {
    // containerd leaves the variant empty when /proc/cpuinfo cannot be read at all.
    if (!cpuinfo) {
        return {};
    }
    std::optional<std::string> variant = cpuinfo_value(*cpuinfo, "Cpu architecture");
    if (!variant) {
        // Emulated arm (qemu-user on x86) has no such line; the machine name tells.
        variant = cpu_variant_from_machine(machine);
        if (!variant) {
            return {};
        }
    }
    // Raspberry Pi ARMv6 kernels report "CPU architecture: 7".
    if (arm32 && *variant == "7") {
        const std::optional<std::string> model = cpuinfo_value(*cpuinfo, "model name");
        if (model && util::to_lower_ascii(*model).starts_with("armv6-compatible")) {
            *variant = "6";
        }
    }
    const std::string v = util::to_lower_ascii(*variant);
    if (v == "8" || v == "aarch64") {
        return "v8";
    }
    if (v == "7" || v == "7m" || v == "?(12)" || v == "?(13)" || v == "?(14)" || v == "?(15)" ||
        v == "?(16)" || v == "?(17)") {
        return "v7";
    }
    if (v == "6" || v == "6tej") {
        return "v6";
    }
    if (v == "5" || v == "5t" || v == "5te" || v == "5tej") {
        return "v5";
    }
    if (v == "4" || v == "4t") {
        return "v4";
    }
    if (v == "3") {
        return "v3";
    }
    return "unknown";
}

std::string arch_from_machine(std::string_view machine) {
    const std::string m = util::to_lower_ascii(machine);
    if (m == "x86_64" || m == "x86-64" || m == "amd64") {
        return "amd64";
    }
    if (m == "i386" || m == "i486" || m == "i586" || m == "i686" || m == "i86pc" || m == "x86") {
        return "386";
    }
    if (m == "aarch64" || m == "arm64") {
        return "arm64";
    }
    if (m == "aarch64_be" || m == "arm64be") {
        return "arm64be";
    }
    if (m == "armbe" || m == "armeb") {
        return "armbe";
    }
    if (m.starts_with("arm")) {
        // armv7l, armv6l, armv8l (a 32-bit personality on arm64), armv5tel; armv7b is big-endian.
        return m.size() > 4 && m.starts_with("armv") && m.back() == 'b' ? "armbe" : "arm";
    }
    if (m == "loongarch64" || m == "loong64") {
        return "loong64";
    }
    if (m == "riscv32") {
        return "riscv";
    }
    // uname does not say which endianness mips runs in; the process does.
    if (m == "mips64") {
        return kLittleEndian ? "mips64le" : "mips64";
    }
    if (m == "mips") {
        return kLittleEndian ? "mipsle" : "mips";
    }
    auto [arch, variant] = normalize_arch(m, "");
    return is_known_arch(arch) ? arch : std::string();
}

Platform detect_host(std::string_view os,
                     std::string_view machine,
                     const std::function<std::optional<std::string>()>& read_cpuinfo) {
    std::string arch = arch_from_machine(machine);
    if (arch.empty()) {
        arch = kBuildArch;
    }
    std::string variant;
    if (arch == "arm" || arch == "arm64") {
        variant = arm_cpu_variant(read_cpuinfo(), machine, arch == "arm");
    }
    return Platform(std::string(os), std::move(arch), std::move(variant)).normalized();
}

const Platform& cached_host() {
    // The host does not change while we run; containerd caches the CPU variant the same way.
    static const Platform kHost =
        detect_host(kBuildOs, uname_machine(), [] { return read_file("/proc/cpuinfo"); });
    return kHost;
}

}  // namespace xarch::platform

namespace xarch {

Platform Platform::host() {
    return platform::cached_host();
}

}  // namespace xarch
