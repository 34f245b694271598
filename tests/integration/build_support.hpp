// SPDX-License-Identifier: Apache-2.0
// What the build tests share: the seed's platforms and Dockerfile, a recorder of progress events,
// and the QEMU emulators a suite registers when missing (and removes again afterwards).
#pragma once

#include "integration/test_support.hpp"

#include <xarch/emulators.hpp>
#include <xarch/error.hpp>
#include <xarch/progress.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::test {

// The platforms the seed builds, with what `uname -m` says on each and the TARGETARCH it gets.
struct SeedPlatform {
    const char* platform;
    const char* machine;
    const char* targetarch;
};
inline constexpr SeedPlatform kSeedPlatforms[] = {
    {"linux/amd64", "x86_64", "amd64"},
    {"linux/arm64", "aarch64", "arm64"},
    {"linux/arm/v7", "armv7l", "arm"},
};

// The seed's Dockerfile (examples/seed-demo) byte for byte, only the base image's host changed.
inline std::string seed_dockerfile(const std::string& seed_file, const std::string& base) {
    std::string dockerfile = read_file(seed_file);
    const std::string seed_base = "busybox:uclibc";
    const std::size_t at = dockerfile.find(seed_base);
    EXPECT_NE(at, std::string::npos) << dockerfile;
    if (at != std::string::npos) {
        dockerfile.replace(at, seed_base.size(), base);
    }
    return dockerfile;
}

// A shell word for `s`.
inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

inline bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Every event of a build, with the step names their vertexes carry (log events may omit it).
struct Events {
    std::mutex mutex;
    std::vector<ProgressEvent> all;
    std::map<std::string, std::string> names;
    // Called (under the lock) with each event as it comes.
    std::function<void(const ProgressEvent&)> on_event;

    ProgressCallback callback() {
        return [this](const ProgressEvent& e) {
            std::lock_guard lock(mutex);
            if (!e.name.empty()) {
                names[e.vertex] = e.name;
            }
            all.push_back(e);
            if (on_event) {
                on_event(e);
            }
        };
    }
    // The step names of the events of one kind, in order.
    std::vector<std::string> step_names(ProgressEvent::Kind kind) {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const ProgressEvent& e : all) {
            if (e.kind == kind) {
                out.push_back(e.name);
            }
        }
        return out;
    }
    // How many events of one kind have a step name containing `text`.
    std::size_t count_containing(ProgressEvent::Kind kind, std::string_view text) {
        std::size_t n = 0;
        for (const std::string& name : step_names(kind)) {
            n += name.find(text) != std::string::npos ? 1 : 0;
        }
        return n;
    }
    // The names of the steps that started.
    std::vector<std::string> started() {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const ProgressEvent& e : all) {
            if (e.kind == ProgressEvent::Kind::kVertexStarted) {
                out.push_back(names[e.vertex]);
            }
        }
        return out;
    }
    // The log lines of the steps whose name contains `step`.
    std::vector<std::string> logs(std::string_view step) {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const ProgressEvent& e : all) {
            if (e.kind == ProgressEvent::Kind::kLog &&
                names[e.vertex].find(step) != std::string::npos) {
                for (const std::string& line : lines_of(e.message)) {
                    out.push_back(line);
                }
            }
        }
        return out;
    }
    // Every text an event carries: log lines, errors, warnings, statuses.
    std::string all_text() {
        std::lock_guard lock(mutex);
        std::string out;
        for (const ProgressEvent& e : all) {
            out += e.name + "\n" + e.id + "\n" + e.message + "\n";
        }
        return out;
    }
};

// linux/arm64 and linux/arm/v7 through QEMU: registered for a suite when missing (as root), and
// only those removed again.
class ForeignEmulators {
public:
    static void register_missing() {
        if (runnable() || ::geteuid() != 0) {
            return;
        }
        try {
            for (const emulators::Change& c : emulators::install("arm64,arm")) {
                if (c.outcome == emulators::Outcome::kInstalled) {
                    registered().push_back(c.name);
                }
            }
        } catch (const Error& e) {
            std::cerr << "cannot register the emulators: " << e.what() << "\n";
        }
    }

    static void remove_registered() {
        for (const std::string& name : registered()) {
            try {
                emulators::uninstall(name);
            } catch (const Error& e) {
                std::cerr << "cannot remove the emulator " << name << ": " << e.what() << "\n";
            }
        }
        registered().clear();
    }

    static bool runnable() {
        bool arm64 = false;
        bool arm = false;
        for (const Platform& p : emulators::runnable_platforms()) {
            arm64 = arm64 || p.to_string() == "linux/arm64";
            arm = arm || p.to_string() == "linux/arm/v7";
        }
        return arm64 && arm;
    }

private:
    static std::vector<std::string>& registered() {
        static std::vector<std::string> names;
        return names;
    }
};

#define XARCH_REQUIRE_FOREIGN()                                                       \
    do {                                                                              \
        if (!::xarch::test::ForeignEmulators::runnable()) {                           \
            GTEST_SKIP() << "linux/arm64 and linux/arm/v7 need QEMU in binfmt_misc, " \
                            "which only root can register";                           \
        }                                                                             \
    } while (false)

}  // namespace xarch::test
