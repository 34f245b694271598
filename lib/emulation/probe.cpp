// SPDX-License-Identifier: Apache-2.0
#include "emulation/probe.hpp"

#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <thread>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3: asks for an executable memfd when vm.memfd_noexec is set
#endif

namespace xarch::emulation {

namespace {

constexpr std::uint16_t kEm386 = 3;
constexpr std::uint16_t kEmArm = 40;
constexpr std::uint32_t kEfArmEabi5 = 0x05000000;  // EABI version 5; kernels may refuse OABI
constexpr std::uint32_t kBase386 = 0x08048000;
constexpr std::uint32_t kBaseArm = 0x00010000;
constexpr std::uint32_t kElfHeaderSize = 52;
constexpr std::uint32_t kProgramHeaderSize = 32;

void put(std::string& out, std::uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

// A little-endian ELF32 ET_EXEC with one PT_LOAD segment mapping the whole file, code right
// after the headers.
std::string elf32_executable(std::uint16_t machine,
                             std::uint32_t flags,
                             std::uint32_t base,
                             std::string_view code) {
    const auto size = static_cast<std::uint32_t>(kElfHeaderSize + kProgramHeaderSize + code.size());
    std::string elf =
        "\x7f"
        "ELF";
    elf += '\x01';  // ELFCLASS32
    elf += '\x01';  // ELFDATA2LSB
    elf += '\x01';  // EV_CURRENT
    elf.append(9, '\0');
    put(elf, 2, 2);  // e_type ET_EXEC
    put(elf, machine, 2);
    put(elf, 1, 4);                                           // e_version
    put(elf, base + kElfHeaderSize + kProgramHeaderSize, 4);  // e_entry
    put(elf, kElfHeaderSize, 4);                              // e_phoff
    put(elf, 0, 4);                                           // e_shoff
    put(elf, flags, 4);
    put(elf, kElfHeaderSize, 2);
    put(elf, kProgramHeaderSize, 2);
    put(elf, 1, 2);  // e_phnum
    put(elf, 0, 2);  // e_shentsize
    put(elf, 0, 2);  // e_shnum
    put(elf, 0, 2);  // e_shstrndx
    put(elf, 1, 4);  // p_type PT_LOAD
    put(elf, 0, 4);  // p_offset
    put(elf, base, 4);
    put(elf, base, 4);
    put(elf, size, 4);  // p_filesz
    put(elf, size, 4);  // p_memsz
    put(elf, 5, 4);     // p_flags R+X
    put(elf, 0x1000, 4);
    elf.append(code);
    return elf;
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

util::UniqueFd make_memfd() {
    // MFD_CLOEXEC keeps the fd out of programs other threads start while we probe.
    int fd = ::memfd_create("xarch-probe", MFD_CLOEXEC | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) {
        fd = ::memfd_create("xarch-probe", MFD_CLOEXEC);  // a kernel older than MFD_EXEC
    }
    return util::UniqueFd(fd);
}

struct Pipe {
    util::UniqueFd read;
    util::UniqueFd write;
};

bool make_pipe(Pipe& pipe) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return false;
    }
    pipe.read.reset(fds[0]);
    pipe.write.reset(fds[1]);
    return true;
}

// The exit status of `pid`, killing it after `timeout`; -1 unless it exited normally.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            break;
        }
        if (done < 0 && errno != EINTR) {
            return -1;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string probe_program_i386() {
    static constexpr unsigned char kCode[] = {
        0xb8, 0x03, 0x00, 0x00, 0x00,  // mov eax, 3 (read)
        0x31, 0xdb,                    // xor ebx, ebx (fd 0)
        0x89, 0xe1,                    // mov ecx, esp (buffer: argc's slot)
        0xba, 0x01, 0x00, 0x00, 0x00,  // mov edx, 1
        0xcd, 0x80,                    // int 0x80
        0xb8, 0x01, 0x00, 0x00, 0x00,  // mov eax, 1 (exit)
        0x31, 0xdb,                    // xor ebx, ebx (status 0)
        0xcd, 0x80,                    // int 0x80
    };
    return elf32_executable(kEm386, 0, kBase386,
                            {reinterpret_cast<const char*>(kCode), sizeof kCode});
}

std::string probe_program_arm() {
    static constexpr std::uint32_t kCode[] = {
        0xe3a00000,  // mov r0, #0 (fd 0)
        0xe1a0100d,  // mov r1, sp (buffer: argc's slot)
        0xe3a02001,  // mov r2, #1
        0xe3a07003,  // mov r7, #3 (read)
        0xef000000,  // svc #0
        0xe3a00000,  // mov r0, #0 (status 0)
        0xe3a07001,  // mov r7, #1 (exit)
        0xef000000,  // svc #0
    };
    std::string code;
    for (const auto word : kCode) {
        put(code, word, 4);
    }
    return elf32_executable(kEmArm, kEfArmEabi5, kBaseArm, code);
}

ProbeResult run_probe(std::string_view program, std::chrono::milliseconds timeout) {
    const util::UniqueFd memfd = make_memfd();
    struct stat image {};
    if (!memfd || !write_all(memfd.get(), program) || ::fstat(memfd.get(), &image) != 0) {
        return ProbeResult::kFailed;
    }
    Pipe input;      // the child's stdin; closing our end lets the program exit
    Pipe exec_done;  // close-on-exec: EOF once the exec happened, an errno if it failed
    if (!make_pipe(input) || !make_pipe(exec_done)) {
        return ProbeResult::kFailed;
    }
    // Everything the child needs is ready before fork: it may only make async-signal-safe calls.
    char name[] = "xarch-probe";
    char* const argv[] = {name, nullptr};
    char* const envp[] = {nullptr};
    const pid_t pid = ::fork();
    if (pid < 0) {
        return ProbeResult::kFailed;
    }
    if (pid == 0) {
        // A copy without close-on-exec: binfmt_misc refuses (ENOENT) to hand an interpreter a
        // program whose /dev/fd path closes on exec, which would hide an emulated run as a
        // failed one. Emulated runs must happen, to be told apart below.
        const int program_fd = ::dup(memfd.get());
        if (program_fd >= 0 && ::dup2(input.read.get(), STDIN_FILENO) >= 0) {
            ::fexecve(program_fd, argv, envp);
        }
        const int error = errno;
        [[maybe_unused]] const auto n = ::write(exec_done.write.get(), &error, sizeof error);
        ::_exit(127);
    }
    input.read.reset();
    exec_done.write.reset();

    // Bounded by the timeout too: a process another thread forks meanwhile may hold the pipe.
    pollfd ready{exec_done.read.get(), POLLIN, 0};
    int polled = 0;
    do {
        polled = ::poll(&ready, 1, static_cast<int>(timeout.count()));
    } while (polled < 0 && errno == EINTR);
    int exec_error = 0;
    ssize_t n = -1;
    if (polled > 0) {
        do {
            n = ::read(exec_done.read.get(), &exec_error, sizeof exec_error);
        } while (n < 0 && errno == EINTR);
    }
    bool native = false;
    if (n == 0) {
        // The program is running (blocked on stdin): see which file the kernel executed.
        const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
        struct stat running {};
        native = ::stat(exe.c_str(), &running) == 0 && running.st_dev == image.st_dev &&
                 running.st_ino == image.st_ino;
    }
    input.write.reset();
    const int status = wait_for(pid, timeout);
    if (n != 0 || status != 0) {
        return ProbeResult::kFailed;
    }
    return native ? ProbeResult::kNative : ProbeResult::kEmulated;
}

std::vector<Platform> amd64_levels(const Platform& host) {
    std::vector<Platform> levels;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (host.os() != "linux" || host.architecture() != "amd64" || !host.variant().empty()) {
        return levels;
    }
    // The x86-64 microarchitecture levels of the psABI, as the CPU reports them (cpuid).
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v2")) {
        levels.emplace_back("linux", "amd64", "v2");
    }
    if (__builtin_cpu_supports("x86-64-v3")) {
        levels.emplace_back("linux", "amd64", "v3");
    }
    if (__builtin_cpu_supports("x86-64-v4")) {
        levels.emplace_back("linux", "amd64", "v4");
    }
#else
    (void)host;
#endif
    return levels;
}

std::vector<Platform> probe_native_platforms(const Platform& host) {
    struct Probe {
        std::string (*program)();
        std::vector<Platform> candidates;  // what a native run of the program proves runnable
    };
    const std::array probes{
        Probe{&probe_program_i386, {Platform("linux", "386")}},
        Probe{&probe_program_arm,
              {Platform("linux", "arm", "v8"), Platform("linux", "arm", "v7"),
               Platform("linux", "arm", "v6"), Platform("linux", "arm", "v5")}},
    };
    std::vector<Platform> natives{host};
    const auto levels = amd64_levels(host);
    natives.insert(natives.end(), levels.begin(), levels.end());
    const auto matcher = PlatformMatcher::only(host);
    for (const auto& probe : probes) {
        std::vector<Platform> candidates;
        for (const auto& candidate : probe.candidates) {
            if (matcher.match(candidate) &&
                std::find(natives.begin(), natives.end(), candidate) == natives.end()) {
                candidates.push_back(candidate);
            }
        }
        if (!candidates.empty() && run_probe(probe.program()) == ProbeResult::kNative) {
            natives.insert(natives.end(), candidates.begin(), candidates.end());
        }
    }
    return natives;
}

}  // namespace xarch::emulation
