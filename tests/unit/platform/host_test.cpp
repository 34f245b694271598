// SPDX-License-Identifier: Apache-2.0
// Host detection: uname machine names, /proc/cpuinfo parsing (sample texts from real machines),
// and the real host of this test run.
#include "platform/internal.hpp"

#include <xarch/platform.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace {

using xarch::Platform;
using xarch::platform::arch_from_machine;
using xarch::platform::arm_cpu_variant;
using xarch::platform::cpu_variant_from_machine;
using xarch::platform::cpuinfo_value;
using xarch::platform::detect_host;

// Raspberry Pi 1 (BCM2835): an ARMv6 core whose kernel reports architecture 7.
constexpr const char* kRaspberryPi1 =
    "processor\t: 0\n"
    "model name\t: ARMv6-compatible processor rev 7 (v6l)\n"
    "BogoMIPS\t: 697.95\n"
    "Features\t: half thumb fastmult vfp edsp java tls \n"
    "CPU implementer\t: 0x41\n"
    "CPU architecture: 7\n"
    "CPU variant\t: 0x0\n"
    "CPU part\t: 0xb76\n"
    "\n"
    "Hardware\t: BCM2835\n";

// Raspberry Pi 3 running a 32-bit kernel.
constexpr const char* kRaspberryPi3 =
    "processor\t: 0\r\n"
    "model name\t: ARMv7 Processor rev 4 (v7l)\r\n"
    "CPU architecture: 7\r\n";

// An arm64 server (Graviton 2).
constexpr const char* kArm64 =
    "processor\t: 0\n"
    "BogoMIPS\t: 243.75\n"
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid\n"
    "CPU implementer\t: 0x41\n"
    "CPU architecture: 8\n"
    "CPU variant\t: 0x3\n"
    "CPU part\t: 0xd0c\n";

// An x86 /proc/cpuinfo, as qemu-user shows it to an emulated arm process: no CPU architecture.
constexpr const char* kX86 =
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
    "flags\t\t: fpu vme de pse tsc msr\n";

TEST(PlatformCpuinfo, FindsFieldsIgnoringCase) {
    EXPECT_EQ(cpuinfo_value(kArm64, "Cpu architecture"), "8");
    EXPECT_EQ(cpuinfo_value(kArm64, "cpu ARCHITECTURE"), "8");
    EXPECT_EQ(cpuinfo_value(kRaspberryPi3, "model name"), "ARMv7 Processor rev 4 (v7l)");
    EXPECT_EQ(cpuinfo_value(kRaspberryPi3, "CPU architecture"), "7");
    EXPECT_EQ(cpuinfo_value(kX86, "CPU architecture"), std::nullopt);
    EXPECT_EQ(cpuinfo_value("", "CPU architecture"), std::nullopt);
    // The first line wins, and like containerd the value ends at a second ':'.
    EXPECT_EQ(cpuinfo_value("a: 1\na: 2\n", "a"), "1");
    EXPECT_EQ(cpuinfo_value("a : x:y", "a"), "x");
    EXPECT_EQ(cpuinfo_value("no colon here\n:\n", ""), "");
}

TEST(PlatformCpuinfo, VariantFromCpuArchitecture) {
    EXPECT_EQ(arm_cpu_variant(kArm64, "aarch64", false), "v8");
    EXPECT_EQ(arm_cpu_variant(kRaspberryPi3, "armv7l", true), "v7");
    EXPECT_EQ(arm_cpu_variant("CPU architecture: 5TEJ\n", "armv5tel", true), "v5");
    EXPECT_EQ(arm_cpu_variant("CPU architecture: 6TEJ\n", "armv6l", true), "v6");
    EXPECT_EQ(arm_cpu_variant("CPU architecture: 7M\n", "armv7l", true), "v7");
    EXPECT_EQ(arm_cpu_variant("CPU architecture: ?(12)\n", "armv7l", true), "v7");
    EXPECT_EQ(arm_cpu_variant("CPU architecture: 4T\n", "armv4tl", true), "v4");
    EXPECT_EQ(arm_cpu_variant("CPU architecture: AArch64\n", "aarch64", false), "v8");
    EXPECT_EQ(arm_cpu_variant("CPU architecture: 9\n", "aarch64", false), "unknown");
}

TEST(PlatformCpuinfo, RaspberryPiArmv6Quirk) {
    EXPECT_EQ(arm_cpu_variant(kRaspberryPi1, "armv6l", true), "v6");
    // The quirk is for 32-bit arm only, as containerd applies it for GOARCH=arm.
    EXPECT_EQ(arm_cpu_variant(kRaspberryPi1, "armv6l", false), "v7");
}

TEST(PlatformCpuinfo, FallsBackToTheMachine) {
    EXPECT_EQ(arm_cpu_variant(kX86, "armv7l", true), "v7");
    EXPECT_EQ(arm_cpu_variant(kX86, "armv6l", true), "v6");
    EXPECT_EQ(arm_cpu_variant(kX86, "aarch64", false), "v8");
    EXPECT_EQ(arm_cpu_variant(kX86, "armv9l", true), "unknown");
    EXPECT_EQ(arm_cpu_variant(kX86, "x86_64", true), "");
    EXPECT_EQ(arm_cpu_variant(std::nullopt, "armv7l", true), "");
}

TEST(PlatformCpuinfo, VariantFromMachine) {
    EXPECT_EQ(cpu_variant_from_machine("aarch64"), "8");
    EXPECT_EQ(cpu_variant_from_machine("Armv8"), "8");
    EXPECT_EQ(cpu_variant_from_machine("armv7"), "7");
    EXPECT_EQ(cpu_variant_from_machine("armv6"), "6");
    EXPECT_EQ(cpu_variant_from_machine("armv5"), "5");
    EXPECT_EQ(cpu_variant_from_machine("armv4"), "4");
    EXPECT_EQ(cpu_variant_from_machine("armv3"), "3");
    EXPECT_EQ(cpu_variant_from_machine("armv9"), "unknown");
    EXPECT_EQ(cpu_variant_from_machine("armxxxx"), std::nullopt);
    EXPECT_EQ(cpu_variant_from_machine("armv"), std::nullopt);
    EXPECT_EQ(cpu_variant_from_machine(""), std::nullopt);
}

TEST(PlatformHost, MachineNames) {
    EXPECT_EQ(arch_from_machine("x86_64"), "amd64");
    EXPECT_EQ(arch_from_machine("i686"), "386");
    EXPECT_EQ(arch_from_machine("aarch64"), "arm64");
    EXPECT_EQ(arch_from_machine("armv7l"), "arm");
    EXPECT_EQ(arch_from_machine("armv8l"), "arm");
    EXPECT_EQ(arch_from_machine("ppc64le"), "ppc64le");
    EXPECT_EQ(arch_from_machine("s390x"), "s390x");
    EXPECT_EQ(arch_from_machine("riscv64"), "riscv64");
    EXPECT_EQ(arch_from_machine("loongarch64"), "loong64");
    EXPECT_EQ(arch_from_machine("mips64"), "mips64le");  // little-endian test hosts only
    EXPECT_EQ(arch_from_machine("vax"), "");
}

TEST(PlatformHost, DetectsArmVariants) {
    auto text = [](const char* s) { return [s] { return std::optional<std::string>(s); }; };
    EXPECT_EQ(detect_host("linux", "aarch64", text(kArm64)), Platform("linux", "arm64"));
    EXPECT_EQ(detect_host("linux", "armv7l", text(kRaspberryPi3)), Platform("linux", "arm", "v7"));
    EXPECT_EQ(detect_host("linux", "armv6l", text(kRaspberryPi1)), Platform("linux", "arm", "v6"));
    EXPECT_EQ(detect_host("linux", "armv7l", [] { return std::optional<std::string>(); }),
              Platform("linux", "arm", "v7"));
}

TEST(PlatformHost, ReadsCpuinfoOnlyOnArm) {
    bool read = false;
    const Platform host = detect_host("linux", "x86_64", [&] {
        read = true;
        return std::optional<std::string>();
    });
    EXPECT_FALSE(read);
    EXPECT_EQ(host, Platform("linux", "amd64"));
}

TEST(PlatformHost, ThisMachineIsSane) {
    const Platform host = Platform::host();
    EXPECT_EQ(host.os(), "linux");
    EXPECT_FALSE(host.architecture().empty());
    EXPECT_TRUE(xarch::platform::is_known_arch(host.architecture())) << host.to_string();
    EXPECT_EQ(host, host.normalized());
    EXPECT_EQ(host, Platform::host());
#if defined(__x86_64__)
    EXPECT_EQ(host.to_string(), "linux/amd64");
#endif
    EXPECT_TRUE(xarch::PlatformMatcher::only(host).match(host));
}

}  // namespace
