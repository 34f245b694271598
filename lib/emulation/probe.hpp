// SPDX-License-Identifier: Apache-2.0
// Native probing: which foreign platforms this host's CPU and kernel run without emulation,
// found by executing tiny hand-made ELF programs.
#pragma once

#include <xarch/platform.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::emulation {

// Static 32-bit ELF executables that read one byte from stdin and then exit 0: the read keeps
// the process alive until the prober has looked at what the kernel executed.
std::string probe_program_i386();  // int 0x80 system calls
std::string probe_program_arm();   // ARM (A32) EABI, svc system calls

enum class ProbeResult {
    kNative,    // the kernel ran the program itself and it exited 0
    kEmulated,  // it exited 0, but a binfmt_misc interpreter ran it
    kFailed,    // the kernel refused it, it crashed, or it timed out
};

// Runs `program` from a memfd in a child process. Native ELF loaders come before binfmt_misc,
// but a program the CPU cannot run still reaches a binfmt_misc handler (qemu-arm on an arm64
// without AArch32), so success alone does not prove native: the child's /proc/<pid>/exe tells,
// since it is the interpreter when binfmt_misc ran the program and the memfd otherwise.
ProbeResult run_probe(std::string_view program,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

// On an x86-64 CPU and a plain linux/amd64 host: linux/amd64/v2, v3, v4 as far as the CPU
// implements those microarchitecture levels (BuildKit lists them the same way). Else empty.
std::vector<Platform> amd64_levels(const Platform& host);

// `host` first, then its amd64 levels, then the candidates PlatformMatcher::only(host) accepts (linux/386 on amd64,
// linux/arm/v8..v5 on arm64) whose probe runs natively. Not cached.
std::vector<Platform> probe_native_platforms(const Platform& host);

}  // namespace xarch::emulation
