// SPDX-License-Identifier: Apache-2.0
// The Sandbox test fixture: a busybox rootfs folder per test, made from Debian's busybox-static
// (as root; skipped otherwise), shared by the executor's test files.
#pragma once

#include "executor/sandbox.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace xarch::executor::test {

namespace fs = std::filesystem;

inline std::string run_shell(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return output;
    }
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        output.append(buffer, got);
    }
    if (::pclose(pipe) != 0) {
        throw std::runtime_error("command failed: " + command + "\n" + output);
    }
    return output;
}

inline void write_text(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string quote(const fs::path& path) {
    return "'" + path.string() + "'";
}

// bin/busybox plus one symlink per applet, relative so that they resolve inside the root.
inline void add_applet_links(const fs::path& root) {
    std::istringstream applets(run_shell(quote(root / "bin/busybox") + " --list"));
    std::string applet;
    while (std::getline(applets, applet)) {
        if (!applet.empty() && applet != "busybox" && !fs::exists(root / "bin" / applet)) {
            fs::create_symlink("busybox", root / "bin" / applet);
        }
    }
}

// Every path under `root`, relative, without following symlinks.
inline std::set<std::string> tree(const fs::path& root) {
    std::set<std::string> paths;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        paths.insert(fs::relative(entry.path(), root).string());
    }
    return paths;
}

struct Lines {
    std::vector<std::pair<std::string, bool>> all;
    std::vector<std::string> stdout_lines() const {
        std::vector<std::string> out;
        for (const auto& [line, is_stderr] : all) {
            if (!is_stderr) {
                out.push_back(line);
            }
        }
        return out;
    }
};

class Sandbox : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (::geteuid() != 0) {
            return;
        }
        const char* data = std::getenv("XARCH_TEST_DATA_DIR");
        if (data == nullptr) {
            return;
        }
        data_dir_ = new fs::path(data);
        // The host's own busybox-static, fetched next to the foreign ones on first use.
        const std::string arch = run_shell("dpkg --print-architecture");
        const std::string host_arch = arch.substr(0, arch.find('\n'));
        auto find_deb = [&] {
            for (const auto& entry : fs::directory_iterator(*data_dir_)) {
                const auto name = entry.path().filename().string();
                if (name.starts_with("busybox-static_") &&
                    name.ends_with("_" + host_arch + ".deb")) {
                    return entry.path();
                }
            }
            return fs::path();
        };
        fs::create_directories(*data_dir_);
        fs::path deb = find_deb();
        if (deb.empty()) {
            run_shell("cd " + quote(*data_dir_) +
                      " && apt-get download -q busybox-static:" + host_arch + " 2>&1");
            deb = find_deb();
        }
        template_ = new fs::path(fs::temp_directory_path() /
                                 ("xarch-sandbox-template-" + std::to_string(::getpid())));
        fs::remove_all(*template_);
        fs::create_directories(*template_);
        run_shell("dpkg-deb -x " + quote(deb) + " " + quote(*template_));
        add_applet_links(*template_);
    }

    static void TearDownTestSuite() {
        if (template_ != nullptr) {
            fs::remove_all(*template_);
        }
        delete template_;
        delete data_dir_;
        template_ = nullptr;
        data_dir_ = nullptr;
    }

    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "the sandbox needs root (mount and PID namespaces); run as root";
        }
        ASSERT_NE(data_dir_, nullptr) << "XARCH_TEST_DATA_DIR is not set (run through ctest)";
        ASSERT_TRUE(fs::exists(*template_ / "bin/busybox"));
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        rootfs_ = fs::temp_directory_path() / ("xarch-sandbox-" + std::to_string(::getpid()) + "-" +
                                               test->test_suite_name() + "-" + test->name());
        fs::remove_all(rootfs_);
        fs::copy(*template_, rootfs_,
                 fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    }

    void TearDown() override {
        if (!rootfs_.empty()) {
            fs::remove_all(rootfs_);
        }
    }

    RunSpec spec(std::vector<std::string> args) {
        RunSpec spec;
        spec.rootfs = rootfs_;
        spec.args = std::move(args);
        spec.env = {"PATH=/bin"};
        spec.output = [this](std::string_view line, bool is_stderr) {
            lines_.all.emplace_back(std::string(line), is_stderr);
        };
        return spec;
    }

    RunResult run_spec(const RunSpec& spec) { return run(spec, token_); }

    static inline fs::path* data_dir_ = nullptr;
    static inline fs::path* template_ = nullptr;
    fs::path rootfs_;
    Lines lines_;
    util::CancelToken token_;
};

// The Sandbox fixture plus a scratch dir beside the rootfs for RUNs on an overlay: its root,
// upper and work dirs, and one more (`extra`: a host dir to mount, a top layer). The rootfs
// (busybox) serves as the base lower layer.
class OverlaySandbox : public Sandbox {
protected:
    OverlaySandbox(std::string extra, bool userxattr)
        : extra_(std::move(extra)), userxattr_(userxattr) {}

    void SetUp() override {
        Sandbox::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        scratch_ = rootfs_.string() + "-scratch";
        fs::remove_all(scratch_);
        for (const std::string& dir :
             {std::string("root"), std::string("upper"), std::string("work"), extra_}) {
            fs::create_directories(scratch_ / dir);
        }
    }

    void TearDown() override {
        if (!scratch_.empty()) {
            fs::remove_all(scratch_);
        }
        Sandbox::TearDown();
    }

    fs::path upper() const { return scratch_ / "upper"; }
    fs::path extra() const { return scratch_ / extra_; }

    // `args` run on an overlay of `lowers`, topmost first.
    RunSpec overlay_spec(std::vector<std::string> args, std::vector<fs::path> lowers) {
        RunSpec run_spec = spec(std::move(args));
        run_spec.rootfs = scratch_ / "root";
        run_spec.overlay = OverlayRoot{std::move(lowers), upper(), scratch_ / "work", userxattr_};
        return run_spec;
    }

    fs::path scratch_;

private:
    std::string extra_;
    bool userxattr_;
};

}  // namespace xarch::executor::test
